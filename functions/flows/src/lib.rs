//! The `flows` function: the `flows` queue's jobs — one input (a run's start, a customer's
//! message, a timer) applied to a session's flow run (`atende_core::flows::runs`).

use atende_core::jobs::FlowJob;
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `flows` function: FIFO `flows` queue (one group per session), 10 jobs per invocation.
pub fn function() -> QueueFunction {
    QueueFunction::new(
        "flows",
        atende_core::queues::FLOWS,
        10,
        |ctx, job| async move { handle(&ctx, job).await },
    )
}

pub async fn handle(ctx: &AppContext, job: FlowJob) -> anyhow::Result<()> {
    atende_core::flows::runs::apply(&ctx.deps, &job).await?;
    Ok(())
}
