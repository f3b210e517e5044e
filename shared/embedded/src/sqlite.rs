//! Opening SQLite the way every embedded adapter needs it.

use anyhow::Context;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One connection behind a mutex: SQLite serialises writers anyway, and a single
/// connection makes every operation (transactions included) trivially serialisable.
pub(crate) type Shared = Arc<Mutex<Connection>>;

/// Opens (creating if needed) a database in WAL mode. `synchronous=NORMAL` in WAL mode
/// keeps every committed transaction across a process crash (kill -9): the WAL is written
/// before commit returns; only a power loss could drop the last commits.
pub(crate) fn open(path: &Path, schema: &str) -> anyhow::Result<Shared> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL").context("enabling WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.execute_batch(schema).context("creating the schema")?;
    Ok(Arc::new(Mutex::new(conn)))
}

/// Runs `f` on the connection off the async runtime's worker threads.
pub(crate) async fn with_conn<T, E, F>(shared: &Shared, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<BackendError> + Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
{
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = shared.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    })
    .await
    .map_err(|e| E::from(BackendError(e.to_string())))?
}

/// A failure of the storage itself, boxed into the port's `Backend` case.
#[derive(Debug)]
pub(crate) struct BackendError(pub String);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

impl From<BackendError> for atende_core::ports::TableError {
    fn from(e: BackendError) -> Self {
        atende_core::ports::TableError::Backend(Box::new(e))
    }
}

impl From<BackendError> for atende_core::ports::QueueError {
    fn from(e: BackendError) -> Self {
        atende_core::ports::QueueError::Backend(Box::new(e))
    }
}

pub(crate) fn backend(e: impl std::fmt::Display) -> BackendError {
    BackendError(e.to_string())
}
