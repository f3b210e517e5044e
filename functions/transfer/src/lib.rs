//! The `transfer` function: the `routing` queue's jobs — routing (new sessions, overflow)
//! and the session timers (keep-alive, scheduled messages). This function owns the queue's
//! dispatch; each job runs in the feature that defines its behaviour.

use atende_core::conversations::imports;
use atende_core::jobs::RoutingJob;
use atende_core::routing;
use atende_core::time::{keep_alive, scheduled};
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `transfer` function: standard `routing` queue, 10 jobs per invocation.
pub fn function() -> QueueFunction {
    QueueFunction::new("transfer", atende_core::queues::ROUTING, 10, |ctx, job| async move {
        handle(&ctx, job).await
    })
}

pub async fn handle(ctx: &AppContext, job: RoutingJob) -> anyhow::Result<()> {
    let deps = &ctx.deps;
    match job {
        RoutingJob::NewSession { account_id, session_id } => {
            routing::route_new(deps, &account_id, &session_id).await?
        }
        RoutingJob::Overflow { account_id, session_id, seq } => {
            routing::overflow(deps, &account_id, &session_id, seq).await?
        }
        RoutingJob::KeepAlive { account_id, session_id, last_inbound_ms, closing } => {
            keep_alive::fire(deps, &account_id, &session_id, last_inbound_ms, closing).await?
        }
        RoutingJob::Scheduled { account_id, id, due_ms } => {
            scheduled::fire(deps, &account_id, &id, due_ms).await?
        }
        RoutingJob::ContactImport { account_id, import_id } => {
            imports::run(deps, &account_id, &import_id).await?
        }
        RoutingJob::EraseContact { account_id, contact_id } => {
            atende_core::privacy::erase(deps, &account_id, &contact_id).await?
        }
        // A change's events nobody published (see `atende_core::outbox`).
        RoutingJob::Publish { events } => deps.publish(&events).await?,
        RoutingJob::ReportExport { account_id, export_id } => {
            atende_core::reports::exports::run(deps, &account_id, &export_id).await?
        }
    }
    Ok(())
}
