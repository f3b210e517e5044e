//! The queue port on SQLite, behaving as SQS: FIFO group order (nothing of a group is handed
//! out while an earlier message of it is in flight), deduplication ids kept 5 minutes,
//! per-message delays on standard queues, visibility timeouts, and a move to `<name>-dlq`
//! at the receive after the `max_receives`-th. Time comes from the injected clock.

use crate::sqlite::{self, Shared, backend, read, write};
use async_trait::async_trait;
use atende_core::ports::queue::{self, DEDUPLICATION_WINDOW, OutgoingMessage, QueueSpec, ReceivedMessage};
use atende_core::ports::{Clock, Ids, QueueError};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    grp TEXT,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_order ON messages (queue, seq);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_at);
CREATE UNIQUE INDEX IF NOT EXISTS messages_receipt ON messages (receipt) WHERE receipt IS NOT NULL;
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_id)
) WITHOUT ROWID;
";

/// The dead-letter queue of a queue.
pub fn dlq_name(queue: &str) -> String {
    format!("{queue}-dlq")
}

#[derive(Clone)]
pub struct SqliteQueue {
    conn: Shared,
    specs: Arc<HashMap<String, QueueSpec>>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

impl SqliteQueue {
    /// Opens the queue database with these queues (each gets its dead-letter queue).
    pub fn open(
        path: &Path,
        specs: Vec<QueueSpec>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
    ) -> anyhow::Result<Self> {
        let mut all = HashMap::new();
        for spec in specs {
            let dlq = QueueSpec {
                name: dlq_name(&spec.name),
                fifo: spec.fifo,
                max_receives: u32::MAX,
                visibility_timeout: spec.visibility_timeout,
            };
            all.insert(dlq.name.clone(), dlq);
            all.insert(spec.name.clone(), spec);
        }
        Ok(Self { conn: sqlite::open(path, SCHEMA)?, specs: Arc::new(all), clock, ids })
    }

