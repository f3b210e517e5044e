//! The table port on SQLite. One row per item: key columns for the primary key and both
//! sparse indexes (partial SQL indexes hold only rows having both index keys), the `ttl`
//! as a column so expired rows are filtered in SQL, and the item as DynamoDB JSON.

use crate::condition::{apply, holds};
use crate::sqlite::{self, Shared, backend, read, write};
use async_trait::async_trait;
use atende_core::ports::table::{
    self, Condition, Index, Item, Key, Page, Query, SortCondition, TransactItem, UpdateOp,
};
use atende_core::ports::{AttributeValue, Clock, TableError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use std::path::Path;
use std::sync::Arc;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT, gsi1sk TEXT,
    gsi2pk TEXT, gsi2sk TEXT,
    ttl INTEGER,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk)
    WHERE gsi1pk IS NOT NULL AND gsi1sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk)
    WHERE gsi2pk IS NOT NULL AND gsi2sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

#[derive(Clone)]
pub struct SqliteTable {
    conn: Shared,
    clock: Arc<dyn Clock>,
}

impl SqliteTable {
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Ok(Self { conn: sqlite::open(path, SCHEMA)?, clock })
    }

    /// Deletes expired items, as DynamoDB's TTL sweeper does; returns how many.
    pub async fn purge_expired(&self) -> Result<usize, TableError> {
        let now = self.clock.now().timestamp();
        write(&self.conn, move |c| {
            c.execute("DELETE FROM items WHERE ttl IS NOT NULL AND ttl <= ?1", [now])
                .map_err(|e| TableError::from(backend(e)))
        })
        .await
    }
}

fn load(conn: &Connection, key: &Key) -> Result<Option<Item>, TableError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| s.query_row(params![key.pk, key.sk], |r| r.get(0)).optional())
        .map_err(backend)?;
    body.map(|b| decode(&b)).transpose()
}

fn decode(body: &str) -> Result<Item, TableError> {
    serde_json::from_str(body).map_err(|e| TableError::from(backend(format!("corrupt item: {e}"))))
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

fn ttl_of(item: &Item) -> Option<i64> {
    match item.get(table::TTL) {
        Some(AttributeValue::N(n)) => n.parse::<f64>().ok().map(|t| t as i64),
        _ => None,
    }
}

fn store(conn: &Connection, item: &Item) -> Result<(), TableError> {
    table::validate_item(item)?;
    let key = Key::of(item).ok_or_else(|| TableError::Invalid("an item needs pk and sk".into()))?;
    let body = serde_json::to_string(item).map_err(backend)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, ttl, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            key.pk,
            key.sk,
            string_attr(item, "gsi1pk"),
            string_attr(item, "gsi1sk"),
            string_attr(item, "gsi2pk"),
            string_attr(item, "gsi2sk"),
            ttl_of(item),
            body
        ])
    })
    .map_err(backend)?;
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> Result<(), TableError> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| s.execute(params![key.pk, key.sk]))
        .map_err(backend)?;
    Ok(())
}

fn updated(current: Option<Item>, key: &Key, ops: &[UpdateOp]) -> Result<Item, TableError> {
    let mut item = current.unwrap_or_else(|| {
        Item::from([
            (table::PK.to_owned(), AttributeValue::S(key.pk.clone())),
            (table::SK.to_owned(), AttributeValue::S(key.sk.clone())),
        ])
    });
    apply(&mut item, ops)?;
    Ok(item)
}

fn check(condition: Option<&Condition>, current: Option<&Item>) -> bool {
    condition.is_none_or(|c| holds(c, current))
}

/// The position after the last item of a page, in index order.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor {
    isk: String,
    pk: String,
    sk: String,
}

fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

fn decode_cursor(raw: &str) -> Result<Cursor, TableError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TableError::BadCursor)
}

