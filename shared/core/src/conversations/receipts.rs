//! Read receipts: when an agent assumes a session, the contact's last message is marked
//! read at the provider (PRODUCT.md §3).

use crate::deps::{Deps, Reaction};
use crate::error::ServiceResult;
use crate::events::DomainEvent;
use crate::jobs::OutboundJob;
use crate::ports::OutgoingMessage;
use crate::queues;

/// Queues the read receipt of the contact's last message when a session is assumed. The
/// FIFO deduplication id (`read:<provider id>`) makes a repeated event send it once.
pub struct ReadReceiptOnAssume;

#[async_trait::async_trait]
impl Reaction for ReadReceiptOnAssume {
    fn name(&self) -> &'static str {
        "conversations.read_receipt"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::SessionAssumed {
            account_id,
            channel_id,
            contact_id,
            last_inbound_provider_id: Some(provider_id),
            ..
        } = event
        else {
            return Ok(());
        };
        let job = OutboundJob::ReadReceipt {
            account_id: account_id.clone(),
            channel_id: channel_id.clone(),
            provider_id: provider_id.clone(),
        };
        let message = OutgoingMessage::new(serde_json::to_string(&job)?)
            .group(format!("{channel_id}:{contact_id}"))
            .dedup(format!("read:{provider_id}"));
        deps.queue.send(queues::OUTBOUND, message).await?;
        Ok(())
    }
}
