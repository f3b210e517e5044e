//! The API's public shapes. Stored records carry bookkeeping (send attempts and claims,
//! routing sequence numbers, the closed period an auto-reply answered) that can change
//! whenever the implementation does; what a client sees is declared here, converted from
//! the records, and is the only thing the OpenAPI document describes for them.

use atende_core::conversations::messages::{MessagePage, Started};
use atende_core::conversations::sessions::SessionPage;
use atende_core::conversations::{
    ArchivePolicy, AuthorKind, Classification, Direction, FlowRef, Media, Message, MessageError, MessageKind,
    MessageStatus, Reaction, Session, SessionStatus, Transcription,
};
use atende_core::payments::requests::{PaymentList, PaymentTotals};
use atende_core::payments::{HistoryEntry, Method, Payment, PaymentStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A conversation with a contact on a channel (*atendimento*).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
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
    pub last_activity_at: DateTime<Utc>,
    /// Inbound messages since the owner last read the session.
    pub unread: u32,
    /// The member this pending session is offered to (distribution), if any.
    pub designated_to: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub archive_policy: Option<ArchivePolicy>,
    pub classification: Option<Classification>,
    /// Ids of the account's tags.
    pub tags: Vec<String>,
    /// The campaign whose message this session's first reply answered.
    pub campaign_id: Option<String>,
    /// The flow run answering the session now (see `/v1/sessions/{id}/flow-runs`).
    pub bot_run: Option<String>,
    /// Values flows set on the session.
    pub metadata: std::collections::BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    /// Changes at every update.
    /// What may be sent now, by the channel kind's rule (`GET /v1/sessions/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<atende_core::conversations::channel_kind::WindowState>,
    pub version: u64,
}

impl From<Session> for SessionView {
    fn from(s: Session) -> Self {
        Self {
            id: s.id,
            account_id: s.account_id,
            protocol: s.protocol,
            channel_id: s.channel_id,
            contact_id: s.contact_id,
            team_id: s.team_id,
            owner_id: s.owner_id,
            status: s.status,
            last_inbound_at: s.last_inbound_at,
            last_activity_at: s.last_activity_at,
            unread: s.unread,
            designated_to: s.designated_to,
            completed_at: s.completed_at,
            completed_by: s.completed_by,
            archive_policy: s.archive_policy,
            classification: s.classification,
            tags: s.tags,
            bot_run: s.bot_run,
            metadata: s.metadata,
            campaign_id: s.campaign_id,
            created_at: s.created_at,
            window: None,
            version: s.version,
        }
    }
}

/// A message of a session, in or out.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
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
    #[schema(schema_with = nullable_object)]
    pub content: Value,
    pub media: Option<Media>,
    /// A received voice note's transcript (when the account transcribes them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcription: Option<Transcription>,
    /// The provider's id of the message.
    pub provider_id: Option<String>,
    pub status: MessageStatus,
    pub error: Option<MessageError>,
    pub author: AuthorKind,
    pub author_id: Option<String>,
    /// A bot's message: the flow run and node that sent it.
    pub flow: Option<FlowRef>,
    /// Provider id of the message this replies to.
    pub reply_to: Option<String>,
    pub forwarded: bool,
    /// Click-to-WhatsApp ad data.
    #[schema(schema_with = nullable_object)]
    pub referral: Option<Value>,
    pub reactions: Vec<Reaction>,
    /// A queued message can be cancelled until this time (the account's send delay).
    pub cancellable_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    /// Changes at every update.
    pub version: u64,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        let cancellable_until = if m.status == MessageStatus::Queued { m.not_before } else { None };
        Self {
            id: m.id,
            account_id: m.account_id,
            session_id: m.session_id,
            channel_id: m.channel_id,
            contact_id: m.contact_id,
            direction: m.direction,
            kind: m.kind,
            text: m.text,
            content: m.content,
            media: m.media,
            transcription: m.transcription,
            provider_id: m.provider_id,
            status: m.status,
            error: m.error,
            author: m.author,
            author_id: m.author_id,
            flow: m.flow,
            reply_to: m.reply_to,
            forwarded: m.forwarded,
            referral: m.referral,
            reactions: m.reactions,
            cancellable_until,
            created_at: m.created_at,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            read_at: m.read_at,
            version: m.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SessionPage)]
pub struct SessionPageView {
    pub items: Vec<SessionView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

impl From<SessionPage> for SessionPageView {
    fn from(p: SessionPage) -> Self {
        Self { items: p.items.into_iter().map(Into::into).collect(), next_cursor: p.next_cursor }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MessagePage)]
pub struct MessagePageView {
    /// Newest first.
    pub items: Vec<MessageView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

impl From<MessagePage> for MessagePageView {
    fn from(p: MessagePage) -> Self {
        Self { items: p.items.into_iter().map(Into::into).collect(), next_cursor: p.next_cursor }
    }
}

/// A session started by an agent and its first (template) message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Started)]
pub struct StartedView {
    pub session: SessionView,
    pub message: MessageView,
}

impl From<Started> for StartedView {
    fn from(s: Started) -> Self {
        Self { session: s.session.into(), message: s.message.into() }
    }
}

/// Free-form JSON that may be null (a text message has no structured content).
fn nullable_object() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Object, Type::Null])).build()
}

/// A payment as the API shows it: its stored record without the charge job's lease and
/// the record's version.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Payment)]
pub struct PaymentView {
    pub id: String,
    pub session_id: String,
    pub contact_id: String,
    pub channel_id: String,
    /// The agent who asked for it.
    pub agent_id: String,
    pub amount_cents: i64,
    pub method: Method,
    pub installments: u32,
    pub description: String,
    pub due_date: chrono::NaiveDate,
    pub payer_name: String,
    /// CPF or CNPJ, digits only.
    pub payer_document: String,
    pub status: PaymentStatus,
    /// Asaas' charge id (`pay_…`).
    pub charge_id: Option<String>,
    /// The payer's page at Asaas.
    pub invoice_url: Option<String>,
    pub bank_slip_url: Option<String>,
    /// *Pix copia e cola*.
    pub pix_code: Option<String>,
    pub refunded_cents: i64,
    /// The message that carried the link.
    pub message_id: Option<String>,
    pub template_id: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Attempts at creating the charge at Asaas.
    pub charge_attempts: u32,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Payment> for PaymentView {
    fn from(p: Payment) -> Self {
        Self {
            id: p.id,
            session_id: p.session_id,
            contact_id: p.contact_id,
            channel_id: p.channel_id,
            agent_id: p.agent_id,
            amount_cents: p.amount_cents,
            method: p.method,
            installments: p.installments,
            description: p.description,
            due_date: p.due_date,
            payer_name: p.payer_name,
            payer_document: p.payer_document,
            status: p.status,
            charge_id: p.charge_id,
            invoice_url: p.invoice_url,
            bank_slip_url: p.bank_slip_url,
            pix_code: p.pix_code,
            refunded_cents: p.refunded_cents,
            message_id: p.message_id,
            template_id: p.template_id,
            error: p.error,
            charge_attempts: p.charge_attempts,
            history: p.history,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PaymentList)]
pub struct PaymentListView {
    /// Newest first.
    pub items: Vec<PaymentView>,
    pub totals: PaymentTotals,
}

impl From<PaymentList> for PaymentListView {
    fn from(l: PaymentList) -> Self {
        Self { items: l.items.into_iter().map(PaymentView::from).collect(), totals: l.totals }
    }
}
