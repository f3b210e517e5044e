//! The records of conversations: channels, contacts, sessions, messages, templates, notes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use super::channel_kind::ChannelKind;

/// Who a person is on a channel kind that does not use phone numbers: Messenger's
/// page-scoped id, Instagram's scoped id, Telegram's chat id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    pub kind: ChannelKind,
    pub id: String,
}

/// A connected number. Secrets (access token, app secret, verify token) are stored beside
/// the record but are never part of it, so they can never be returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: String,
    pub account_id: String,
    pub kind: ChannelKind,
    pub name: String,
    /// The provider's id of what the channel speaks as: Meta's phone-number id, the Page's
    /// id (Messenger), the Instagram account's id, the bot's id (Telegram; the number
    /// before the token's colon). Sandbox channels get `sandbox-<id>`.
    pub phone_number_id: String,
    pub waba_id: Option<String>,
    /// The Meta app's id: needed to upload a media header's example when a template is
    /// created at Meta (the Resumable Upload API belongs to the app).
    #[serde(default)]
    pub app_id: Option<String>,
    /// Off: receives nothing, no session can start on it.
    pub active: bool,
    /// *Contato ativo*: agents may start sessions on it.
    pub agents_can_start: bool,
    /// Whether the channel brings its own Meta app (own secret, own webhook URL).
    pub has_own_app: bool,
    /// Messages per second the channel may send (Meta's default is 80).
    pub rate_limit_per_second: u32,
    /// Set when removed (irreversible): sessions stay readable, sending fails.
    pub removed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    #[default]
    Active,
    Archived,
    /// Messages from blocked contacts are ignored.
    Blocked,
    /// Erased under LGPD: only the record's id and dates remain; the number never becomes
    /// a contact again unless an admin unblocks it.
    Erased,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub account_id: String,
    pub name: Option<String>,
    /// E.164, Brazilian numbers normalised; absent when WhatsApp gave only a user id.
    pub phone: Option<String>,
    pub wa_id: Option<String>,
    /// Meta's business-scoped user id (`user_id`), when present.
    pub bsuid: Option<String>,
    /// Who the contact is on the channel kinds without phone numbers (Messenger,
    /// Instagram, Telegram): the kind's word → its id there.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub identities: std::collections::BTreeMap<String, String>,
    pub email: Option<String>,
    /// Ids of the account's tags (`crm::tags`): a rename never touches the contact.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub status: ContactStatus,
    /// The wallet (*carteira*) the contact belongs to, and since when.
    #[serde(default)]
    pub wallet_id: Option<String>,
    #[serde(default)]
    pub wallet_joined_at: Option<DateTime<Utc>>,
    /// Values of the account's custom fields, by key (`crm::fields`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, Value>,
    /// Where the contact came from: `whatsapp` (wrote in), `manual`, `import`, or what an
    /// integrator set (e.g. a UTM source).
    #[serde(default)]
    pub origin: Option<String>,
    /// When the contact opted out of marketing (answered `SAIR`, `STOP`, …): campaigns
    /// and sequences skip it.
    #[serde(default)]
    pub marketing_opt_out_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// *Novos*: waiting in the team's queue.
    Pending,
    /// *Em atendimento*: owned by an agent.
    InProgress,
    /// *Concluído*.
    Completed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::InProgress => "in_progress",
            SessionStatus::Completed => "completed",
        }
    }

    pub fn is_open(self) -> bool {
        self != SessionStatus::Completed
    }
}

/// What happens when the contact writes after completion (PRODUCT.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchivePolicy {
    /// A message within 12 h reopens the same session for the agent who completed it.
    #[default]
    Reopen12h,
    /// Any later message opens a new session.
    NewSession,
}

pub use crate::crm::reasons::{Classification, OutcomeCategory};

/// What the visibility rules of sessions read (`sessions::Access`): kept with what is
/// told about a session later (a live event) to decide who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionScope {
    pub team_id: String,
    pub owner_id: Option<String>,
    pub status: SessionStatus,
    pub designated_to: Option<String>,
    pub completed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub account_id: String,
    /// Human-readable, unique per account: `20261122-000123`.
    pub protocol: String,
    pub channel_id: String,
    pub contact_id: String,
    pub team_id: String,
    pub owner_id: Option<String>,
    pub status: SessionStatus,
    /// The contact's last message: the 24 h window runs from here.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// Provider id of the contact's last message (read receipts point at it).
    #[serde(default)]
    pub last_inbound_provider_id: Option<String>,
    pub last_activity_at: DateTime<Utc>,
    /// Inbound messages since the owner last read the session.
    pub unread: u32,
    /// Distribution: the member this pending session is offered to (only they, supervisors
    /// and admins see it until it is released to the whole team).
    #[serde(default)]
    pub designated_to: Option<String>,
    /// Bumped at every routing decision: timers carry it to recognise they are stale.
    #[serde(default)]
    pub routing_seq: u32,
    /// When distribution began (overflow's `max_minutes` counts from here).
    #[serde(default)]
    pub routing_started_at: Option<DateTime<Utc>>,
    /// The closed period (its reopening time) whose out-of-hours reply this session got.
    #[serde(default)]
    pub auto_reply_for: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub archive_policy: Option<ArchivePolicy>,
    pub classification: Option<Classification>,
    /// Ids of the account's tags (`crm::tags`).
    #[serde(default)]
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When a message last reopened it after a completion (the reports' times run from
    /// here then, as from `created_at` before).
    #[serde(default)]
    pub reopened_at: Option<DateTime<Utc>>,
    /// The campaign whose message this session's first reply answered.
    #[serde(default)]
    pub campaign_id: Option<String>,
    /// The flow run answering this session (`flows`): routing waits for it to hand over.
    #[serde(default)]
    pub bot_run: Option<String>,
    /// A flow asked to answer this session (a campaign's chatbot for its replies): the
    /// flows feature starts it on the customer's message.
    #[serde(default)]
    pub requested_flow: Option<String>,
    /// The last flow run a person stopped: what it had queued is dropped, never sent.
    #[serde(default)]
    pub bot_stopped: Option<String>,
    /// Values flows set on the session (`set_session_metadata`).
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Image,
    Audio,
    Voice,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    Reaction,
    InteractiveReply,
    ButtonReply,
    Template,
    Order,
    System,
    /// Outbound: text with reply buttons or a list (`content.buttons` / `content.list`).
    Interactive,
    Unsupported,
}

