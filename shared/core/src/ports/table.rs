//! The table port: a narrow, DynamoDB-shaped interface over one table with generic keys.
//!
//! Every item has string keys `pk` and `sk`; two overloaded, sparse secondary indexes use
//! `gsi1pk`/`gsi1sk` and `gsi2pk`/`gsi2sk` (an item lacking either key of an index is not in
//! it); a numeric `ttl` attribute (epoch seconds) makes an item expire: expired items are
//! never returned by reads, though (as in DynamoDB, until its sweeper runs) conditions still
//! see them. Conditions and updates are typed values; the AWS adapter renders them to
//! expressions and the embedded adapter evaluates them. DynamoDB's limits (400 KB per item,
//! 100 items per transaction, one write per key per transaction) are checked here, before
//! either adapter runs, so both fail alike.

use async_trait::async_trait;
use std::collections::{HashMap, HashSet};

pub use serde_dynamo::AttributeValue;

/// An item: attribute name to value.
pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "ttl";
pub const VERSION: &str = "version";
/// DynamoDB's maximum item size.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's maximum number of actions in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }

    /// The key of an item, if it has string `pk` and `sk` attributes.
    pub fn of(item: &Item) -> Option<Key> {
        match (item.get(PK), item.get(SK)) {
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
                Some(Key::new(pk.clone(), sk.clone()))
            }
            _ => None,
        }
    }
}

/// Which index a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

impl Index {
    /// The (partition, sort) attribute names of the index.
    pub fn key_names(self) -> (&'static str, &'static str) {
        match self {
            Index::Primary => (PK, SK),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
        }
    }

    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

/// A condition on the sort key of a query (string comparison, byte order, as DynamoDB).
#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    Eq(String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
    Between(String, String),
    BeginsWith(String),
}

