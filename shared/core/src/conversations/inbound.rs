//! Applying provider events, exactly once in effect: a redelivered event finds its marker
//! and changes nothing; statuses only move forward.
//!
//! A stored customer message records a [`DomainEvent::MessageReceived`] on its idempotency
//! marker, in the same transaction as the message, and publishes it to the features'
//! reactions (routing, keep-alive, out-of-hours reply, ...). A redelivered event finds the
//! marker and publishes its recorded events again, so a crash between the commit and the
//! reactions loses none (reactions are idempotent; see `crate::deps::Reaction`). Nothing
//! here names a feature: a new reaction is registered in `crate::features`.

use super::channels;
use super::contacts;
use super::events::{DeliveryStatus, InboundEvent, InboundMessage, StatusUpdate, Watermark};
use super::messages::{self, insert_message};
use super::model::*;
use super::sessions;
use super::templates;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::events::{CustomerMessage, DomainEvent};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Cmp, Condition, Index, Item, Query, SortCondition, TableError, TransactItem, UpdateOp};
use chrono::Duration;

/// How long a status for a message not (yet) known is kept before it is dropped.
pub const PENDING_STATUS_TTL: Duration = Duration::hours(24);

/// What applying an event did (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Stored {
        message_id: String,
        session_id: String,
        new_session: bool,
    },
    Duplicate,
    ReactionAttached,
    StatusApplied,
    StatusIgnored,
    StatusParked,
    TemplateStatus,
    PhoneQuality,
    /// A feature consumed it as an answer (a CSAT score): no session takes it.
    Intercepted,
    /// Unknown or inactive channel, blocked contact: nothing stored anywhere visible.
    Ignored(&'static str),
}

pub async fn apply(deps: &Deps, event: InboundEvent) -> ServiceResult<Applied> {
    match event {
        InboundEvent::Message(m) => apply_message(deps, *m).await,
        InboundEvent::Status(s) => apply_status(deps, s).await,
        InboundEvent::Watermark(w) => apply_watermark(deps, w).await,
        InboundEvent::Template(t) => {
            templates::apply_update(deps, &t).await?;
            Ok(Applied::TemplateStatus)
        }
        InboundEvent::Quality(q) => {
            let Some((account, channel)) = super::channels::account_of_waba(deps, &q.waba_id).await? else {
                return Ok(Applied::Ignored("quality update for an unknown WABA"));
            };
            let changed = DomainEvent::PhoneQualityChanged {
                account_id: account,
                channel_id: channel,
                event: q.event.to_ascii_uppercase(),
                current_limit: q.current_limit,
            };
            deps.publish(&[changed]).await?;
            Ok(Applied::PhoneQuality)
        }
    }
}

fn pointer(key: crate::ports::Key, message: &str) -> Item {
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("message_id".to_owned(), attr::s(message)),
    ])
}

/// The idempotency marker of a stored customer message, carrying the events its
/// application recorded (the outbox).
fn marker(key: crate::ports::Key, message: &str, events: &[DomainEvent]) -> ServiceResult<Item> {
    let mut item = pointer(key, message);
    item.insert("events".to_owned(), attr::s(serde_json::to_string(events)?));
    Ok(item)
}

/// The idempotency marker of a provider message id, if it was applied.
async fn marker_of(deps: &Deps, account: &str, provider_id: &str) -> ServiceResult<Option<Item>> {
    Ok(deps.table.get(&keys::provider_message(account, provider_id)).await?)
}

async fn message_by_provider_id(
    deps: &Deps,
    account: &str,
    provider_id: &str,
) -> ServiceResult<Option<String>> {
    Ok(marker_of(deps, account, provider_id)
        .await?
        .and_then(|p| attr::get_s(&p, "message_id").map(str::to_owned)))
}

/// The events recorded on a marker (none for markers of reactions and older markers).
fn recorded_events(marker: &Item) -> ServiceResult<Vec<DomainEvent>> {
    match attr::get_s(marker, "events") {
        Some(json) => Ok(serde_json::from_str(json)?),
        None => Ok(Vec::new()),
    }
}

