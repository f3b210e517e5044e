//! The scheduler tick, locally: what EventBridge's `rate(1 minute)` does in AWS, at a
//! configurable interval (`ATENDE_TICK_MS`): fires due timers, and sweeps expired table
//! items of the embedded table as DynamoDB's TTL does in AWS.

use atende_embedded::SqliteTable;
use atende_runtime::AppContext;
use std::time::Duration;
use tokio::sync::watch;

pub(crate) async fn run(
    ctx: AppContext,
    table: Option<SqliteTable>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
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
        if let Err(e) = atende_scheduler::tick(&ctx).await {
            tracing::error!(error = %format!("{e:#}"), "the scheduler tick failed");
        }
        let Some(table) = &table else { continue };
        match table.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "expired items swept"),
            Err(e) => tracing::error!(error = %e, "sweeping expired items failed"),
        }
    }
}
