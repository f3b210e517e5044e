//! The `transfer` function: routing jobs (new sessions, overflow) and the session timers
//! (keep-alive, scheduled messages) from the `routing` queue.

use atende_core::conversations::routing::{self, RoutingJob};
use atende_runtime::AppContext;

pub async fn handle(ctx: &AppContext, job: RoutingJob) -> anyhow::Result<()> {
    routing::run(&ctx.deps, job).await?;
    Ok(())
}
