//! Domain events: what happened, for the features that react to it.
//!
//! A use case records events and publishes them through [`crate::deps::Reactions`]; the
//! features subscribe (see [`crate::features`]), so adding a reaction never touches the
//! use case. Events carry ids and facts, not records: a reaction reads what it needs.
//!
//! Delivery is at least once and reactions are idempotent, which together make each
//! reaction happen once in effect. Where a crash between a state change and its reactions
//! must not lose them, the event is written in the state change's own transaction (an
//! outbox on an item the change writes anyway) and published again when the triggering job
//! is redelivered: an inbound message's events ride on its idempotency marker (see
//! `conversations::inbound`); a person's change, which no job redelivers, writes its events
//! as a timer in its transaction (see `crate::outbox`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A customer's message was stored in a session.
    MessageReceived {
        account_id: String,
        channel_id: String,
        contact_id: String,
        session_id: String,
        message_id: String,
        /// The message opened a new session (not an open or reopened one).
        new_session: bool,
        /// When it was applied (the keep-alive count and business hours run from here).
        at: DateTime<Utc>,
        /// The message's text when it is one short word or two (≤ [`KEYWORD_MAX`]
        /// characters): what keyword features read (the marketing opt-out) without loading
        /// the message.
        #[serde(default)]
        keyword: Option<String>,
        /// The message is audio or a voice note (what transcription reads, without
        /// loading every message).
        #[serde(default)]
        audio: bool,
    },
    /// An agent took a pending session.
    SessionAssumed {
        account_id: String,
        session_id: String,
        channel_id: String,
        contact_id: String,
        /// The contact's last message, which read receipts point at.
        last_inbound_provider_id: Option<String>,
        /// Who took it.
        #[serde(default)]
        agent_id: String,
        /// The session's routing sequence after the assume: tells one assume from another.
        #[serde(default)]
        seq: u32,
    },
    /// A person (an agent) sent a message in a session.
    AgentReplied {
        account_id: String,
        session_id: String,
        agent_id: String,
        at: DateTime<Utc>,
        /// The message (none in events recorded before it was carried).
        #[serde(default)]
        message_id: Option<String>,
    },
    /// A session moved to another team or person (by a person).
    SessionTransferred {
        account_id: String,
        session_id: String,
        from_team: String,
        to_team: String,
        /// The person who now has it; none when it waits in `to_team`'s queue.
        to_agent: Option<String>,
        by: String,
        /// The session's version after the transfer: tells one transfer from another.
        version: u64,
        at: DateTime<Utc>,
    },
    /// Routing decided where a pending session goes: offered to one member, given to a
    /// wallet's agent, or released to its whole team.
    SessionRouted {
        account_id: String,
        session_id: String,
        team_id: String,
        owner_id: Option<String>,
        offered_to: Option<String>,
        /// The session's routing sequence after the decision.
        seq: u32,
        at: DateTime<Utc>,
    },
    /// The provider reported a new status for a message of a session.
    MessageStatusChanged {
        account_id: String,
        session_id: String,
        message_id: String,
        status: DeliveryStatus,
        at: DateTime<Utc>,
        error_code: Option<i64>,
    },
    /// A contact was created, changed or erased.
    ContactChanged { account_id: String, contact_id: String, change: ContactChange, at: DateTime<Utc> },
    /// Tags were put on or taken off a contact or a session.
    TagsChanged {
        account_id: String,
        /// `contact` or `session`.
        target: String,
        target_id: String,
        added: Vec<String>,
        removed: Vec<String>,
        /// The target's version after the change: tells one change from another.
        version: u64,
        at: DateTime<Utc>,
    },
    /// A payment request changed status (created, received, overdue, refunded, ...).
    PaymentChanged {
        account_id: String,
        payment_id: String,
        session_id: String,
        /// The payment's status word (`pending`, `received`, `confirmed`, ...).
        status: String,
        amount_cents: i64,
        /// Who asked for it.
        requested_by: Option<String>,
        at: DateTime<Utc>,
    },
    /// A campaign started, finished sending, or was paused, resumed or cancelled.
    CampaignChanged { account_id: String, campaign_id: String, status: String, at: DateTime<Utc> },
    /// A user wrote in the internal chat. Stays inside the account: never an outbound
    /// webhook; the live stream carries it to its audience only.
    ChatPosted {
        account_id: String,
        message_id: String,
        /// The conversation as its members name it: `everyone`, `team:<id>`, or the
        /// normalised pair of a direct conversation (`dm:<user>:<user>`).
        conversation: String,
        from_user_id: String,
        audience: ChatAudience,
        at: DateTime<Utc>,
    },
    /// A contact answered a session's satisfaction survey.
    CsatAnswered {
        account_id: String,
        session_id: String,
        channel_id: String,
        team_id: String,
        agent_id: Option<String>,
        score: u8,
        /// The scale's top (5 or 10).
        scale_max: u8,
        at: DateTime<Utc>,
    },
    /// A session was completed (by a person or by the system).
    SessionCompleted {
        account_id: String,
        session_id: String,
        /// When (a session completed again after a reopen is another completion).
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// The provider reported a status for something a feature sent outside any session
    /// (a campaign or sequence message), named by the opaque `reference` the feature gave.
    DeliveryStatus {
        account_id: String,
        reference: String,
        status: DeliveryStatus,
        at: DateTime<Utc>,
        error_code: Option<i64>,
        error_title: Option<String>,
    },
    /// Meta changed a number's quality rating or messaging limit.
    PhoneQualityChanged {
        account_id: String,
        channel_id: String,
        /// Meta's word, upper case: `FLAGGED`, `UNFLAGGED`, `DOWNGRADE`, `UPGRADE`, ...
        event: String,
        current_limit: Option<String>,
    },
    /// Meta changed a template's status (approved, paused, disabled, ...).
    TemplateStatusChanged {
        account_id: String,
        template_id: String,
        /// `approved`, `pending`, `rejected`, `paused` or `disabled`.
        status: String,
        reason: Option<String>,
    },
}

