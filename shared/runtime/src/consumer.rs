//! The local runtime's queue consumer: what the SQS event source mapping does in AWS.
//! Receives batches, runs them through [`run_batch`], acks the successes and hides the
//! failures for a backoff that grows with each receive.

use crate::batch::{Record, run_batch};
use atende_core::ports::Queue;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a failed message waits before it is retried (1 s, 2 s, 4 s, ... up to 5 min).
pub fn backoff(receive_count: u32) -> Duration {
    Duration::from_secs(1u64 << receive_count.saturating_sub(1).min(8)).min(Duration::from_secs(300))
}

/// Runs one receive-process-ack round; returns how many messages it handled.
pub async fn drain_once<T, F, Fut>(
    queue: &Arc<dyn Queue>,
    name: &str,
    fifo: bool,
    visibility: Duration,
    handler: &F,
) -> anyhow::Result<usize>
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    Ok(drain_round(queue, name, fifo, visibility, handler).await?.0)
}

/// One round: how many messages it handled, and the soonest "retry after" among them.
async fn drain_round<T, F, Fut>(
    queue: &Arc<dyn Queue>,
    name: &str,
    fifo: bool,
    visibility: Duration,
    handler: &F,
) -> anyhow::Result<(usize, Option<Duration>)>
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let received = queue.receive(name, 10, visibility).await?;
    let count = received.len();
    let by_id: HashMap<String, (String, u32, String)> = received
        .iter()
        .map(|m| (m.id.clone(), (m.receipt.clone(), m.receive_count, m.body.clone())))
        .collect();
    let records = received.into_iter().map(|m| Record { id: m.id, body: m.body, group: m.group }).collect();
    let failed = run_batch(records, fifo, handler).await;
    let soonest = failed.iter().filter_map(|f| f.retry_after).min();
    // Acks and releases go out together (one group commit on the embedded queue).
    let settle = by_id.iter().map(|(id, (receipt, receives, body))| {
        let failure = failed.iter().find(|f| &f.id == id);
        async move {
            match failure {
                Some(f)
                    if f.poison
                        && crate::batch::to_dead_letters(queue.as_ref(), name, id, body).await.is_ok() =>
                {
                    queue.ack(name, receipt).await
                }
                Some(f) => {
                    queue.release(name, receipt, f.retry_after.unwrap_or_else(|| backoff(*receives))).await
                }
                None => queue.ack(name, receipt).await,
            }
        }
    });
    for settled in futures::future::join_all(settle).await {
        settled?;
    }
    Ok((count, soonest))
}

/// Consumes `name` until `shutdown` turns true; polls every `idle` when the queue is empty.
pub async fn consume<T, F, Fut>(
    queue: Arc<dyn Queue>,
    name: String,
    fifo: bool,
    visibility: Duration,
    handler: F,
    mut shutdown: watch::Receiver<bool>,
) where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let idle = Duration::from_millis(20);
    // A message told to retry soon (pacing, the send delay) is waited for exactly, not for
    // a whole idle period.
    let mut soonest: Option<Duration> = None;
    while !*shutdown.borrow() {
        let handled = match drain_round(&queue, &name, fifo, visibility, &handler).await {
            Ok((n, retry)) => {
                if retry.is_some() {
                    soonest = retry;
                }
                n
            }
            Err(e) => {
                tracing::error!(queue = %name, error = %format!("{e:#}"), "consumer round failed");
                0
            }
        };
        if handled == 0 {
            let nap = soonest.take().map_or(idle, |s| s.min(idle).max(Duration::from_millis(1)));
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atende_core::ports::{Clock, ManualClock, OutgoingMessage, UlidIds};
    use atende_embedded::SqliteQueue;
    use std::sync::Mutex;

    #[derive(serde::Deserialize)]
    struct Job {
        n: u32,
    }

    #[tokio::test]
    async fn successes_are_acked_failures_come_back_after_backoff_and_poison_goes_to_the_dlq_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_now();
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let sqlite = SqliteQueue::open(
            &dir.path().join("q.db"),
            atende_core::queues::all(),
            shared.clone(),
            Arc::new(UlidIds::new(shared)),
        )
        .unwrap();
        let queue: Arc<dyn Queue> = Arc::new(sqlite.clone());
        for body in [r#"{"n":1}"#, r#"{"n":2}"#, "garbage"] {
            queue.send("routing", OutgoingMessage::new(body)).await.unwrap();
        }
        let ran = Mutex::new(Vec::new());
        let handler = |job: Job| {
            ran.lock().unwrap().push(job.n);
            async move { if job.n == 2 { anyhow::bail!("not yet") } else { Ok(()) } }
        };
        let vis = Duration::from_secs(60);
        assert_eq!(drain_once(&queue, "routing", false, vis, &handler).await.unwrap(), 3);
        assert_eq!(
            drain_once(&queue, "routing", false, vis, &handler).await.unwrap(),
            0,
            "failures wait their backoff"
        );
        assert_eq!(sqlite.depth("routing-dlq").await.unwrap(), 1, "the poison went to the DLQ at once");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(drain_once(&queue, "routing", false, vis, &handler).await.unwrap(), 1, "job 2 is back");
        for _ in 0..10 {
            clock.advance(chrono::Duration::seconds(300));
            drain_once(&queue, "routing", false, vis, &handler).await.unwrap();
        }
        assert_eq!(ran.lock().unwrap().iter().filter(|n| **n == 1).count(), 1, "a success runs once");
        assert_eq!(sqlite.depth("routing").await.unwrap(), 0);
        assert_eq!(sqlite.depth("routing-dlq").await.unwrap(), 2, "job 2 reached the DLQ after its receives");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(256));
    }
}