impl MessageKind {
    pub fn is_media(self) -> bool {
        matches!(self, Self::Image | Self::Audio | Self::Voice | Self::Video | Self::Document | Self::Sticker)
    }
}

/// A message's delivery state. Provider statuses only move it forward (see [`rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Stored outside the 24 h window: sent when the contact writes again.
    WaitingReply,
    Queued,
    /// Claimed by the send function; the provider call is under way.
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
    /// Cancelled during the send delay; never sent.
    Cancelled,
    /// Inbound messages: stored.
    Received,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WaitingReply => "waiting_reply",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Received => "received",
        }
    }
}

/// Order of the provider-driven states: a status update applies only to a lower rank;
/// `failed` outranks everything.
pub fn rank(status: MessageStatus) -> u8 {
    match status {
        MessageStatus::WaitingReply | MessageStatus::Queued | MessageStatus::Received => 0,
        MessageStatus::Sending => 1,
        MessageStatus::Sent => 2,
        MessageStatus::Delivered => 3,
        MessageStatus::Read => 4,
        MessageStatus::Failed | MessageStatus::Cancelled => 9,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Contact,
    Agent,
    Bot,
    Campaign,
    Api,
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageError {
    pub code: Option<i64>,
    /// In plain words, for agents.
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Media {
    /// Where the bytes are in object storage (absent until fetched).
    pub blob_key: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    /// The provider's media id.
    pub provider_media_id: Option<String>,
    pub fetch_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptionStatus {
    Processing,
    Done,
    Failed,
}

/// A voice note's transcript: `processing` until the provider answers, then `done` with
/// the text or `failed` with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transcription {
    pub status: TranscriptionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Calls made to the provider.
    #[serde(default)]
    pub provider_calls: u32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub from: Direction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub account_id: String,
    pub session_id: String,
    pub channel_id: String,
    pub contact_id: String,
    pub direction: Direction,
    pub kind: MessageKind,
    /// Text body, caption or the readable form of the content.
    pub text: Option<String>,
    /// The kind's structured content (location, contacts, interactive reply, template, ...).
    #[schema(value_type = Option<Object>)]
    pub content: Value,
    pub media: Option<Media>,
    /// A received audio or voice message's text, when the account transcribes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription: Option<Transcription>,
    /// Provider id (`wamid`).
    pub provider_id: Option<String>,
    pub status: MessageStatus,
    pub error: Option<MessageError>,
    pub author: AuthorKind,
    pub author_id: Option<String>,
    /// Provider id of the message this replies to.
    pub reply_to: Option<String>,
    #[serde(default)]
    pub forwarded: bool,
    /// Click-to-WhatsApp ad data.
    #[schema(value_type = Option<Object>)]
    pub referral: Option<Value>,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// Not sent before this time (the send delay).
    pub not_before: Option<DateTime<Utc>>,
    /// For a bot's message: the flow run and node that sent it.
    #[serde(default)]
    pub flow: Option<FlowRef>,
    #[serde(default)]
    pub attempts: u32,
    /// When the send function claimed it (a claim older than a visibility timeout was
    /// interrupted).
    pub claimed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub version: u64,
}

pub use super::template_model::{
    Template, TemplateButton, TemplateCategory, TemplateContent, TemplateHeader, TemplateQuality,
    TemplateStatus,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    pub id: String,
    pub session_id: String,
    pub author_id: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// Which flow node sent a bot's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FlowRef {
    pub run_id: String,
    pub flow_id: String,
    pub version: u32,
    pub node: String,
}

impl Session {
    /// When its current cycle began: its creation, or its last reopening.
    /// What the visibility rules read of the session.
    pub fn scope(&self) -> SessionScope {
        SessionScope {
            team_id: self.team_id.clone(),
            owner_id: self.owner_id.clone(),
            status: self.status,
            designated_to: self.designated_to.clone(),
            completed_by: self.completed_by.clone(),
        }
    }

    pub fn cycle_started_at(&self) -> DateTime<Utc> {
        self.reopened_at.unwrap_or(self.created_at)
    }

    /// A person takes over: the flow answering the session (if any) stops, and what it had
    /// queued will not be sent.
    pub fn stop_bot(&mut self) {
        if let Some(run) = self.bot_run.take() {
            self.bot_stopped = Some(run);
        }
    }
}
