//! The `inbound` function: applies provider events (FIFO per channel + contact).

use atende_core::conversations::events::InboundEvent;
use atende_core::conversations::inbound::{self, Applied};
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `inbound` function: FIFO `inbound` queue, 10 events per invocation.
pub fn function() -> QueueFunction {
    QueueFunction::new("inbound", atende_core::queues::INBOUND, 10, |ctx, event| async move {
        handle(&ctx, event).await
    })
}

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