    fn spec(&self, queue: &str) -> Result<QueueSpec, QueueError> {
        self.specs.get(queue).cloned().ok_or_else(|| QueueError::UnknownQueue(queue.to_owned()))
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// Makes every in-flight delivery visible again. The embedded queue has one consumer
    /// process, so at its start anything still in flight was orphaned by a crash: waiting
    /// out the visibility timeouts would only delay (and block FIFO groups). Returns how
    /// many messages came back. Delayed messages (never received) keep their delay.
    pub async fn recover_in_flight(&self) -> Result<usize, QueueError> {
        let now = self.now_ms();
        write(&self.conn, move |c| {
            c.execute(
                "UPDATE messages SET visible_at = ?1, receipt = NULL WHERE receipt IS NOT NULL AND visible_at > ?1",
                params![now],
            )
            .map_err(|e| QueueError::from(backend(e)))
        })
        .await
    }

    /// How long until the next hidden message of `queue` becomes visible (`None`: nothing
    /// hidden). A visible message may still wait behind a hidden one of its FIFO group.
    pub async fn next_visible_in(&self, queue: &str) -> Result<Option<Duration>, QueueError> {
        let (queue, now) = (queue.to_owned(), self.now_ms());
        read(&self.conn, move |c| {
            c.query_row(
                "SELECT MIN(visible_at) FROM messages WHERE queue = ?1 AND visible_at > ?2",
                params![queue, now],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map(|at| at.map(|at| Duration::from_millis((at - now) as u64)))
            .map_err(|e| QueueError::from(backend(e)))
        })
        .await
    }

    /// How many messages a queue holds (visible or not): for tests and health checks.
    pub async fn depth(&self, queue: &str) -> Result<u64, QueueError> {
        let queue = queue.to_owned();
        read(&self.conn, move |c| {
            c.query_row("SELECT COUNT(*) FROM messages WHERE queue = ?1", [queue], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| QueueError::from(backend(e)))
        })
        .await
    }
}

/// Milliseconds, rounded up: a wait of 0.25 ms must not become "now".
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i64::MAX)
}

fn insert(
    conn: &Connection,
    spec: &QueueSpec,
    id: &str,
    message: &OutgoingMessage,
    now: i64,
) -> Result<(), QueueError> {
    if spec.fifo {
        let dedup = queue::effective_dedup_id(message);
        let live: Option<i64> = conn
            .prepare_cached(
                "SELECT expires_at FROM dedup WHERE queue = ?1 AND dedup_id = ?2 AND expires_at > ?3",
            )
            .and_then(|mut s| s.query_row(params![spec.name, dedup, now], |r| r.get(0)).optional())
            .map_err(backend)?;
        if live.is_some() {
            // SQS accepts a duplicate within the window and delivers nothing new.
            return Ok(());
        }
        conn.prepare_cached("INSERT OR REPLACE INTO dedup (queue, dedup_id, expires_at) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![spec.name, dedup, now + ms(DEDUPLICATION_WINDOW)]))
            .map_err(backend)?;
    }
    let group = if spec.fifo { message.group.clone() } else { None };
    conn.prepare_cached(
        "INSERT INTO messages (queue, id, body, grp, visible_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![spec.name, id, message.body, group, now + ms(message.delay)]))
    .map_err(backend)?;
    Ok(())
}

struct Row {
    seq: i64,
    id: String,
    body: String,
    group: Option<String>,
    receive_count: u32,
}

/// The next visible messages after `after_seq`, in order. On a FIFO queue, messages of a
/// group with a hidden message (in flight, or delayed) are left out in SQL: scanning them
/// in Rust made a receive as slow as the backlog was long.
fn candidates(conn: &Connection, spec: &QueueSpec, after_seq: i64, now: i64) -> Result<Vec<Row>, QueueError> {
    const SCAN: i64 = 100;
    let sql = if spec.fifo {
        "SELECT seq, id, body, grp, receive_count FROM messages
          WHERE queue = ?1 AND seq > ?2 AND visible_at <= ?4
            AND (grp IS NULL OR grp NOT IN
                 (SELECT grp FROM messages WHERE queue = ?1 AND visible_at > ?4 AND grp IS NOT NULL))
          ORDER BY seq LIMIT ?3"
    } else {
        "SELECT seq, id, body, grp, receive_count FROM messages
          WHERE queue = ?1 AND seq > ?2 AND visible_at <= ?4 ORDER BY seq LIMIT ?3"
    };
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map(params![spec.name, after_seq, SCAN, now], |r| {
            Ok(Row {
                seq: r.get(0)?,
                id: r.get(1)?,
                body: r.get(2)?,
                group: r.get(3)?,
                receive_count: r.get(4)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|e| backend(e).into())
}

fn receive_in(
    conn: &Connection,
    spec: &QueueSpec,
    max: u32,
    visibility: Duration,
    now: i64,
    new_receipt: &dyn Fn() -> String,
) -> Result<Vec<ReceivedMessage>, QueueError> {
    let mut out = Vec::new();
    let dlq = dlq_name(&spec.name);
    let mut after_seq = 0;
    'scan: loop {
        let batch = candidates(conn, spec, after_seq, now)?;
        let Some(last) = batch.last() else { break };
        after_seq = last.seq;
        for row in batch {
            if out.len() as u32 >= max {
                break 'scan;
            }
            if row.receive_count >= spec.max_receives {
                conn.execute(
                    "UPDATE messages SET queue = ?1, receive_count = 0, receipt = NULL, visible_at = ?2,
                     seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages) WHERE seq = ?3",
                    params![dlq, now, row.seq],
                )
                .map_err(backend)?;
                continue;
            }
            let receipt = new_receipt();
            conn.execute(
                "UPDATE messages SET receive_count = receive_count + 1, receipt = ?1, visible_at = ?2 WHERE seq = ?3",
                params![receipt, now + ms(visibility), row.seq],
            )
            .map_err(backend)?;
            out.push(ReceivedMessage {
                id: row.id,
                receipt,
                body: row.body,
                group: row.group,
                receive_count: row.receive_count + 1,
            });
        }
    }
    Ok(out)
}

#[async_trait]
impl atende_core::ports::Queue for SqliteQueue {
    async fn send(&self, queue: &str, message: OutgoingMessage) -> Result<(), QueueError> {
        self.send_batch(queue, vec![message]).await
    }

    async fn send_batch(&self, queue: &str, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        let spec = self.spec(queue)?;
        for m in &messages {
            queue::validate_message(&spec, m)?;
        }
        let ids: Vec<String> = messages.iter().map(|_| self.ids.new_id()).collect();
        let now = self.now_ms();
        write(&self.conn, move |conn| {
            for (id, m) in ids.iter().zip(&messages) {
                insert(conn, &spec, id, m, now)?;
            }
            Ok(())
        })
        .await
    }

    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let spec = self.spec(queue)?;
        let max = max.clamp(1, queue::SQS_BATCH as u32);
        let now = self.now_ms();
        let ids = self.ids.clone();
        write(&self.conn, move |c| receive_in(c, &spec, max, visibility, now, &|| ids.new_id())).await
    }

    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        self.spec(queue)?;
        let (queue, receipt) = (queue.to_owned(), receipt.to_owned());
        write(&self.conn, move |c| {
            c.execute("DELETE FROM messages WHERE queue = ?1 AND receipt = ?2", params![queue, receipt])
                .map_err(|e| QueueError::from(backend(e)))?;
            Ok(())
        })
        .await
    }

    async fn release(&self, queue: &str, receipt: &str, after: Duration) -> Result<(), QueueError> {
        self.spec(queue)?;
        let (queue, receipt) = (queue.to_owned(), receipt.to_owned());
        let at = self.now_ms() + ms(after);
        write(&self.conn, move |c| {
            c.execute(
                "UPDATE messages SET visible_at = ?1 WHERE queue = ?2 AND receipt = ?3",
                params![at, queue, receipt],
            )
            .map_err(|e| QueueError::from(backend(e)))?;
            Ok(())
        })
        .await
    }
}