fn run_query(conn: &Connection, query: &Query, now: i64) -> Result<Page, TableError> {
    let (pcol, scol) = query.index.key_names();
    let mut sql = format!("SELECT pk, sk, {scol}, body FROM items WHERE {pcol} = ?");
    let mut args: Vec<Value> = vec![Value::Text(query.partition.clone())];
    if query.index != Index::Primary {
        sql.push_str(&format!(" AND {scol} IS NOT NULL"));
    }
    match &query.sort {
        None => {}
        Some(SortCondition::Eq(v)) => push(&mut sql, &mut args, &format!(" AND {scol} = ?"), v),
        Some(SortCondition::Lt(v)) => push(&mut sql, &mut args, &format!(" AND {scol} < ?"), v),
        Some(SortCondition::Le(v)) => push(&mut sql, &mut args, &format!(" AND {scol} <= ?"), v),
        Some(SortCondition::Gt(v)) => push(&mut sql, &mut args, &format!(" AND {scol} > ?"), v),
        Some(SortCondition::Ge(v)) => push(&mut sql, &mut args, &format!(" AND {scol} >= ?"), v),
        Some(SortCondition::Between(a, b)) => {
            push(&mut sql, &mut args, &format!(" AND {scol} >= ?"), a);
            push(&mut sql, &mut args, &format!(" AND {scol} <= ?"), b);
        }
        Some(SortCondition::BeginsWith(p)) => {
            // A range the index can seek, not a scan to the partition's end: every key
            // starting with `p` sorts at or after `p` and before its successor.
            push(&mut sql, &mut args, &format!(" AND {scol} >= ?"), p);
            // No successor (an empty prefix, or one of only the highest character): every
            // key at or after `p` starts with it, so the lower bound alone is exact.
            if let Some(end) = successor(p) {
                push(&mut sql, &mut args, &format!(" AND {scol} < ?"), &end);
            }
        }
    }
    if let Some(raw) = &query.cursor {
        let c = decode_cursor(raw)?;
        let op = if query.forward { ">" } else { "<" };
        sql.push_str(&format!(" AND ({scol}, pk, sk) {op} (?, ?, ?)"));
        args.extend([Value::Text(c.isk), Value::Text(c.pk), Value::Text(c.sk)]);
    }
    sql.push_str(" AND (ttl IS NULL OR ttl > ?)");
    args.push(Value::Integer(now));
    let dir = if query.forward { "ASC" } else { "DESC" };
    sql.push_str(&format!(" ORDER BY {scol} {dir}, pk {dir}, sk {dir}"));
    let limit = query.limit.map(|l| l.max(1) as i64);
    if let Some(l) = limit {
        sql.push_str(" LIMIT ?");
        args.push(Value::Integer(l + 1));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(backend)?;
    let mut found: Vec<(Cursor, String)> = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        let cursor = Cursor {
            pk: row.get(0).map_err(backend)?,
            sk: row.get(1).map_err(backend)?,
            isk: row.get(2).map_err(backend)?,
        };
        found.push((cursor, row.get(3).map_err(backend)?));
    }
    let more = limit.is_some_and(|l| found.len() as i64 > l);
    if more {
        found.pop();
    }
    let cursor = if more { found.last().map(|(c, _)| encode_cursor(c)) } else { None };
    let items = found.iter().map(|(_, body)| decode(body)).collect::<Result<_, _>>()?;
    Ok(Page { items, cursor })
}

/// The smallest string greater than every string starting with `prefix` (UTF-8 sorts by
/// code point, as SQLite's binary collation compares): the prefix with its last character
/// incremented (dropping characters that cannot be). `None` when there is none (an empty
/// prefix, or one of only the highest character).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn push(sql: &mut String, args: &mut Vec<Value>, clause: &str, value: &str) {
    sql.push_str(clause);
    args.push(Value::Text(value.to_owned()));
}

#[async_trait]
impl atende_core::ports::Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let key = key.clone();
        let now = self.clock.now().timestamp();
        read(&self.conn, move |c| Ok(load(c, &key)?.filter(|item| !table::is_expired(item, now)))).await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        table::validate_item(&item)?;
        write(&self.conn, move |conn| {
            let key = Key::of(&item).ok_or_else(|| TableError::Invalid("an item needs pk and sk".into()))?;
            if !check(condition.as_ref(), load(conn, &key)?.as_ref()) {
                return Err(TableError::ConditionFailed);
            }
            store(conn, &item)?;
            Ok(())
        })
        .await
    }

    async fn update(
        &self,
        key: &Key,
        ops: Vec<UpdateOp>,
        condition: Option<Condition>,
    ) -> Result<Item, TableError> {
        table::validate_ops(&ops)?;
        let key = key.clone();
        write(&self.conn, move |conn| {
            let current = load(conn, &key)?;
            if !check(condition.as_ref(), current.as_ref()) {
                return Err(TableError::ConditionFailed);
            }
            let item = updated(current, &key, &ops)?;
            store(conn, &item)?;
            Ok(item)
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), TableError> {
        let key = key.clone();
        write(&self.conn, move |conn| {
            if !check(condition.as_ref(), load(conn, &key)?.as_ref()) {
                return Err(TableError::ConditionFailed);
            }
            remove(conn, &key)?;
            Ok(())
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        let now = self.clock.now().timestamp();
        read(&self.conn, move |c| run_query(c, &query, now)).await
    }

    async fn transact(&self, items: Vec<TransactItem>) -> Result<(), TableError> {
        table::validate_transaction(&items)?;
        write(&self.conn, move |conn| {
            // Check every condition first, then write: all or nothing (the job's savepoint
            // undoes a half-done transaction).
            let mut writes: Vec<(Key, Option<Item>)> = Vec::with_capacity(items.len());
            for (index, action) in items.iter().enumerate() {
                let key =
                    action.key().ok_or_else(|| TableError::Invalid("an item needs pk and sk".into()))?;
                let current = load(conn, &key)?;
                let (condition, write) = match action {
                    TransactItem::Put { item, condition } => (condition.as_ref(), Some(Some(item.clone()))),
                    TransactItem::Update { ops, condition, .. } => {
                        let next = updated(current.clone(), &key, ops)?;
                        table::validate_item(&next)?;
                        (condition.as_ref(), Some(Some(next)))
                    }
                    TransactItem::Delete { condition, .. } => (condition.as_ref(), Some(None)),
                    TransactItem::ConditionCheck { condition, .. } => (Some(condition), None),
                };
                if !check(condition, current.as_ref()) {
                    return Err(TableError::TransactionConditionFailed { index });
                }
                if let Some(write) = write {
                    writes.push((key, write));
                }
            }
            for (key, write) in writes {
                match write {
                    Some(item) => store(conn, &item)?,
                    None => remove(conn, &key)?,
                }
            }
            Ok(())
        })
        .await
    }
}
