//! The `inbound` function: applies provider events (FIFO per channel + contact).

use atende_core::conversations::events::InboundEvent;
use atende_core::conversations::inbound::{self, Applied};
use atende_runtime::AppContext;

/// One event; an error means "retry this message" (the queue redelivers it).
pub async fn handle(ctx: &AppContext, event: InboundEvent) -> anyhow::Result<()> {
    let applied = inbound::apply(&ctx.deps, event).await?;
    match &applied {
        Applied::Stored { message_id, session_id, new_session } => {
            tracing::info!(message_id, session_id, new_session, "inbound message stored")
        }
        other => tracing::debug!(?other, "inbound event applied"),
    }
    Ok(())
}
