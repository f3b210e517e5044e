//! The `send` function: delivers outbound messages and read receipts.

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

pub async fn handle(ctx: &AppContext, job: OutboundJob) -> anyhow::Result<()> {
    for _ in 0..3 {
        match delivery::run(&ctx.deps, job.clone()).await? {
            Outcome::Done => return Ok(()),
            Outcome::RetryAfter(after) if after <= WAIT_HERE => tokio::time::sleep(after).await,
            Outcome::RetryAfter(after) => return Err(RetryAfter(after).into()),
            Outcome::Retry(reason) => return Err(anyhow::anyhow!(reason)),
        }
    }
    // Still not our turn (busy channel, or a clock that is not wall time): back to the queue.
    Err(RetryAfter(Duration::from_millis(10)).into())
}
