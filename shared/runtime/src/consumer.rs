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
    let received = queue.receive(name, 10, visibility).await?;
    let count = received.len();
    let by_id: HashMap<String, (String, u32)> =
        received.iter().map(|m| (m.id.clone(), (m.receipt.clone(), m.receive_count))).collect();
    let records = received.into_iter().map(|m| Record { id: m.id, body: m.body, group: m.group }).collect();
    let failed = run_batch(records, fifo, handler).await;
    for (id, (receipt, receives)) in &by_id {
        if failed.contains(id) {
            queue.release(name, receipt, backoff(*receives)).await?;
        } else {
            queue.ack(name, receipt).await?;
        }
    }
    Ok(count)
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
    let idle = Duration::from_millis(100);
    while !*shutdown.borrow() {
        let handled = match drain_once(&queue, &name, fifo, visibility, &handler).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(queue = %name, error = %format!("{e:#}"), "consumer round failed");
                0
            }
        };
        if handled == 0 {
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(256));
    }
}