/// A provider's delivery status of an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// What happened to a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChange {
    Created,
    Updated,
    Erased,
}

impl ContactChange {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactChange::Created => "created",
            ContactChange::Updated => "updated",
            ContactChange::Erased => "erased",
        }
    }
}

/// Who may read an internal chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatAudience {
    /// Every user of the account.
    Everyone,
    /// The team's members and supervisors, and admins.
    Team { team_id: String },
    /// The two users of a direct conversation.
    Users { user_ids: Vec<String> },
}

/// The longest text carried as a [`DomainEvent::MessageReceived`] keyword.
pub const KEYWORD_MAX: usize = 24;

/// The keyword of a customer's text, if it is short enough to be one.
pub fn keyword_of(text: Option<&str>) -> Option<String> {
    let t = text?.trim();
    (!t.is_empty() && t.chars().count() <= KEYWORD_MAX).then(|| t.to_owned())
}

/// A customer's message before any session takes it: what an [`crate::deps::Interceptor`]
/// sees (a CSAT answer, for one, is consumed here and never opens a session).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMessage {
    pub account_id: String,
    pub channel_id: String,
    pub contact_id: String,
    pub provider_id: String,
    pub text: Option<String>,
    /// The provider's structured content (button and list replies carry their ids here).
    pub content: serde_json::Value,
}

/// The id of a reply button or list row the customer tapped (or a template quick reply's
/// payload), in a customer message's content: the interactive object as the webhook
/// stores it (`{"type": "button_reply", "button_reply": {"id", ...}}`), a template button
/// (`{"payload", "text"}`), or either wrapped in the message's `interactive` / `button`.
pub fn reply_id(content: &serde_json::Value) -> Option<String> {
    [
        "/button_reply/id",
        "/list_reply/id",
        "/payload",
        "/interactive/button_reply/id",
        "/interactive/list_reply/id",
        "/button/payload",
    ]
    .iter()
    .find_map(|p| content.pointer(p).and_then(serde_json::Value::as_str))
    .map(str::to_owned)
}

impl DomainEvent {
    /// The event's kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::MessageReceived { .. } => "message_received",
            DomainEvent::SessionAssumed { .. } => "session_assumed",
            DomainEvent::SessionCompleted { .. } => "session_completed",
            DomainEvent::AgentReplied { .. } => "agent_replied",
            DomainEvent::DeliveryStatus { .. } => "delivery_status",
            DomainEvent::TemplateStatusChanged { .. } => "template_status_changed",
            DomainEvent::PhoneQualityChanged { .. } => "phone_quality_changed",
            DomainEvent::SessionTransferred { .. } => "session_transferred",
            DomainEvent::SessionRouted { .. } => "session_routed",
            DomainEvent::MessageStatusChanged { .. } => "message_status_changed",
            DomainEvent::ContactChanged { .. } => "contact_changed",
            DomainEvent::TagsChanged { .. } => "tags_changed",
            DomainEvent::PaymentChanged { .. } => "payment_changed",
            DomainEvent::CampaignChanged { .. } => "campaign_changed",
            DomainEvent::CsatAnswered { .. } => "csat_answered",
            DomainEvent::ChatPosted { .. } => "chat_posted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reply_id;
    use serde_json::json;

    #[test]
    fn a_tapped_reply_is_read_as_the_webhook_stores_it_and_wrapped() {
        let stored = json!({"type": "button_reply", "button_reply": {"id": "sales", "title": "Vendas"}});
        assert_eq!(reply_id(&stored).as_deref(), Some("sales"));
        let row = json!({"type": "list_reply", "list_reply": {"id": "row-2", "title": "Dois"}});
        assert_eq!(reply_id(&row).as_deref(), Some("row-2"));
        assert_eq!(reply_id(&json!({"payload": "nota_5", "text": "5"})).as_deref(), Some("nota_5"));
        let wrapped = json!({"interactive": {"type": "list_reply", "list_reply": {"id": "csat:3"}}});
        assert_eq!(reply_id(&wrapped).as_deref(), Some("csat:3"));
        assert_eq!(reply_id(&json!({"body": "oi"})), None);
    }
}