async fn apply_message(deps: &Deps, event: InboundMessage) -> ServiceResult<Applied> {
    let Some(channel) = channels::resolve(deps, &event.channel).await? else {
        tracing::warn!("message for an unknown channel: ignored");
        return Ok(Applied::Ignored("unknown channel"));
    };
    let channel = channel.channel;
    if !channel.active || channel.removed_at.is_some() {
        return Ok(Applied::Ignored("inactive channel"));
    }
    let account = channel.account_id.clone();
    let contact = match &event.identity {
        Some(identity) => {
            contacts::upsert_from_identity(deps, &account, identity, event.profile_name.as_deref()).await?
        }
        None if event.wa_id.is_none() && event.bsuid.is_none() => {
            return Ok(Applied::Ignored("no sender"));
        }
        None => {
            let found = contacts::upsert_from_whatsapp(
                deps,
                &account,
                event.wa_id.as_deref(),
                event.bsuid.as_deref(),
                event.profile_name.as_deref(),
            )
            .await?;
            let Some(contact) = found else {
                return Ok(Applied::Ignored("erased or blocked number"));
            };
            contact
        }
    };
    if matches!(contact.status, ContactStatus::Blocked | ContactStatus::Erased) {
        return Ok(Applied::Ignored("blocked contact"));
    }
    if let Some((target, emoji)) = &event.reaction {
        return attach_reaction(deps, &account, &event.provider_id, target, emoji).await;
    }
    let now = deps.clock.now();
    for attempt in 0..5 {
        // The common case, a message to an open session, writes nothing before its
        // transaction, whose marker condition catches a redelivery: no marker read first.
        // Any other case (a session to open or reopen, media to fetch, a retry after a
        // conflict) checks the marker before doing anything, so a redelivery never opens a
        // session nor fetches its media again.
        let open = match attempt {
            0 if event.media_id.is_none() => {
                sessions::open_session(deps, &account, &channel.id, &contact.id).await?
            }
            _ => None,
        };
        let (mut session, opened) = match open {
            Some(s) => (s, sessions::Opened::Existing),
            None => {
                if let Some(marker) = marker_of(deps, &account, &event.provider_id).await? {
                    // Already applied; the release and the reactions below are idempotent
                    // and complete a run that crashed after its commit.
                    if let Some(s) = sessions::open_session(deps, &account, &channel.id, &contact.id).await? {
                        messages::release_waiting(deps, &account, &s.id).await?;
                    }
                    deps.publish(&recorded_events(&marker)?).await?;
                    return Ok(Applied::Duplicate);
                }
                // No open session takes it (a message to an open one never gets here):
                // a feature awaiting the contact's answer may consume it first.
                let customer = CustomerMessage {
                    account_id: account.clone(),
                    channel_id: channel.id.clone(),
                    contact_id: contact.id.clone(),
                    provider_id: event.provider_id.clone(),
                    text: event.text.clone(),
                    content: event.content.clone(),
                };
                if deps.intercept(&customer).await? {
                    return Ok(Applied::Intercepted);
                }
                sessions::for_inbound(deps, &account, &channel.id, &contact.id, now).await?
            }
        };
        let mut m = Message {
            id: deps.ids.new_id(),
            account_id: account.clone(),
            session_id: session.id.clone(),
            channel_id: channel.id.clone(),
            contact_id: contact.id.clone(),
            direction: Direction::In,
            kind: event.kind,
            text: event.text.clone(),
            content: event.content.clone(),
            media: None,
            transcription: None,
            provider_id: Some(event.provider_id.clone()),
            status: MessageStatus::Received,
            error: None,
            author: AuthorKind::Contact,
            author_id: None,
            reply_to: event.reply_to.clone(),
            forwarded: event.forwarded,
            referral: event.referral.clone(),
            reactions: Vec::new(),
            not_before: None,
            flow: None,
            attempts: 0,
            claimed_at: None,
            created_at: event.sent_at,
            sent_at: Some(event.sent_at),
            delivered_at: None,
            read_at: None,
            version: 1,
        };
        if let Some(media_id) = &event.media_id {
            m.media = Some(fetch_media(deps, &channel.id, &account, &m.id, media_id, &event).await);
        }
        session.last_inbound_at = Some(now);
        session.last_inbound_provider_id = Some(event.provider_id.clone());
        session.last_activity_at = now;
        session.unread += 1;
        let received = [DomainEvent::MessageReceived {
            account_id: account.clone(),
            channel_id: channel.id.clone(),
            contact_id: contact.id.clone(),
            session_id: session.id.clone(),
            message_id: m.id.clone(),
            new_session: opened == sessions::Opened::New,
            at: now,
            keyword: crate::events::keyword_of(event.text.as_deref()),
            audio: matches!(m.kind, MessageKind::Audio | MessageKind::Voice),
        }];
        let extra = vec![
            TransactItem::Put {
                item: marker(keys::provider_message(&account, &event.provider_id), &m.id, &received)?,
                condition: Some(Condition::NotExists),
            },
            insert_message(&m)?,
        ];
        match sessions::save(deps, &mut session, extra).await {
            Ok(()) => {
                messages::release_waiting(deps, &account, &session.id).await?;
                deps.publish(&received).await?;
                return Ok(Applied::Stored {
                    message_id: m.id,
                    session_id: session.id,
                    new_session: opened == sessions::Opened::New,
                });
            }
            // The session changed meanwhile (an agent acted) or the marker appeared: again.
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the session kept changing while a message arrived"))
}

/// Fetches inbound media into the blob store. A failure is recorded on the message, which
/// is stored anyway: the text and the fact of the message are never lost.
async fn fetch_media(
    deps: &Deps,
    channel: &str,
    account: &str,
    message: &str,
    media_id: &str,
    event: &InboundMessage,
) -> Media {
    let mut media = Media {
        blob_key: None,
        mime_type: event.mime_type.clone(),
        filename: event.filename.clone(),
        provider_media_id: Some(media_id.to_owned()),
        fetch_error: None,
    };
    let access = match channels::load(deps, account, channel).await {
        Ok(c) => c.access(deps).await,
        Err(e) => Err(e),
    };
    let access = match access {
        Ok(a) => a,
        Err(e) => {
            media.fetch_error = Some(e.to_string());
            return media;
        }
    };
    match deps.messaging.fetch_media(&access, media_id).await {
        Ok((bytes, mime)) => {
            let key = format!("media/{account}/{message}");
            match deps.blob.put(&key, bytes, &mime).await {
                Ok(()) => {
                    media.blob_key = Some(key);
                    media.mime_type = Some(mime);
                }
                Err(e) => media.fetch_error = Some(e.to_string()),
            }
        }
        Err(e) => {
            tracing::warn!(message_id = %message, error = %e, "media not fetched");
            media.fetch_error = Some(e.to_string());
        }
    }
    media
}

async fn attach_reaction(
    deps: &Deps,
    account: &str,
    provider_id: &str,
    target: &str,
    emoji: &str,
) -> ServiceResult<Applied> {
    let Some(target_id) = message_by_provider_id(deps, account, target).await? else {
        return Ok(Applied::Ignored("reaction to an unknown message"));
    };
    for _ in 0..5 {
        let mut m = messages::load(deps, account, &target_id).await?;
        m.reactions.retain(|r| r.from != Direction::In);
        if !emoji.is_empty() {
            m.reactions.push(Reaction { emoji: emoji.to_owned(), from: Direction::In });
        }
        let reactions = serde_dynamo::to_attribute_value(&m.reactions)?;
        let writes = vec![
            TransactItem::Put {
                item: pointer(keys::provider_message(account, provider_id), &target_id),
                condition: Some(Condition::NotExists),
            },
            TransactItem::Update {
                key: keys::message(account, &target_id),
                ops: vec![UpdateOp::Set("reactions".into(), reactions), UpdateOp::Add("version".into(), 1)],
                condition: Some(Condition::version_is(m.version)),
            },
        ];
        match deps.table.transact(writes).await {
            Ok(()) => return Ok(Applied::ReactionAttached),
            Err(TableError::TransactionConditionFailed { index: 0 }) => return Ok(Applied::Duplicate),
            Err(TableError::TransactionConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the message kept changing"))
}

fn status_of(s: DeliveryStatus) -> MessageStatus {
    match s {
        DeliveryStatus::Sent => MessageStatus::Sent,
        DeliveryStatus::Delivered => MessageStatus::Delivered,
        DeliveryStatus::Read => MessageStatus::Read,
        DeliveryStatus::Failed => MessageStatus::Failed,
    }
}

async fn apply_status(deps: &Deps, update: StatusUpdate) -> ServiceResult<Applied> {
    let Some(channel) = channels::resolve(deps, &update.channel).await? else {
        return Ok(Applied::Ignored("unknown channel"));
    };
    let account = channel.channel.account_id;
    let marker = marker_of(deps, &account, &update.provider_id).await?;
    if let Some(reference) = marker.as_ref().and_then(|m| attr::get_s(m, "reference")) {
        deps.publish(&[foreign_status(&account, reference, &update)]).await?;
        return Ok(Applied::StatusApplied);
    }
    match marker.as_ref().and_then(|p| attr::get_s(p, "message_id")).map(str::to_owned) {
        Some(id) => advance(deps, &account, &id, &update).await,
        None => {
            // Not known yet (the send is finishing) or never ours: park it, bounded by a TTL.
            let key = keys::pending_status(&account, &update.provider_id, status_of(update.status).as_str());
            let mut item = Item::from([
                ("pk".to_owned(), attr::s(key.pk)),
                ("sk".to_owned(), attr::s(key.sk)),
                ("ttl".to_owned(), attr::n((deps.clock.now() + PENDING_STATUS_TTL).timestamp())),
            ]);
            let body = serde_json::to_string(&update)?;
            item.insert("update".into(), attr::s(body));
            deps.table.put(item, None).await?;
            // The message may have become known between the check and the park.
            if let Some(marker) = marker_of(deps, &account, &update.provider_id).await? {
                if let Some(reference) = attr::get_s(&marker, "reference") {
                    deps.publish(&[foreign_status(&account, reference, &update)]).await?;
                    return Ok(Applied::StatusApplied);
                }
                if let Some(id) = attr::get_s(&marker, "message_id") {
                    return advance(deps, &account, id, &update).await;
                }
            }
            Ok(Applied::StatusParked)
        }
    }
}

/// How many of a conversation's latest messages a watermark looks at: anything older was
/// sent long before and had its own watermark.
const WATERMARK_REACH: u32 = 50;

/// A watermark: each of the open conversation's latest outbound messages sent up to it
/// moves forward to its status (statuses only move forward, so a redelivery changes
/// nothing).
async fn apply_watermark(deps: &Deps, w: Watermark) -> ServiceResult<Applied> {
    let Some(channel) = channels::resolve(deps, &w.channel).await? else {
        return Ok(Applied::Ignored("unknown channel"));
    };
    let (account, channel) = (channel.channel.account_id, channel.channel.id);
    let Some(contact) = contacts::by_identity(deps, &account, &w.identity).await? else {
        return Ok(Applied::Ignored("watermark of an unknown person"));
    };
    let Some(session) = sessions::open_session(deps, &account, &channel, &contact.id).await? else {
        return Ok(Applied::StatusIgnored);
    };
    let q = Query::partition(Index::Gsi1, keys::session_messages_gsi1pk(&account, &session.id))
        .backward()
        .limit(WATERMARK_REACH);
    let target = rank(status_of(w.status));
    for item in deps.table.query(q).await?.items {
        let m: Message = crate::record::from_item(item)?;
        let (Some(provider_id), Some(sent_at)) = (&m.provider_id, m.sent_at) else { continue };
        // Watermarks count milliseconds.
        let after = sent_at.timestamp_millis() > w.watermark.timestamp_millis();
        if m.direction != Direction::Out || after || rank(m.status) >= target {
            continue;
        }
        let update = StatusUpdate {
            channel: w.channel.clone(),
            provider_id: provider_id.clone(),
            recipient: Some(w.identity.id.clone()),
            status: w.status,
            at: w.watermark,
            error_code: None,
            error_title: None,
        };
        advance(deps, &account, &m.id, &update).await?;
    }
    Ok(Applied::StatusApplied)
}

/// The status of something a feature sent outside sessions, for that feature.
fn foreign_status(account: &str, reference: &str, update: &StatusUpdate) -> DomainEvent {
    DomainEvent::DeliveryStatus {
        account_id: account.to_owned(),
        reference: reference.to_owned(),
        status: update.status,
        at: update.at,
        error_code: update.error_code,
        error_title: update.error_title.clone(),
    }
}

/// The pointer a feature writes for a provider id it sent outside sessions: statuses for
/// it are published as [`DomainEvent::DeliveryStatus`] with `reference`.
pub fn reference_pointer(account: &str, provider_id: &str, reference: &str) -> Item {
    let key = keys::provider_message(account, provider_id);
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("reference".to_owned(), attr::s(reference)),
    ])
}

/// Publishes the statuses parked for `provider_id` under `reference` (called once a
/// feature's send recorded its provider id), then drops them.
pub async fn publish_parked(
    deps: &Deps,
    account: &str,
    provider_id: &str,
    reference: &str,
) -> ServiceResult<()> {
    for (key, update) in parked(deps, account, provider_id).await? {
        deps.publish(&[foreign_status(account, reference, &update)]).await?;
        deps.table.delete(&key, None).await?;
    }
    Ok(())
}

async fn parked(
    deps: &Deps,
    account: &str,
    provider_id: &str,
) -> ServiceResult<Vec<(crate::ports::Key, StatusUpdate)>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::pending_status_prefix(provider_id)));
    let page = deps.table.query(q).await?;
    Ok(page
        .items
        .iter()
        .filter_map(|item| {
            let key = crate::ports::Key::of(item)?;
            let update = serde_json::from_str::<StatusUpdate>(attr::get_s(item, "update")?).ok()?;
            Some((key, update))
        })
        .collect())
}

