//! Privacy (LGPD, PRODUCT.md §14): an admin exports everything stored about a contact, or
//! erases it. Erasure is a job on the `routing` queue (the `transfer` function), idempotent
//! step by step, so a redelivery or a crash midway finishes the work:
//! 1. the contact's sessions (found through the `CSESS#<contact>#` items each session's
//!    creation writes): open ones are completed; every message loses its text, content,
//!    media (the blob is deleted) and reactions, keeping kind, direction, status and
//!    times; the notes are deleted;
//! 2. the contact's scheduled messages are cancelled and lose their parameters;
//! 3. the contact keeps its id, dates and `erased` status only; its number and user-id
//!    pointers and every index item go, and a hash of the number keeps it from becoming a
//!    contact again by itself (an admin may unblock it);
//! 4. the erasure record (who asked, when, when it finished) stays as the audit entry.
//!
//! Counts and reports keep their numbers: sessions, messages and their statuses remain.

use crate::accounts::Caller;
use crate::audit;
use crate::conversations::contacts::{self, block_number};
use crate::conversations::model::{Contact, ContactStatus, Message, Note, Session, SessionStatus};
use crate::conversations::{messages, sessions};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{self, RoutingJob};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Query, SortCondition, TransactItem};
use crate::record::{from_item, query_all, query_all_items, to_item};
use crate::time::scheduled::{self, ScheduledMessage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// How long the media links of an export work.
const LINK_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaLink {
    pub message_id: String,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    /// Valid for 24 hours.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionExport {
    pub session: Session,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
}

/// Everything stored about a contact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactExport {
    pub exported_at: DateTime<Utc>,
    pub contact: Contact,
    pub sessions: Vec<SessionExport>,
    pub media: Vec<MediaLink>,
    pub scheduled_messages: Vec<ScheduledMessage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    Pending,
    Done,
}

/// An erasure and its audit trail: who asked, when, when it was done. Holds no data of
/// the contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Erasure {
    pub contact_id: String,
    pub account_id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub status: ErasureStatus,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: u64,
}

async fn session_ids(deps: &Deps, account: &str, contact: &str) -> ServiceResult<Vec<String>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::contact_sessions_prefix(contact)));
    Ok(query_all_items(deps, q)
        .await?
        .iter()
        .filter_map(|i| attr::get_s(i, "id").map(str::to_owned))
        .collect())
}

async fn messages_of(deps: &Deps, account: &str, session: &str) -> ServiceResult<Vec<Message>> {
    query_all(deps, Query::partition(Index::Gsi1, keys::session_messages_gsi1pk(account, session))).await
}

async fn notes_of(deps: &Deps, account: &str, session: &str) -> ServiceResult<Vec<Note>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::notes_prefix(session)));
    query_all(deps, q).await
}

async fn scheduled_of(deps: &Deps, account: &str, contact: &str) -> ServiceResult<Vec<ScheduledMessage>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::SCHEDULED_PREFIX.into()));
    let all: Vec<ScheduledMessage> = query_all(deps, q).await?;
    Ok(all.into_iter().filter(|m| m.contact_id == contact).collect())
}

