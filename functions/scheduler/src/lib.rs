//! The `scheduler` function: fires due timers onto their queues. EventBridge runs it every
//! minute in AWS; the local runtime ticks it at `ATENDE_TICK_MS`.

use atende_core::time::timers;
use atende_runtime::AppContext;

/// The `scheduler` function: EventBridge every minute (locally, the runtime's tick).
pub fn function() -> atende_runtime::function::FunctionSpec {
    use atende_runtime::function::{FunctionSpec, Trigger};
    FunctionSpec { name: "scheduler", trigger: Trigger::Schedule { expression: "rate(1 minute)".into() } }
}

pub async fn tick(ctx: &AppContext) -> anyhow::Result<usize> {
    let fired = timers::fire_due(&ctx.deps).await?;
    if fired > 0 {
        tracing::info!(fired, "timers fired");
    }
    Ok(fired)
}
