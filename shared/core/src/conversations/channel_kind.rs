//! The kinds of channel (a leaf: the messaging port names them without reaching the rest of
//! the conversation records). What each kind allows is in [`super::kinds`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The official WhatsApp Cloud API.
    WhatsappCloud,
    /// A local stand-in: records what is sent, lets a person play the customer.
    Sandbox,
    /// A Facebook Page's Messenger inbox.
    Messenger,
    /// An Instagram professional account's Direct messages.
    Instagram,
    /// A Telegram bot.
    Telegram,
}

impl ChannelKind {
    /// The kind's word, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WhatsappCloud => "whatsapp_cloud",
            ChannelKind::Sandbox => "sandbox",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
            ChannelKind::Telegram => "telegram",
        }
    }
}

/// What may be sent on a conversation now, as the API tells it (see `kinds::Window`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// Anything.
    Open,
    /// Only a person's answer (Messenger, Instagram: up to 7 days, tagged).
    HumanAgent,
    /// Only an approved template (WhatsApp after 24 h).
    TemplatesOnly,
    /// Nothing until the customer writes again.
    Closed,
}
