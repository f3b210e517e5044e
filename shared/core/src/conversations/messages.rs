//! Messages: what agents send (the 24 h window, the send delay, cancel), listing, starting
//! and restarting sessions with a template, and releasing `waiting_reply` messages.

use super::channels;
use super::contacts;
use super::kinds::{self, Window};
use super::model::*;
use super::sessions::{self, Access};
use super::templates;
use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::OutboundJob;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, OutgoingMessage, Query, TransactItem, UpdateOp};
use crate::queues;
use crate::record::{from_item, to_item};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// WhatsApp's size limits per media type (PRODUCT.md §4); nothing over 100 MB.
pub fn media_limit(kind: MessageKind) -> usize {
    match kind {
        MessageKind::Image | MessageKind::Sticker => 5 * 1024 * 1024,
        MessageKind::Audio | MessageKind::Voice | MessageKind::Video => 16 * 1024 * 1024,
        _ => 100 * 1024 * 1024,
    }
}

/// The message as stored, with its index keys and status rank.
pub(crate) fn message_item(m: &Message) -> ServiceResult<Item> {
    let mut item = to_item(&keys::message(&m.account_id, &m.id), m)?;
    item.insert("status_rank".into(), attr::n(rank(m.status)));
    item.insert("gsi1pk".into(), attr::s(keys::session_messages_gsi1pk(&m.account_id, &m.session_id)));
    item.insert("gsi1sk".into(), attr::s(&m.id));
    if m.status == MessageStatus::WaitingReply {
        item.insert("gsi2pk".into(), attr::s(keys::waiting_messages_gsi2pk(&m.account_id, &m.session_id)));
        item.insert("gsi2sk".into(), attr::s(&m.id));
    }
    Ok(item)
}

