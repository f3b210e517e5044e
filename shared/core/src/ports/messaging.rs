//! The messaging provider port: send, mark read, fetch media.

use crate::secret::Secret;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What a provider needs to act for a channel.
#[derive(Debug, Clone)]
pub struct ChannelAccess {
    pub channel_id: String,
    /// Which provider speaks for the channel.
    pub kind: crate::conversations::channel_kind::ChannelKind,
    /// The provider's id of what the channel speaks as (phone-number id, page id, bot id).
    pub phone_number_id: String,
    /// The access token (WhatsApp, Messenger, Instagram) or the bot token (Telegram).
    pub access_token: Secret,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboundContent {
    Text {
        body: String,
    },
    /// `kind`: image, audio, video, document, sticker; `link`: a URL the provider can GET.
    Media {
        kind: String,
        link: String,
        caption: Option<String>,
        filename: Option<String>,
    },
    /// Text with up to 3 reply buttons, or (with `list_button`) a list of up to 10 rows.
    Interactive {
        body: String,
        choices: Vec<OutboundChoice>,
        /// The label of the button that opens the list; `None`: reply buttons.
        list_button: Option<String>,
    },
    /// An approved template with the values of its variables.
    Template {
        name: String,
        language: String,
        values: TemplateValues,
    },
}

/// The values a template send fills in, in the provider's neutral terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateValues {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderValue>,
    /// In order; `name` set for named parameters.
    #[serde(default)]
    pub body: Vec<NamedValue>,
    /// Only the buttons that take a value at each send.
    #[serde(default)]
    pub buttons: Vec<ButtonValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum HeaderValue {
    /// The header text's variable.
    Text(NamedValue),
    /// `kind`: image, video or document. A file of ours is named by `blob_key` until the
    /// send gives the provider a link to it.
    Media {
        kind: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blob_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonValueKind {
    /// The dynamic end of a URL button.
    UrlSuffix,
    /// The code a copy-code button copies.
    CopyCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonValue {
    /// The button's position in the template (0–9).
    pub index: u8,
    pub kind: ButtonValueKind,
    pub value: String,
}

/// A reply button or list row: the id comes back when the customer taps it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundChoice {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    /// The recipient on the channel's kind: WhatsApp id, page-scoped id, chat id.
    pub to: String,
    pub content: OutboundContent,
    /// Provider id of the message replied to.
    pub reply_to: Option<String>,
    /// A person's answer past the standard window, tagged as such (Meta's `HUMAN_AGENT`).
    pub human_agent: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an error code (Meta's `error.code`).
    #[error("provider error {code}: {title}")]
    Coded { code: i64, title: String },
    /// An HTTP status without a readable error.
    #[error("provider answered HTTP {0}")]
    Http(u16),
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("could not reach the provider: {0}")]
    Transport(String),
    /// The provider refused it for good; the reason in plain words, for agents.
    #[error("{0}")]
    Refused(String),
    /// Too many sends: try again after the provider's wait, when it gave one.
    #[error("the provider asked to slow down")]
    RateLimited { retry_after: Option<std::time::Duration> },
}

#[async_trait]
pub trait Messaging: Send + Sync {
    /// Sends; returns the provider's message id.
    async fn send(&self, channel: &ChannelAccess, request: &OutboundRequest)
    -> Result<String, ProviderError>;
    /// Marks an inbound message read (blue ticks).
    async fn mark_read(&self, channel: &ChannelAccess, provider_id: &str) -> Result<(), ProviderError>;
    /// Points the provider's deliveries for the channel at `url`, carrying `secret` back
    /// (Telegram's `setWebhook`); providers configured in their own console do nothing.
    async fn connect(
        &self,
        _channel: &ChannelAccess,
        _url: &str,
        _secret: &Secret,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
    /// Downloads inbound media: (bytes, mime type).
    async fn fetch_media(
        &self,
        channel: &ChannelAccess,
        media_id: &str,
    ) -> Result<(Vec<u8>, String), ProviderError>;
}
