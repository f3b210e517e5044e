//! The `send` function: delivers outbound messages and read receipts.

use atende_core::conversations::delivery::{self, Outcome};
use atende_core::conversations::events::OutboundJob;
use atende_runtime::AppContext;
use atende_runtime::batch::RetryAfter;

pub async fn handle(ctx: &AppContext, job: OutboundJob) -> anyhow::Result<()> {
    match delivery::run(&ctx.deps, job).await? {
        Outcome::Done => Ok(()),
        Outcome::RetryAfter(after) => Err(RetryAfter(after).into()),
        Outcome::Retry(reason) => Err(anyhow::anyhow!(reason)),
    }
}
