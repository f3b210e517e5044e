//! Provider adapters. `whatsapp` speaks Meta's wire formats (webhooks in, Cloud API out);
//! `meta_direct` Messenger's and Instagram's; `telegram` the Bot API's; `sandbox` stands in for a number locally; `asaas` charges payments; `transcription`
//! turns voice notes into text. No business rule lives here.

pub mod asaas;
pub mod inbound;
pub mod meta_direct;
pub mod outbound_http;
pub mod sandbox;
pub mod standard_webhooks;
pub mod telegram;
pub mod transcription;
pub mod whatsapp;

use async_trait::async_trait;
use atende_core::conversations::ChannelKind;
use atende_core::ports::{ChannelAccess, Messaging, Outage, OutboundRequest, ProviderError};
use std::sync::Arc;
use std::time::Duration;

/// A provider's `Retry-After` in seconds (the form Asaas and OpenAI-compatible servers use).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds = headers.get("retry-after")?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// A request that got no answer: the client's timeout, or no connection. The URL is left
/// out of the text (Telegram's URLs hold the bot token).
pub(crate) fn unanswered(e: reqwest::Error) -> Outage {
    if e.is_timeout() { Outage::Timeout } else { Outage::Transport(e.without_url().to_string()) }
}

/// GETs a file: its bytes, and its type when the server named one.
pub(crate) async fn download(
    request: reqwest::RequestBuilder,
) -> Result<(Vec<u8>, Option<String>), ProviderError> {
    let response = request.send().await.map_err(unanswered)?;
    if !response.status().is_success() {
        return Err(ProviderError::Http(response.status().as_u16()));
    }
    let mime = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.bytes().await.map_err(unanswered)?;
    Ok((bytes.to_vec(), mime))
}

/// An answer's status that is no mistake of the caller's: 429 (with its `Retry-After`),
/// or a failure of the provider's own.
pub(crate) fn outage(status: u16, headers: &reqwest::header::HeaderMap) -> Outage {
    if status == 429 {
        Outage::RateLimited { retry_after: retry_after(headers) }
    } else {
        Outage::Unavailable(status)
    }
}

/// Sends through the provider of each channel's kind.
pub struct ProviderRouter {
    pub cloud: Arc<dyn Messaging>,
    pub sandbox: Arc<dyn Messaging>,
    /// Messenger and Instagram.
    pub direct: Arc<dyn Messaging>,
    pub telegram: Arc<dyn Messaging>,
}

impl ProviderRouter {
    fn pick(&self, channel: &ChannelAccess) -> &Arc<dyn Messaging> {
        match channel.kind {
            ChannelKind::WhatsappCloud => &self.cloud,
            ChannelKind::Sandbox => &self.sandbox,
            ChannelKind::Messenger | ChannelKind::Instagram => &self.direct,
            ChannelKind::Telegram => &self.telegram,
        }
    }
}

#[async_trait]
impl Messaging for ProviderRouter {
    async fn send(
        &self,
        channel: &ChannelAccess,
        request: &OutboundRequest,
    ) -> Result<String, ProviderError> {
        self.pick(channel).send(channel, request).await
    }

    async fn mark_read(&self, channel: &ChannelAccess, provider_id: &str) -> Result<(), ProviderError> {
        self.pick(channel).mark_read(channel, provider_id).await
    }

    async fn fetch_media(
        &self,
        channel: &ChannelAccess,
        media_id: &str,
    ) -> Result<(Vec<u8>, String), ProviderError> {
        self.pick(channel).fetch_media(channel, media_id).await
    }

    async fn connect(
        &self,
        channel: &ChannelAccess,
        url: &str,
        secret: &atende_core::secret::Secret,
    ) -> Result<(), ProviderError> {
        self.pick(channel).connect(channel, url, secret).await
    }
}
