//! Opening SQLite the way every embedded adapter needs it: one writer thread that commits
//! many requests' writes together (group commit), and a small pool of read connections.
//!
//! **Group commit.** Every write request is a job sent to the database's writer thread. The
//! thread takes every job waiting (up to [`MAX_GROUP`]), opens one transaction, runs each
//! job inside its own savepoint (a job that fails rolls back its own changes only, so a
//! failed condition in one request never touches another's), commits once, and only then
//! answers each request. A caller is therefore never told "done" before its own writes are
//! committed, and a crash loses only requests nobody was answered for. Under load one
//! commit carries dozens of requests; alone, a request is committed by itself at once
//! (the thread never waits for company).
//!
//! **Checkpoints** (copying the WAL into the database file, with an fsync) run on their own
//! thread and connection four times a second, out of the writer's way: done by the writer,
//! as SQLite does by default, they stalled every write for a copy and an fsync. A writer
//! that never pauses starves them, though, so the writer itself empties the WAL (a short
//! TRUNCATE checkpoint between two groups) whenever it passes `WAL_LIMIT`.
//!
//! **Reads** run on their own connections (WAL lets readers proceed while the writer
//! writes) and see every commit that answered before they started.
//!
//! rusqlite and r2d2-style pools give connections, not this batching, so the writer loop
//! is written here (about a hundred lines).

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The most write requests one commit carries.
pub(crate) const MAX_GROUP: usize = 256;
/// Reads running at once, each on its own connection and blocking thread (more wait their
/// turn: unbounded, a burst of reads opened hundreds of connections, each with its own page
/// cache).
const READERS: usize = 8;
/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// The WAL's size past which the writer empties it (see [`keep_wal_bounded`]).
const WAL_LIMIT: u64 = 64 * 1024 * 1024;

/// A write job: runs on the writer's connection inside its savepoint and tells whether its
/// changes are kept; the returned reply is called with the commit's outcome.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Result<(), BackendError>) + Send>;

/// A database: its writer thread and its readers.
#[derive(Clone)]
pub(crate) struct Shared {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
    reading: Arc<tokio::sync::Semaphore>,
    /// Dropped with the database: the checkpointer then stops.
    _checkpointer: mpsc::Sender<()>,
}

fn connect(path: &Path, flags: OpenFlags) -> anyhow::Result<Connection> {
    let conn =
        Connection::open_with_flags(path, flags).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    Ok(conn)
}

/// Opens (creating if needed) a database in WAL mode. `synchronous=NORMAL` in WAL mode
/// keeps every committed transaction across a process crash (kill -9): the WAL is written
/// before commit returns; only a power loss could drop the last commits.
pub(crate) fn open(path: &Path, schema: &str) -> anyhow::Result<Shared> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let conn = connect(path, OpenFlags::default())?;
    conn.pragma_update(None, "journal_mode", "WAL").context("enabling WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.execute_batch(schema).context("creating the schema")?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("db").to_owned();
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name(format!("sqlite-writer:{name}"))
        .spawn({
            let wal = wal_path(path);
            move || write_loop(conn, rx, &wal)
        })
        .context("starting the writer thread")?;
    let checkpoints = connect(path, OpenFlags::default())?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(format!("sqlite-checkpoint:{name}"))
        .spawn(move || checkpoint_loop(checkpoints, stopped))
        .context("starting the checkpoint thread")?;
    Ok(Shared {
        inner: Arc::new(Inner {
            path: path.to_owned(),
            writer: tx,
            readers: Mutex::new(Vec::new()),
            reading: Arc::new(tokio::sync::Semaphore::new(READERS)),
            _checkpointer: stop,
        }),
    })
}

/// Copies the WAL into the database every `CHECKPOINT_EVERY` (PASSIVE: never waits for, nor
/// blocks, the writer or the readers) until the database is dropped.
fn checkpoint_loop(conn: Connection, stopped: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "an embedded database checkpoint failed; the next one retries");
        }
    }
    // A last full checkpoint, so a clean stop leaves a small WAL.
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