impl SortCondition {
    pub fn matches(&self, sk: &str) -> bool {
        match self {
            SortCondition::Eq(v) => sk == v,
            SortCondition::Lt(v) => sk < v.as_str(),
            SortCondition::Le(v) => sk <= v.as_str(),
            SortCondition::Gt(v) => sk > v.as_str(),
            SortCondition::Ge(v) => sk >= v.as_str(),
            SortCondition::Between(a, b) => a.as_str() <= sk && sk <= b.as_str(),
            SortCondition::BeginsWith(p) => sk.starts_with(p.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Index,
    pub partition: String,
    pub sort: Option<SortCondition>,
    /// `true` = ascending sort key.
    pub forward: bool,
    pub limit: Option<u32>,
    /// The `cursor` of the previous page, as returned.
    pub cursor: Option<String>,
}

impl Query {
    pub fn partition(index: Index, partition: impl Into<String>) -> Self {
        Self { index, partition: partition.into(), sort: None, forward: true, limit: None, cursor: None }
    }

    pub fn sort(mut self, condition: SortCondition) -> Self {
        self.sort = Some(condition);
        self
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues after `cursor`; an empty one is no cursor (the first page), as
    /// `?cursor=` reads.
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor.filter(|c| !c.is_empty());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow; pass it back as [`Query::cursor`].
    pub cursor: Option<String>,
}

/// A typed write condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No item exists under the key.
    NotExists,
    /// An item exists under the key.
    Exists,
    AttributeExists(String),
    AttributeNotExists(String),
    Equals(String, AttributeValue),
    NotEquals(String, AttributeValue),
    /// The attribute exists, has the value's type, and compares as asked (numbers by
    /// value, strings by bytes). A missing attribute never compares.
    Compare(String, Cmp, AttributeValue),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    /// Optimistic concurrency: the item's `version` is `version`.
    pub fn version_is(version: u64) -> Self {
        Condition::Equals(VERSION.to_owned(), AttributeValue::N(version.to_string()))
    }

    pub fn equals(name: &str, value: AttributeValue) -> Self {
        Condition::Equals(name.to_owned(), value)
    }

    /// No live item under the key at `now_epoch_seconds`: none, or one whose `ttl` has
    /// passed (reads no longer see it, but DynamoDB deletes expired items only within a
    /// day or two, so `NotExists` alone would fail on it).
    pub fn absent_at(now_epoch_seconds: i64) -> Self {
        Condition::Or(vec![
            Condition::NotExists,
            Condition::Compare(TTL.to_owned(), Cmp::Le, AttributeValue::N(now_epoch_seconds.to_string())),
        ])
    }
}

/// A comparison operator of [`Condition::Compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A typed update operation.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOp {
    Set(String, AttributeValue),
    /// Set only when the attribute is absent (`if_not_exists`).
    SetIfAbsent(String, AttributeValue),
    /// Add a number to a numeric attribute (absent counts as 0).
    Add(String, i64),
    Remove(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransactItem {
    Put { item: Item, condition: Option<Condition> },
    Update { key: Key, ops: Vec<UpdateOp>, condition: Option<Condition> },
    Delete { key: Key, condition: Option<Condition> },
    ConditionCheck { key: Key, condition: Condition },
}

impl TransactItem {
    pub fn key(&self) -> Option<Key> {
        match self {
            TransactItem::Put { item, .. } => Key::of(item),
            TransactItem::Update { key, .. }
            | TransactItem::Delete { key, .. }
            | TransactItem::ConditionCheck { key, .. } => Some(key.clone()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The write's condition did not hold; nothing was written.
    #[error("the write's condition did not hold")]
    ConditionFailed,
    /// A transaction was cancelled because the condition of the item at `index` (0-based,
    /// in the order given) did not hold; nothing was written.
    #[error("transaction cancelled: the condition of item {index} did not hold")]
    TransactionConditionFailed { index: usize },
    #[error("item is {size} bytes, over DynamoDB's 400 KB limit")]
    ItemTooLarge { size: usize },
    #[error("a transaction has {count} items, over the limit of 100")]
    TooManyTransactionItems { count: usize },
    #[error("a transaction writes the same key twice")]
    DuplicateTransactionKey,
    /// The query's cursor is not one this table returned (a caller's mistake, typically).
    #[error("the cursor is not one this table returned")]
    BadCursor,
    #[error("invalid table request: {0}")]
    Invalid(String),
    #[error("table storage failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl TableError {
    /// Whether a write's (or a transaction's) condition did not hold: nothing was written.
    pub fn is_condition_failure(&self) -> bool {
        matches!(self, TableError::ConditionFailed | TableError::TransactionConditionFailed { .. })
    }
}

#[async_trait]
pub trait Table: Send + Sync {
    /// The item under `key`, unless absent or expired.
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError>;
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError>;
    /// Applies `ops` (creating the item if absent, as DynamoDB does) and returns the new item.
    async fn update(
        &self,
        key: &Key,
        ops: Vec<UpdateOp>,
        condition: Option<Condition>,
    ) -> Result<Item, TableError>;
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), TableError>;
    async fn query(&self, query: Query) -> Result<Page, TableError>;
    /// All or nothing.
    async fn transact(&self, items: Vec<TransactItem>) -> Result<(), TableError>;
}

/// DynamoDB's item size: attribute name lengths plus value sizes (UTF-8 bytes for strings,
/// bytes for binary, roughly one byte per two digits for numbers, one for booleans and
/// nulls, and three bytes of overhead plus one per element for lists and maps).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
    }
}

/// Checks an item about to be written: string keys present, index keys strings, size.
pub fn validate_item(item: &Item) -> Result<(), TableError> {
    if Key::of(item).is_none() {
        return Err(TableError::Invalid("an item needs string attributes pk and sk".into()));
    }
    for index in [Index::Gsi1, Index::Gsi2] {
        let (p, s) = index.key_names();
        for name in [p, s] {
            if let Some(v) = item.get(name)
                && !matches!(v, AttributeValue::S(_))
            {
                return Err(TableError::Invalid(format!("index key {name} must be a string")));
            }
        }
    }
    if let Some(v) = item.get(TTL)
        && !matches!(v, AttributeValue::N(_))
    {
        return Err(TableError::Invalid("ttl must be a number of epoch seconds".into()));
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(TableError::ItemTooLarge { size });
    }
    Ok(())
}

/// Checks update operations: keys are never updated, names are not empty.
pub fn validate_ops(ops: &[UpdateOp]) -> Result<(), TableError> {
    if ops.is_empty() {
        return Err(TableError::Invalid("an update needs at least one operation".into()));
    }
    for op in ops {
        let name = match op {
            UpdateOp::Set(n, _) | UpdateOp::SetIfAbsent(n, _) | UpdateOp::Add(n, _) | UpdateOp::Remove(n) => {
                n
            }
        };
        if name == PK || name == SK {
            return Err(TableError::Invalid("the key attributes cannot be updated".into()));
        }
        if name.is_empty() {
            return Err(TableError::Invalid("attribute names cannot be empty".into()));
        }
    }
    Ok(())
}

/// Checks a transaction against DynamoDB's limits before any adapter runs it.
pub fn validate_transaction(items: &[TransactItem]) -> Result<(), TableError> {
    if items.is_empty() {
        return Err(TableError::Invalid("a transaction needs at least one item".into()));
    }
    if items.len() > MAX_TRANSACTION_ITEMS {
        return Err(TableError::TooManyTransactionItems { count: items.len() });
    }
    let mut seen = HashSet::new();
    for item in items {
        let key = item
            .key()
            .ok_or_else(|| TableError::Invalid("an item needs string attributes pk and sk".into()))?;
        if !seen.insert(key) {
            return Err(TableError::DuplicateTransactionKey);
        }
        match item {
            TransactItem::Put { item, .. } => validate_item(item)?,
            TransactItem::Update { ops, .. } => validate_ops(ops)?,
            _ => {}
        }
    }
    Ok(())
}

/// Whether an item has expired at `now_epoch_seconds` (its `ttl` is not after now).
pub fn is_expired(item: &Item, now_epoch_seconds: i64) -> bool {
    match item.get(TTL) {
        Some(AttributeValue::N(n)) => {
            n.parse::<f64>().map(|t| t <= now_epoch_seconds as f64).unwrap_or(false)
        }
        _ => false,
    }
}

/// Small helpers to read and build attribute values.
pub mod attr {
    use super::{AttributeValue, Item};

    pub fn s(value: impl Into<String>) -> AttributeValue {
        AttributeValue::S(value.into())
    }

    pub fn n(value: impl ToString) -> AttributeValue {
        AttributeValue::N(value.to_string())
    }

    pub fn b(value: bool) -> AttributeValue {
        AttributeValue::Bool(value)
    }

    pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
        match item.get(name) {
            Some(AttributeValue::S(s)) => Some(s),
            _ => None,
        }
    }

    pub fn get_n(item: &Item, name: &str) -> Option<i64> {
        match item.get(name) {
            Some(AttributeValue::N(n)) => n.parse().ok(),
            _ => None,
        }
    }
}