/// Moves a message's status forward (never back; `failed` wins).
pub(crate) async fn advance(
    deps: &Deps,
    account: &str,
    message: &str,
    update: &StatusUpdate,
) -> ServiceResult<Applied> {
    let status = status_of(update.status);
    let at = crate::record::ts(update.at);
    let mut ops = vec![
        UpdateOp::Set("status".into(), attr::s(status.as_str())),
        UpdateOp::Set("status_rank".into(), attr::n(rank(status))),
        UpdateOp::Add("version".into(), 1),
    ];
    match status {
        // The rank condition below lets each of these apply at most once.
        MessageStatus::Sent => ops.push(UpdateOp::Set("sent_at".into(), at.clone())),
        MessageStatus::Delivered => ops.push(UpdateOp::Set("delivered_at".into(), at.clone())),
        MessageStatus::Read => ops.push(UpdateOp::Set("read_at".into(), at.clone())),
        MessageStatus::Failed => {
            let reason =
                super::meta_errors::reason_of_failed_status(update.error_code, update.error_title.as_deref());
            let error = serde_dynamo::to_attribute_value(MessageError { code: update.error_code, reason })?;
            ops.push(UpdateOp::Set("error".into(), error));
        }
        _ => {}
    }
    let condition = Condition::And(vec![
        Condition::Exists,
        Condition::Compare("status_rank".into(), Cmp::Lt, attr::n(rank(status))),
        // A message still being claimed by the send function is not overtaken.
        Condition::NotEquals("status".into(), attr::s(MessageStatus::Cancelled.as_str())),
    ]);
    let key = keys::message(account, message);
    let item = match deps.table.update(&key, ops, Some(condition)).await {
        Ok(item) => item,
        Err(TableError::ConditionFailed) => {
            // A redelivery of an update that was applied (its time is the message's for
            // that status) publishes again: the crash may have come before the publish.
            let stamp = match status {
                MessageStatus::Sent => Some("sent_at"),
                MessageStatus::Delivered => Some("delivered_at"),
                MessageStatus::Read => Some("read_at"),
                _ => None,
            };
            let current = deps.table.get(&key).await?;
            let applied = current.filter(|m| match stamp {
                Some(field) => m.get(field) == Some(&at),
                None => attr::get_s(m, "status") == Some(status.as_str()),
            });
            let Some(item) = applied else { return Ok(Applied::StatusIgnored) };
            publish_status(deps, account, message, &item, update).await?;
            return Ok(Applied::StatusIgnored);
        }
        Err(e) => return Err(e.into()),
    };
    publish_status(deps, account, message, &item, update).await?;
    Ok(Applied::StatusApplied)
}

async fn publish_status(
    deps: &Deps,
    account: &str,
    message: &str,
    item: &Item,
    update: &StatusUpdate,
) -> ServiceResult<()> {
    let Some(session) = attr::get_s(item, "session_id") else { return Ok(()) };
    deps.publish(&[DomainEvent::MessageStatusChanged {
        account_id: account.to_owned(),
        session_id: session.to_owned(),
        message_id: message.to_owned(),
        status: update.status,
        at: update.at,
        error_code: update.error_code,
    }])
    .await
}

/// Applies the statuses parked for `provider_id` (called once the message is known).
pub(crate) async fn apply_parked(
    deps: &Deps,
    account: &str,
    message: &str,
    provider_id: &str,
) -> ServiceResult<()> {
    for (key, update) in parked(deps, account, provider_id).await? {
        advance(deps, account, message, &update).await?;
        deps.table.delete(&key, None).await?;
    }
    Ok(())
}
