//! The `hooks` function: outbound webhooks to integrators — the `hooks` queue's jobs:
//! publish an event to the account's endpoints (`atende_core::webhooks::delivery::publish`),
//! make one signed attempt at a delivery (`atende_core::webhooks::delivery::attempt`).

use atende_core::jobs::WebhookJob;
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `hooks` function: standard `hooks` queue, 5 jobs per invocation (each attempt may
/// take the 15 s timeout).
pub fn function() -> QueueFunction {
    QueueFunction::new(
        "hooks",
        atende_core::queues::HOOKS,
        5,
        |ctx, job| async move { handle(&ctx, job).await },
    )
}

pub async fn handle(ctx: &AppContext, job: WebhookJob) -> anyhow::Result<()> {
    use anyhow::Context;
    use atende_core::webhooks::delivery;
    match job {
        WebhookJob::Publish { account_id, event } => delivery::publish(&ctx.deps, &account_id, &event)
            .await
            .with_context(|| format!("publishing event {}", event.id))?,
        WebhookJob::Deliver { account_id, endpoint_id, event_id, attempts } => {
            delivery::attempt(&ctx.deps, &account_id, &endpoint_id, &event_id, attempts)
                .await
                .with_context(|| format!("delivering event {event_id} to endpoint {endpoint_id}"))?
        }
    }
    Ok(())
}
