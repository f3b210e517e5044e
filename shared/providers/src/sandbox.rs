//! The sandbox channel: sends go nowhere but are recorded (as sent messages), and the
//! sandbox answers like Meta would: a `delivered` and a `read` status come back through the
//! `inbound` queue, exactly as real statuses do.

use async_trait::async_trait;
use atende_core::conversations::events::{ChannelRef, DeliveryStatus, InboundEvent, StatusUpdate};
use atende_core::ports::{
    ChannelAccess, Clock, Ids, Messaging, OutboundRequest, OutgoingMessage, ProviderError, Queue,
};
use std::sync::Arc;

pub struct Sandbox {
    pub queue: Arc<dyn Queue>,
    pub ids: Arc<dyn Ids>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Messaging for Sandbox {
    async fn send(
        &self,
        channel: &ChannelAccess,
        request: &OutboundRequest,
    ) -> Result<String, ProviderError> {
        let id = format!("sandbox.{}", self.ids.new_id());
        let mut messages = Vec::new();
        for status in [DeliveryStatus::Delivered, DeliveryStatus::Read] {
            let event = InboundEvent::Status(StatusUpdate {
                channel: ChannelRef::Channel(channel.channel_id.clone()),
                provider_id: id.clone(),
                recipient: Some(request.to.clone()),
                status,
                at: self.clock.now(),
                error_code: None,
                error_title: None,
            });
            let body = serde_json::to_string(&event).map_err(|e| ProviderError::Transport(e.to_string()))?;
            messages.push(OutgoingMessage::new(body).group(event.group()).dedup(event.dedup_id()));
        }
        self.queue
            .send_batch(atende_core::queues::INBOUND, messages)
            .await
            .map_err(|e| ProviderError::Transport(e.to_string()))?;
        Ok(id)
    }

    async fn mark_read(&self, _: &ChannelAccess, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn fetch_media(&self, _: &ChannelAccess, _: &str) -> Result<(Vec<u8>, String), ProviderError> {
        Err(ProviderError::Coded { code: 100, title: "the sandbox holds no media".into() })
    }
}
