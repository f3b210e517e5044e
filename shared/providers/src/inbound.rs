//! What every inbound webhook parser shares: how a payload's events name their channel,
//! and what a body that is not the provider's payload is.

use atende_core::conversations::events::ChannelRef;

/// How to name the channel of every event in a payload.
#[derive(Debug, Clone)]
pub enum Route {
    /// The deployment's app: by the provider's id the payload carries (WhatsApp's
    /// phone-number id, the Page's or the Instagram account's id).
    ByProviderId,
    /// A channel with its own app and URL.
    Channel(String),
}

impl Route {
    /// The channel of events carrying `provider_id`; `None` when the payload names none.
    pub fn channel(&self, provider_id: Option<&str>) -> Option<ChannelRef> {
        match self {
            Route::Channel(id) => Some(ChannelRef::Channel(id.clone())),
            Route::ByProviderId => provider_id.map(|p| ChannelRef::PhoneNumberId(p.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// What it should have been, and why it is not.
    #[error("the body is not {0}")]
    NotThis(&'static str),
}

/// `body` as JSON.
pub(crate) fn json(body: &[u8]) -> Result<serde_json::Value, ParseError> {
    serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))
}

/// A text attribute, owned.
pub(crate) fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}
