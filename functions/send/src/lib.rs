//! The `send` function: delivers outbound messages and read receipts; and the `bulk`
//! function, the same delivery for campaign and sequence messages on their own queue.

use atende_core::conversations::delivery::{self, Outcome};
use atende_core::jobs::OutboundJob;
use atende_runtime::AppContext;
use atende_runtime::batch::RetryAfter;
use atende_runtime::function::QueueFunction;
use std::time::Duration;

/// Waits shorter than this (channel pacing) are waited out here rather than by a trip
/// through the queue, which would cost a receive and a poll each time.
const WAIT_HERE: Duration = Duration::from_millis(50);

/// The `send` function: FIFO `outbound` queue, 10 jobs per invocation.
pub fn function() -> QueueFunction {
    QueueFunction::new("send", atende_core::queues::OUTBOUND, 10, |ctx, job| async move {
        handle(&ctx, job).await
    })
}

/// The `bulk` function: FIFO `bulk` queue (campaign and sequence messages), 10 jobs per
/// invocation, the same handler: agents' messages on `outbound` never queue behind them.
pub fn bulk_function() -> QueueFunction {
    QueueFunction::new(
        "bulk",
        atende_core::queues::BULK,
        10,
        |ctx, job| async move { handle(&ctx, job).await },
    )
}

pub async fn handle(ctx: &AppContext, job: OutboundJob) -> anyhow::Result<()> {
    // A bulk message not yet due goes back to the queue at once: waiting here would hold
    // the batch, and an agent's message received behind it, for the campaign's pacing.
    let wait_here = if matches!(job, OutboundJob::Bulk { .. }) { Duration::ZERO } else { WAIT_HERE };
    for _ in 0..3 {
        let outcome = match &job {
            OutboundJob::Bulk { account_id, list, item } => {
                atende_core::campaigns::bulk::deliver(&ctx.deps, account_id, list, item).await?
            }
            other => delivery::run(&ctx.deps, other.clone()).await?,
        };
        match outcome {
            Outcome::Done => return Ok(()),
            Outcome::RetryAfter(after) if after <= wait_here => tokio::time::sleep(after).await,
            Outcome::RetryAfter(after) => return Err(RetryAfter(after).into()),
            Outcome::Retry(reason) => return Err(anyhow::anyhow!(reason)),
        }
    }
    // Still not our turn (busy channel, or a clock that is not wall time): back to the queue.
    Err(RetryAfter(Duration::from_millis(10)).into())
}