/// Everything stored about a contact, as JSON (admins).
pub async fn export(deps: &Deps, caller: &Caller, contact_id: &str) -> ServiceResult<ContactExport> {
    caller.require_admin()?;
    let account = &caller.account_id;
    let contact = contacts::load(deps, account, contact_id).await?;
    let mut out = Vec::new();
    let mut media = Vec::new();
    for id in session_ids(deps, account, contact_id).await? {
        let session = match sessions::load(deps, account, &id).await {
            Ok(s) => s,
            Err(ServiceError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        let messages = messages_of(deps, account, &id).await?;
        for m in &messages {
            if let Some(key) = m.media.as_ref().and_then(|x| x.blob_key.clone()) {
                media.push(MediaLink {
                    message_id: m.id.clone(),
                    mime_type: m.media.as_ref().and_then(|x| x.mime_type.clone()),
                    filename: m.media.as_ref().and_then(|x| x.filename.clone()),
                    url: deps.blob.presigned_get_url(&key, LINK_TTL).await?,
                });
            }
        }
        out.push(SessionExport { notes: notes_of(deps, account, &id).await?, session, messages });
    }
    Ok(ContactExport {
        exported_at: deps.clock.now(),
        contact,
        sessions: out,
        media,
        scheduled_messages: scheduled_of(deps, account, contact_id).await?,
    })
}

pub async fn load_erasure(deps: &Deps, account: &str, contact: &str) -> ServiceResult<Erasure> {
    match deps.table.get(&keys::erasure(account, contact)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("erasure")),
    }
}

/// An erasure's state (admins).
pub async fn get_erasure(deps: &Deps, caller: &Caller, contact: &str) -> ServiceResult<Erasure> {
    caller.require_admin()?;
    load_erasure(deps, &caller.account_id, contact).await
}

/// Asks for a contact's erasure (admins): recorded once, then run as a job. Asking again
/// returns the recorded erasure (and queues the job again, which finishes any left work).
pub async fn request_erasure(deps: &Deps, caller: &Caller, contact_id: &str) -> ServiceResult<Erasure> {
    caller.require_admin()?;
    let account = &caller.account_id;
    contacts::load(deps, account, contact_id).await?;
    let erasure = Erasure {
        contact_id: contact_id.to_owned(),
        account_id: account.clone(),
        requested_by: caller.user_id.clone(),
        requested_at: deps.clock.now(),
        status: ErasureStatus::Pending,
        finished_at: None,
        version: 1,
    };
    let item = to_item(&keys::erasure(account, contact_id), &erasure)?;
    let erasure = match deps.table.put(item, Some(Condition::NotExists)).await {
        Ok(()) => erasure,
        Err(crate::ports::TableError::ConditionFailed) => load_erasure(deps, account, contact_id).await?,
        Err(e) => return Err(e.into()),
    };
    if erasure.status == ErasureStatus::Pending {
        let job = RoutingJob::EraseContact { account_id: account.clone(), contact_id: contact_id.to_owned() };
        jobs::enqueue_routing(deps, &job).await?;
    }
    audit::record(deps, caller, "contact.erased", Some(contact_id), serde_json::json!({})).await?;
    Ok(erasure)
}

/// The erasure job (see the module's notes); every step may run again.
pub async fn erase(deps: &Deps, account: &str, contact_id: &str) -> ServiceResult<()> {
    let mut erasure = match load_erasure(deps, account, contact_id).await {
        Ok(e) if e.status == ErasureStatus::Pending => e,
        Ok(_) | Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    for id in session_ids(deps, account, contact_id).await? {
        if let Ok(s) = sessions::load(deps, account, &id).await
            && s.status != SessionStatus::Completed
        {
            sessions::complete_by_system(deps, account, &id).await?;
        }
        for m in messages_of(deps, account, &id).await? {
            erase_message(deps, m).await?;
        }
        for n in notes_of(deps, account, &id).await? {
            deps.table.delete(&keys::note(account, &id, &n.id), None).await?;
        }
    }
    for m in scheduled_of(deps, account, contact_id).await? {
        scheduled::forget_parameters(deps, &m).await?;
    }
    erase_contact(deps, account, contact_id).await?;
    let read = erasure.version;
    erasure.status = ErasureStatus::Done;
    erasure.finished_at = Some(deps.clock.now());
    erasure.version += 1;
    let item = to_item(&keys::erasure(account, contact_id), &erasure)?;
    match deps.table.put(item, Some(Condition::version_is(read))).await {
        Ok(()) | Err(crate::ports::TableError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn erase_message(deps: &Deps, mut m: Message) -> ServiceResult<()> {
    let erased = m.text.is_none()
        && m.content.is_null()
        && m.media.is_none()
        && m.reactions.is_empty()
        && m.referral.is_none();
    if erased {
        // Done by an earlier run.
        return Ok(());
    }
    if let Some(key) = m.media.as_ref().and_then(|x| x.blob_key.as_deref()) {
        deps.blob.delete(key).await?;
    }
    // The inbound marker's recorded events carry a short text as a keyword: long
    // published by now, they go too (before the message, so a rerun still finds them).
    if m.direction == crate::conversations::model::Direction::In
        && let Some(provider_id) = &m.provider_id
    {
        let scrub = deps
            .table
            .update(
                &crate::keys::provider_message(&m.account_id, provider_id),
                vec![crate::ports::UpdateOp::Remove("events".into())],
                Some(crate::ports::Condition::Exists),
            )
            .await;
        match scrub {
            Ok(_) | Err(crate::ports::TableError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    m.text = None;
    m.content = serde_json::Value::Null;
    m.media = None;
    m.referral = None;
    m.reactions.clear();
    m.version += 1;
    messages::overwrite(deps, &m).await
}

async fn erase_contact(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    for _ in 0..5 {
        let before = contacts::load(deps, account, id).await?;
        if before.status == ContactStatus::Erased {
            return Ok(());
        }
        let mut writes: Vec<TransactItem> = Vec::new();
        if let Some(wa) = &before.wa_id {
            let pointer = keys::contact_by_wa_id(account, &contacts::canonical_wa_id(wa));
            writes.push(TransactItem::Delete { key: pointer, condition: None });
            writes.push(block_number(account, wa));
        }
        if let Some(b) = &before.bsuid {
            writes.push(TransactItem::Delete { key: keys::contact_by_bsuid(account, b), condition: None });
        }
        let mut after = Contact {
            name: None,
            phone: None,
            wa_id: None,
            bsuid: None,
            // Their pointers stay and lead to this erased record: the person's next message
            // on Messenger, Instagram or Telegram is ignored, as an erased number's is.
            identities: Default::default(),
            email: None,
            tags: Vec::new(),
            status: ContactStatus::Erased,
            wallet_id: None,
            wallet_joined_at: None,
            custom: Default::default(),
            origin: None,
            ..before.clone()
        };
        match contacts::save(deps, &before, &mut after, writes).await {
            Ok(()) => return Ok(()),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the contact kept changing during its erasure"))
}