/// Writes a changed message over the version before it (`m.version - 1`).
pub(crate) async fn overwrite(deps: &Deps, m: &Message) -> ServiceResult<()> {
    let read = m.version.saturating_sub(1);
    deps.table
        .put(message_item(m)?, Some(Condition::version_is(read)))
        .await
        .map_err(crate::record::concurrent)
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Message> {
    match deps.table.get(&keys::message(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("message")),
    }
}

/// What an agent sends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Draft {
    Text {
        text: String,
    },
    /// A file uploaded with `POST /v1/uploads`.
    Media {
        blob_key: String,
        kind: MessageKind,
        caption: Option<String>,
        filename: Option<String>,
    },
    Template {
        template_id: String,
        /// `["Ana", "10/12"]` for `{{1}}`, `{{2}}`; `{"name": "Ana"}` for named parameters.
        #[serde(default)]
        #[schema(value_type = Object)]
        parameters: Value,
    },
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SendMessage {
    #[serde(flatten)]
    pub draft: Draft,
    /// The id of a message of this session to reply to.
    pub reply_to_message_id: Option<String>,
}

pub(crate) fn new_message(
    deps: &Deps,
    s: &Session,
    author: AuthorKind,
    author_id: Option<String>,
) -> Message {
    Message {
        id: deps.ids.new_id(),
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        channel_id: s.channel_id.clone(),
        contact_id: s.contact_id.clone(),
        direction: Direction::Out,
        kind: MessageKind::Text,
        text: None,
        content: Value::Null,
        media: None,
        transcription: None,
        provider_id: None,
        status: MessageStatus::Queued,
        error: None,
        author,
        author_id,
        reply_to: None,
        forwarded: false,
        referral: None,
        reactions: Vec::new(),
        not_before: None,
        flow: None,
        attempts: 0,
        claimed_at: None,
        created_at: deps.clock.now(),
        sent_at: None,
        delivered_at: None,
        read_at: None,
        version: 1,
    }
}

/// Turns a draft into a message of `session` (not yet stored).
async fn compose(deps: &Deps, caller: &Caller, s: &Session, draft: Draft) -> ServiceResult<Message> {
    let mut m = new_message(deps, s, AuthorKind::Agent, Some(caller.user_id.clone()));
    match draft {
        Draft::Text { text } => {
            let text = text.trim_end().to_owned();
            if text.trim().is_empty() || text.chars().count() > 4096 {
                return Err(ServiceError::invalid("a text message has 1 to 4096 characters"));
            }
            m.text = Some(text);
        }
        Draft::Media { blob_key, kind, caption, filename } => {
            if !kind.is_media() {
                return Err(ServiceError::invalid("kind is image, audio, voice, video, document or sticker"));
            }
            let (size, content_type) =
                super::uploads::check_stored(deps, &caller.account_id, &blob_key).await?;
            if size > media_limit(kind) as u64 {
                return Err(ServiceError::invalid(format!(
                    "this {kind:?} is {size} bytes; WhatsApp takes at most {} for it",
                    media_limit(kind)
                )));
            }
            m.kind = kind;
            m.text = caption;
            m.media = Some(Media {
                blob_key: Some(blob_key),
                mime_type: Some(content_type),
                filename,
                provider_media_id: None,
                fetch_error: None,
            });
        }
        Draft::Template { template_id, parameters } => {
            m = with_template(deps, s, m, &template_id, &parameters).await?;
        }
    }
    Ok(m)
}

/// Stores an outbound message and queues it, or holds it as `waiting_reply` when it is
/// free-form and its channel kind's window keeps it back (PRODUCT.md §4, `kinds`).
async fn dispatch(
    deps: &Deps,
    s: &Session,
    mut m: Message,
    events: Vec<crate::events::DomainEvent>,
) -> ServiceResult<Message> {
    let channel = channels::load(deps, &s.account_id, &s.channel_id).await?.channel;
    if channel.removed_at.is_some() {
        return Err(ServiceError::conflict("the channel was removed: nothing can be sent on it"));
    }
    if !channel.active {
        return Err(ServiceError::conflict("the channel is inactive"));
    }
    let now = deps.clock.now();
    let by_person = m.author == AuthorKind::Agent;
    let goes_now = match kinds::window(channel.kind, s.last_inbound_at, now) {
        Window::Open => true,
        Window::TemplatesOnly => m.kind == MessageKind::Template,
        Window::HumanAgentOnly => by_person,
        // A person is told at once; an automation's notice waits for the customer.
        Window::Closed(reason) if by_person => return Err(ServiceError::invalid(reason)),
        Window::Closed(_) => false,
    };
    if !goes_now {
        m.status = MessageStatus::WaitingReply;
        store_new(deps, &m, events).await?;
        return Ok(m);
    }
    let delay = crate::accounts::teams::load_account(deps, &s.account_id).await?.send_delay_seconds.min(15);
    m.status = MessageStatus::Queued;
    m.not_before = Some(now + Duration::seconds(delay as i64));
    store_new(deps, &m, events).await?;
    if let Err(e) = enqueue(deps, &[&m]).await {
        tracing::error!(message_id = %m.id, error = %e, "could not queue a message");
        fail(deps, &m.account_id, &m.id, None, "The message could not be queued; send it again.").await?;
        return Err(e.into());
    }
    Ok(m)
}

/// Stores a new message with the events its sending commits to (see `crate::outbox`), then
/// publishes them.
async fn store_new(deps: &Deps, m: &Message, events: Vec<crate::events::DomainEvent>) -> ServiceResult<()> {
    let item = message_item(m)?;
    if events.is_empty() {
        deps.table.put(item, Some(Condition::NotExists)).await?;
        return Ok(());
    }
    let put = TransactItem::Put { item, condition: Some(Condition::NotExists) };
    Ok(crate::outbox::transact(deps, vec![put], events).await??)
}

/// Puts deliver jobs on the `outbound` queue, in order, one FIFO group per contact.
pub(crate) async fn enqueue(deps: &Deps, messages: &[&Message]) -> Result<(), crate::ports::QueueError> {
    let jobs =
        messages.iter().map(|m| deliver_job(&m.account_id, &m.channel_id, &m.contact_id, &m.id)).collect();
    deps.queue.send_batch(queues::OUTBOUND, jobs).await
}

/// The deliver job of message `id` of a conversation (channel and contact: its FIFO group).
pub(crate) fn deliver_job(account: &str, channel: &str, contact: &str, id: &str) -> OutgoingMessage {
    let job = OutboundJob::Deliver { account_id: account.to_owned(), message_id: id.to_owned() };
    OutgoingMessage::new(serde_json::to_string(&job).unwrap_or_default())
        .group(format!("{channel}:{contact}"))
        .dedup(format!("deliver:{id}"))
}

/// Marks a message failed with a reason for agents (from any state but a final one).
pub(crate) async fn fail(
    deps: &Deps,
    account: &str,
    id: &str,
    code: Option<i64>,
    reason: &str,
) -> ServiceResult<()> {
    let error = serde_dynamo::to_attribute_value(MessageError { code, reason: reason.to_owned() })?;
    let Some(m) = deps.table.get(&keys::message(account, id)).await? else { return Ok(()) };
    let failed = crate::events::DomainEvent::MessageStatusChanged {
        account_id: account.to_owned(),
        session_id: attr::get_s(&m, "session_id").unwrap_or_default().to_owned(),
        message_id: id.to_owned(),
        status: crate::events::DeliveryStatus::Failed,
        at: deps.clock.now(),
        error_code: code,
    };
    let update = TransactItem::Update {
        key: keys::message(account, id),
        ops: vec![
            UpdateOp::Set("status".into(), attr::s(MessageStatus::Failed.as_str())),
            UpdateOp::Set("status_rank".into(), attr::n(rank(MessageStatus::Failed))),
            UpdateOp::Set("error".into(), error),
            UpdateOp::Remove("gsi2pk".into()),
            UpdateOp::Remove("gsi2sk".into()),
            UpdateOp::Add("version".into(), 1),
        ],
        condition: Some(Condition::And(vec![
            Condition::Exists,
            Condition::Compare(
                "status_rank".into(),
                crate::ports::Cmp::Lt,
                attr::n(rank(MessageStatus::Failed)),
            ),
        ])),
    };
    match crate::outbox::transact(deps, vec![update], vec![failed]).await? {
        Ok(()) => Ok(()),
        // Already failed, or further along (a status overtook it).
        Err(crate::ports::TableError::TransactionConditionFailed { index: 0 }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn send(
    deps: &Deps,
    caller: &Caller,
    session_id: &str,
    input: SendMessage,
) -> ServiceResult<Message> {
    let access = Access::of(deps, caller).await?;
    let mut s = sessions::actionable(deps, &access, session_id).await?;
    if s.status != SessionStatus::InProgress {
        return Err(ServiceError::conflict("assume the session before sending (or restart a completed one)"));
    }
    if s.bot_run.is_some() {
        // A person speaks: the flow started on this session stops (`flows::runs`).
        s.stop_bot();
        sessions::save(deps, &mut s, vec![]).await?;
    }
    let mut m = compose(deps, caller, &s, input.draft).await?;
    if let Some(reply) = input.reply_to_message_id {
        let target = load(deps, &caller.account_id, &reply).await?;
        if target.session_id != s.id {
            return Err(ServiceError::NotFound("message"));
        }
        m.reply_to = target.provider_id;
    }
    let replied = crate::events::DomainEvent::AgentReplied {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        agent_id: caller.user_id.clone(),
        at: m.created_at,
        message_id: Some(m.id.clone()),
    };
    // The message stands whatever its reactions do (the reports' counters).
    let m = dispatch(deps, &s, m, vec![replied]).await?;
    Ok(m)
}

/// Cancels a message still in its send delay.
pub async fn cancel(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Message> {
    let m = load(deps, &caller.account_id, id).await?;
    let access = Access::of(deps, caller).await?;
    sessions::actionable(deps, &access, &m.session_id).await.map_err(|e| match e {
        ServiceError::NotFound(_) => ServiceError::NotFound("message"),
        other => other,
    })?;
    match withdrawn(deps, &caller.account_id, id).await {
        Ok(item) => from_item(item),
        Err(crate::ports::TableError::ConditionFailed) => {
            Err(ServiceError::conflict("the message is already on its way and can no longer be cancelled"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A link to a message's file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileLink {
    pub message_id: String,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    /// Valid for 24 hours.
    pub url: String,
}

/// A link to a message's file, valid for a day, for whoever may read its session.
pub async fn media_link(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<FileLink> {
    let m = load(deps, &caller.account_id, id).await?;
    let access = Access::of(deps, caller).await?;
    sessions::readable(deps, &access, &m.session_id).await.map_err(|e| match e {
        ServiceError::NotFound(_) => ServiceError::NotFound("message"),
        other => other,
    })?;
    let media = m.media.ok_or(ServiceError::NotFound("media"))?;
    let key = media.blob_key.ok_or_else(|| {
        ServiceError::conflict(
            "the file is not in storage yet (or could not be fetched: see media.fetch_error)",
        )
    })?;
    let url = deps.blob.presigned_get_url(&key, std::time::Duration::from_secs(24 * 3600)).await?;
    Ok(FileLink { message_id: m.id, mime_type: media.mime_type, filename: media.filename, url })
}

/// Cancels a message not yet on its way (queued or waiting for the customer); `false` when
/// it already went (or is going).
pub(crate) async fn withdraw(deps: &Deps, account: &str, id: &str) -> ServiceResult<bool> {
    match withdrawn(deps, account, id).await {
        Ok(_) => Ok(true),
        Err(crate::ports::TableError::ConditionFailed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn withdrawn(
    deps: &Deps,
    account: &str,
    id: &str,
) -> Result<crate::ports::Item, crate::ports::TableError> {
    deps.table
        .update(
            &keys::message(account, id),
            vec![
                UpdateOp::Set("status".into(), attr::s(MessageStatus::Cancelled.as_str())),
                UpdateOp::Set("status_rank".into(), attr::n(rank(MessageStatus::Cancelled))),
                UpdateOp::Remove("gsi2pk".into()),
                UpdateOp::Remove("gsi2sk".into()),
                UpdateOp::Add("version".into(), 1),
            ],
            Some(Condition::Or(vec![
                Condition::equals("status", attr::s(MessageStatus::Queued.as_str())),
                Condition::equals("status", attr::s(MessageStatus::WaitingReply.as_str())),
            ])),
        )
        .await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagePage {
    /// Newest first.
    pub items: Vec<Message>,
    pub next_cursor: Option<String>,
}

/// A session's messages, newest first. Reading their own session clears its unread count.
pub async fn list(
    deps: &Deps,
    caller: &Caller,
    session_id: &str,
    cursor: Option<String>,
    limit: Option<u32>,
) -> ServiceResult<MessagePage> {
    let access = Access::of(deps, caller).await?;
    let mut s = sessions::readable(deps, &access, session_id).await?;
    let q = Query::partition(Index::Gsi1, keys::session_messages_gsi1pk(&caller.account_id, session_id))
        .backward()
        .limit(crate::accounts::users::page_size(limit)?)
        .after(cursor);
    let page = deps.table.query(q).await?;
    let items = page.items.into_iter().map(from_item).collect::<ServiceResult<Vec<Message>>>()?;
    if s.unread > 0 && s.owner_id.as_deref() == Some(caller.user_id.as_str()) {
        s.unread = 0;
        // Losing this race only leaves the count for the next read.
        let _ = sessions::save(deps, &mut s, vec![]).await;
    }
    Ok(MessagePage { items, next_cursor: page.cursor })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StartSession {
    /// An existing contact, or
    pub contact_id: Option<String>,
    /// a phone number (the contact is created if new).
    pub phone: Option<String>,
    pub channel_id: String,
    /// One of the caller's teams.
    pub team_id: String,
    /// An approved template of the channel (WhatsApp), or
    pub template_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// the text itself, on a channel without templates (Telegram).
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Started {
    pub session: Session,
    pub message: Message,
}

/// Active start (*iniciar atendimento*): contact → channel with `agents_can_start` → one of
/// the caller's teams → an approved template. The session is the caller's and waits.
pub async fn start(deps: &Deps, caller: &Caller, input: StartSession) -> ServiceResult<Started> {
    let access = Access::of(deps, caller).await?;
    let channel = channels::load(deps, &caller.account_id, &input.channel_id).await?.channel;
    if !channel.agents_can_start || !channel.active || channel.removed_at.is_some() {
        return Err(ServiceError::forbidden("sessions cannot be started on this channel"));
    }
    kinds::business_initiated(channel.kind).map_err(ServiceError::invalid)?;
    if !caller.is_admin() && !access.is_member(&input.team_id) {
        return Err(ServiceError::forbidden("start sessions in one of your teams"));
    }
    crate::accounts::teams::get(deps, caller, &input.team_id).await?;
    let contact = match (input.contact_id, input.phone) {
        (Some(id), _) => contacts::load(deps, &caller.account_id, &id).await?,
        (None, Some(phone)) => contacts::find_or_create_by_phone(deps, caller, &phone).await?,
        (None, None) => return Err(ServiceError::invalid("name a contact_id or a phone")),
    };
    if contact.status == ContactStatus::Blocked {
        return Err(ServiceError::forbidden("the contact is blocked"));
    }
    if kinds::address(channel.kind, &contact).is_none() {
        return Err(ServiceError::invalid(kinds::unreachable(channel.kind)));
    }
    let session = sessions::new_active(deps, caller, &channel.id, &contact.id, &input.team_id).await?;
    let draft = opening(input.template_id, input.parameters, input.text)?;
    // Everything is checked before anything is written.
    let message = compose(deps, caller, &session, draft).await?;
    sessions::store_active(deps, &session).await?;
    let message = dispatch(deps, &session, message, vec![]).await?;
    Ok(Started { session, message })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Restart {
    /// An approved template of the channel (WhatsApp), or
    pub template_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// the text itself, on a channel without templates (Telegram).
    pub text: Option<String>,
}

/// What the business writes first: the template named, else the text.
fn opening(template_id: Option<String>, parameters: Value, text: Option<String>) -> ServiceResult<Draft> {
    match (template_id, text) {
        (Some(template_id), _) => Ok(Draft::Template { template_id, parameters }),
        (None, Some(text)) => Ok(Draft::Text { text }),
        (None, None) => {
            Err(ServiceError::invalid("name a template_id (or, on a channel without templates, a text)"))
        }
    }
}

/// Restarts a completed session with an approved template; it then waits for the reply.
pub async fn restart(
    deps: &Deps,
    caller: &Caller,
    session_id: &str,
    input: Restart,
) -> ServiceResult<Started> {
    let access = Access::of(deps, caller).await?;
    let mut session = sessions::readable(deps, &access, session_id).await?;
    let may = caller.is_admin()
        || access.supervises(&session.team_id)
        || session.completed_by.as_deref() == Some(caller.user_id.as_str())
        || access.is_member(&session.team_id);
    if !may {
        return Err(ServiceError::forbidden("only the team's agents may restart its sessions"));
    }
    let draft = opening(input.template_id, input.parameters, input.text)?;
    let message = compose(deps, caller, &session, draft).await?;
    sessions::reopen_for(deps, caller, &mut session).await?;
    let message = dispatch(deps, &session, message, vec![]).await?;
    Ok(Started { session, message })
}

/// Queues a session's `waiting_reply` messages, oldest first: the contact just wrote.
/// Enqueues before flipping the statuses, so a crash in between leaves them waiting (the
/// redelivered event releases them again; the queue drops the duplicate jobs).
pub(crate) async fn release_waiting(deps: &Deps, account: &str, session: &str) -> ServiceResult<usize> {
    let q = Query::partition(Index::Gsi2, keys::waiting_messages_gsi2pk(account, session));
    let waiting: Vec<Message> = crate::record::query_all(deps, q).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    enqueue(deps, &waiting.iter().collect::<Vec<_>>()).await?;
    let now = deps.clock.now();
    for m in &waiting {
        let result = deps
            .table
            .update(
                &keys::message(account, &m.id),
                vec![
                    UpdateOp::Set("status".into(), attr::s(MessageStatus::Queued.as_str())),
                    UpdateOp::Set("not_before".into(), crate::record::ts(now)),
                    UpdateOp::Remove("gsi2pk".into()),
                    UpdateOp::Remove("gsi2sk".into()),
                    UpdateOp::Add("version".into(), 1),
                ],
                Some(Condition::equals("status", attr::s(MessageStatus::WaitingReply.as_str()))),
            )
            .await;
        match result {
            Ok(_) | Err(crate::ports::TableError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(waiting.len())
}

pub(crate) fn insert_message(m: &Message) -> ServiceResult<TransactItem> {
    Ok(TransactItem::Put { item: message_item(m)?, condition: Some(Condition::NotExists) })
}

/// A message from the system (auto-replies, keep-alive): sent like an agent's, waiting for
/// the window like an agent's.
pub async fn send_system(deps: &Deps, s: &Session, text: &str) -> ServiceResult<Message> {
    let mut m = new_message(deps, s, AuthorKind::System, None);
    m.text = Some(text.to_owned());
    dispatch(deps, s, m, vec![]).await
}

/// A feature's notice to the contact under an id the feature chose and kept beforehand,
/// so a retried job finds the message instead of sending a second: the text inside the
/// 24 h window, the approved `template` with its parameters outside it (without one, the
/// text waits for the contact's next message, as every message outside the window does).
pub async fn send_notice(
    deps: &Deps,
    s: &Session,
    id: &str,
    text: &str,
    template: Option<(&str, &Value)>,
) -> ServiceResult<Message> {
    match load(deps, &s.account_id, id).await {
        Ok(existing) => return Ok(existing),
        Err(ServiceError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let mut m = new_message(deps, s, AuthorKind::System, None);
    m.id = id.to_owned();
    m.text = Some(text.to_owned());
    if let (false, Some((template_id, parameters))) = (sessions::window(deps, s).await?.is_open(), template) {
        m = with_template(deps, s, m, template_id, parameters).await?;
    }
    dispatch(deps, s, m, vec![]).await
}

/// Makes `m` (a message of `s`, not stored) an approved template of the session's channel
/// with its parameters filled in: what agents and automations send.
pub(crate) async fn with_template(
    deps: &Deps,
    s: &Session,
    mut m: Message,
    template_id: &str,
    parameters: &Value,
) -> ServiceResult<Message> {
    let kind = channels::load(deps, &s.account_id, &s.channel_id).await?.channel.kind;
    kinds::templates(kind).map_err(ServiceError::invalid)?;
    let t = templates::load(deps, &s.account_id, template_id).await?;
    if t.channel_id != s.channel_id {
        return Err(ServiceError::invalid("the template belongs to another channel"));
    }
    if t.status != TemplateStatus::Approved {
        return Err(ServiceError::invalid("only approved templates can be sent"));
    }
    let (text, values) = templates::render(&t, parameters)?;
    m.kind = MessageKind::Template;
    m.text = Some(text);
    m.content = json!({"name": t.name, "language": t.language, "values": values, "template_id": t.id});
    Ok(m)
}

/// Sends an approved template in `session` on behalf of `author` (scheduled messages).
pub(crate) async fn send_template_as(
    deps: &Deps,
    author: &Caller,
    s: &Session,
    template_id: &str,
    parameters: Value,
) -> ServiceResult<Message> {
    let m =
        compose(deps, author, s, Draft::Template { template_id: template_id.to_owned(), parameters }).await?;
    dispatch(deps, s, m, vec![]).await
}
