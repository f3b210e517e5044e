//! The scheduler tick, locally: what EventBridge's `rate(1 minute)` does in AWS, at a
//! configurable interval (`ATENDE_TICK_MS`). Today it sweeps expired table items, as
//! DynamoDB's TTL does in AWS; the timer mechanism adds its dispatch here.

use atende_embedded::SqliteTable;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(table: SqliteTable, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
        match table.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "expired items swept"),
            Err(e) => tracing::error!(error = %e, "sweeping expired items failed"),
        }
    }
}