/// The writer thread: one transaction per group of waiting jobs, each job in a savepoint.
/// It ends when every handle to the database is dropped.
fn write_loop(conn: Connection, jobs: mpsc::Receiver<Job>, wal: &Path) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let replies = run_group(&conn, group);
        let outcome = conn.execute_batch("COMMIT").map_err(backend);
        if outcome.is_err() {
            // Whatever the failure, leave no transaction open for the next group.
            let _ = conn.execute_batch("ROLLBACK");
        }
        for reply in replies {
            reply(outcome.clone());
        }
        keep_wal_bounded(&conn, wal);
    }
}

fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The WAL grows without bound when checkpoints never catch up with a writer that never
/// pauses (SQLite's "checkpoint starvation"): the background checkpointer copies pages
/// without stopping anyone, but only the writer, between two groups, can finish the job.
/// Past `WAL_LIMIT` it runs a TRUNCATE checkpoint, short because the background one has
/// already copied nearly everything: it waits for the readers of older snapshots (reads
/// are short), copies the rest and empties the WAL.
fn keep_wal_bounded(conn: &Connection, wal: &Path) {
    let size = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
    if size > WAL_LIMIT
        && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    {
        tracing::warn!(error = %e, "the embedded database's WAL could not be emptied; retried after the next commit");
    }
}

fn run_group(conn: &Connection, group: Vec<Job>) -> Vec<Reply> {
    let mut replies = Vec::with_capacity(group.len());
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // The jobs never ran: each is answered with the failure by dropping its reply
        // sender (see `write`), which the caller reads as a backend error.
        tracing::error!(error = %e, "the embedded database refused a transaction");
        return replies;
    }
    for job in group {
        if conn.execute_batch("SAVEPOINT job").is_err() {
            continue; // dropped: the caller gets a backend error
        }
        // A panicking job must not take the writer down with it: its savepoint is rolled
        // back and its caller sees a backend error (its reply sender is dropped).
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))) {
            Ok((keep, reply)) => {
                if !keep {
                    let _ = conn.execute_batch("ROLLBACK TO job");
                }
                let _ = conn.execute_batch("RELEASE job");
                replies.push(reply);
            }
            Err(_) => {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            }
        }
    }
    replies
}

/// Runs `f` in the next group commit; its writes are kept when it returns `Ok` and the
/// answer comes once they are committed.
pub(crate) async fn write<T, E, F>(shared: &Shared, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<BackendError> + Send + 'static,
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
    let job: Job = Box::new(move |conn| {
        let result = f(conn);
        let keep = result.is_ok();
        let reply: Reply = Box::new(move |committed| {
            let _ = tx.send(match committed {
                Ok(()) => result,
                Err(e) => Err(E::from(e)),
            });
        });
        (keep, reply)
    });
    let sent = shared.inner.writer.send(job);
    if sent.is_err() {
        return Err(E::from(BackendError("the embedded database's writer has stopped".into())));
    }
    rx.await.map_err(|_| E::from(BackendError("the embedded database did not run a write".into())))?
}

/// Runs `f` on a read connection, off the async runtime's worker threads.
pub(crate) async fn read<T, E, F>(shared: &Shared, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<BackendError> + Send + 'static,
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
{
    let shared = shared.clone();
    let turn = shared.inner.reading.clone().acquire_owned().await;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let idle = shared.inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => connect(
                &shared.inner.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| E::from(backend(format!("{e:#}"))))?,
        };
        let result = f(&conn);
        let mut readers = shared.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        readers.push(conn);
        result
    })
    .await
    .map_err(|e| E::from(BackendError(e.to_string())))?
}

/// A failure of the storage itself, boxed into the port's `Backend` case.
#[derive(Debug, Clone)]
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
