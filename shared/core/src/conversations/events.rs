//! Provider events, normalised: what the webhook puts on the `inbound` queue and the
//! `inbound` function applies. Provider-neutral: the WhatsApp parser builds them.

use super::model::{Identity, MessageKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which channel an event belongs to: the deployment's app routes by phone-number id,
/// a channel with its own app arrives on its own URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelRef {
    PhoneNumberId(String),
    Channel(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub channel: ChannelRef,
    /// WhatsApp id of the sender (may be absent when only a user id is sent).
    pub wa_id: Option<String>,
    /// Meta's business-scoped user id.
    pub bsuid: Option<String>,
    /// The sender on a channel kind without phone numbers (Messenger, Instagram, Telegram).
    #[serde(default)]
    pub identity: Option<Identity>,
    pub profile_name: Option<String>,
    pub provider_id: String,
    pub sent_at: DateTime<Utc>,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub content: Value,
    /// Media id to fetch, with its type and file name.
    pub media_id: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub reply_to: Option<String>,
    pub forwarded: bool,
    pub referral: Option<Value>,
    /// For reactions: the target's provider id and the emoji (empty = removed).
    pub reaction: Option<(String, String)>,
}

impl InboundMessage {
    /// A message of `channel` with nothing known yet but its id and time: no sender, and
    /// `unsupported` until its parser says what it is.
    pub fn new(channel: ChannelRef, provider_id: String, sent_at: DateTime<Utc>) -> Self {
        Self {
            channel,
            wa_id: None,
            bsuid: None,
            identity: None,
            profile_name: None,
            provider_id,
            sent_at,
            kind: MessageKind::Unsupported,
            text: None,
            content: Value::Null,
            media_id: None,
            mime_type: None,
            filename: None,
            reply_to: None,
            forwarded: false,
            referral: None,
            reaction: None,
        }
    }
}

pub use crate::events::DeliveryStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub channel: ChannelRef,
    pub provider_id: String,
    pub recipient: Option<String>,
    pub status: DeliveryStatus,
    pub at: DateTime<Utc>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
}

/// Meta changed something of a template: its status (`message_template_status_update`),
/// its category (`template_category_update`) or its quality
/// (`message_template_quality_update`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateUpdate {
    /// The WhatsApp Business Account the template belongs to.
    pub waba_id: String,
    pub name: String,
    pub language: String,
    /// When Meta recorded it (the entry's `time`): two changes to the same word apart
    /// (approved, paused, approved again) are two events.
    #[serde(default)]
    pub at: Option<i64>,
    pub change: TemplateChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemplateChange {
    /// Meta's word: APPROVED, REJECTED, PENDING, PAUSED, DISABLED, FLAGGED, REINSTATED,
    /// PENDING_DELETION, ...
    Status { event: String, reason: Option<String> },
    /// Meta's category word (MARKETING, UTILITY, AUTHENTICATION), once the change is done.
    Category { new_category: String },
    /// GREEN, YELLOW, RED, UNKNOWN.
    Quality { score: String },
}

impl TemplateChange {
    fn word(&self) -> String {
        match self {
            TemplateChange::Status { event, .. } => format!("status:{event}"),
            TemplateChange::Category { new_category, .. } => format!("category:{new_category}"),
            TemplateChange::Quality { score } => format!("quality:{score}"),
        }
    }
}

/// Meta's `phone_number_quality_update`: the number's quality or messaging limit changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityUpdate {
    /// The WhatsApp Business Account the number belongs to.
    pub waba_id: String,
    pub display_phone_number: Option<String>,
    /// Meta's word: FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE, ...
    pub event: String,
    /// The messaging limit tier now (`TIER_1K`, ...).
    pub current_limit: Option<String>,
}

/// "Everything sent to this person before `watermark` was delivered / read" (Messenger's
/// and Instagram's `delivery` and `read` events name a time, not each message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    pub channel: ChannelRef,
    pub identity: Identity,
    pub status: DeliveryStatus,
    pub watermark: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundEvent {
    Message(Box<InboundMessage>),
    Status(StatusUpdate),
    Watermark(Watermark),
    Template(TemplateUpdate),
    Quality(QualityUpdate),
}

impl InboundEvent {
    /// The FIFO group: one channel and one contact.
    pub fn group(&self) -> String {
        match self {
            InboundEvent::Message(m) => {
                format!(
                    "{}:{}",
                    channel_key(&m.channel),
                    m.wa_id
                        .as_deref()
                        .or(m.bsuid.as_deref())
                        .or(m.identity.as_ref().map(|i| i.id.as_str()))
                        .unwrap_or("-")
                )
            }
            InboundEvent::Status(s) => {
                format!("{}:{}", channel_key(&s.channel), s.recipient.as_deref().unwrap_or("-"))
            }
            InboundEvent::Watermark(w) => format!("{}:{}", channel_key(&w.channel), w.identity.id),
            InboundEvent::Template(t) => format!("waba:{}", t.waba_id),
            InboundEvent::Quality(q) => format!("waba:{}", q.waba_id),
        }
    }

    /// The deduplication id: provider id + kind.
    pub fn dedup_id(&self) -> String {
        match self {
            InboundEvent::Message(m) => format!("{}:message", m.provider_id),
            InboundEvent::Status(s) => format!("{}:status:{:?}", s.provider_id, s.status),
            InboundEvent::Watermark(w) => format!(
                "{}:{}:{:?}:{}",
                w.identity.kind.as_str(),
                w.identity.id,
                w.status,
                w.watermark.timestamp_millis()
            ),
            InboundEvent::Template(t) => format!(
                "{}:{}:{}:{}:{}",
                t.waba_id,
                t.name,
                t.language,
                t.change.word(),
                t.at.unwrap_or_default()
            ),
            InboundEvent::Quality(q) => {
                format!("{}:quality:{}:{}", q.waba_id, q.event, q.current_limit.as_deref().unwrap_or("-"))
            }
        }
    }
}

fn channel_key(channel: &ChannelRef) -> &str {
    match channel {
        ChannelRef::PhoneNumberId(id) | ChannelRef::Channel(id) => id,
    }
}
