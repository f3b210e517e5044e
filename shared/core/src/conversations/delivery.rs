//! Delivery (the `send` function's use case): claim the message so a redelivered job never
//! sends twice, pace the channel, call the provider, record the outcome.

use super::channels;
use super::contacts;
use super::inbound;
use super::kinds::{self, Window};
use super::messages::{self, fail};
use super::meta_errors::{Verdict, judge};
use super::model::*;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::OutboundJob;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{
    Cmp, Condition, HeaderValue, Item, OutboundChoice, OutboundContent, OutboundRequest, ProviderError,
    TableError, TemplateValues, TransactItem, UpdateOp,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::time::Duration as StdDuration;

/// Attempts before a retryable failure becomes final.
pub const MAX_ATTEMPTS: u32 = 5;
/// A claim older than this was interrupted (the send function died mid-call).
pub const CLAIM_LEASE: Duration = Duration::seconds(60);

/// For a record found `sending` (claimed by an earlier delivery of its job): `None` once
/// the claim has expired (that delivery died mid-call: the record fails), otherwise how
/// long until it does, so the job looks again just after (not a whole lease later).
pub(crate) fn claim_wait(claimed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<StdDuration> {
    let expires = claimed_at.unwrap_or(now) + CLAIM_LEASE;
    (now <= expires).then(|| (expires - now).to_std().unwrap_or_default() + StdDuration::from_millis(100))
}
/// How long presigned media links given to the provider live.
const MEDIA_LINK_TTL: StdDuration = StdDuration::from_secs(3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done with this job (sent, failed for good, or nothing to do).
    Done,
    /// Not yet: try this job again after the given time (send delay, pacing).
    RetryAfter(StdDuration),
    /// A transient failure: try again with backoff.
    Retry(String),
}

pub async fn run(deps: &Deps, job: OutboundJob) -> ServiceResult<Outcome> {
    match job {
        OutboundJob::Deliver { account_id, message_id } => deliver(deps, &account_id, &message_id).await,
        // Bulk messages are the campaigns feature's (`campaigns::bulk`), which this module
        // must not import: the `send` function dispatches them there.
        OutboundJob::Bulk { .. } => Err(ServiceError::invalid("a bulk job is delivered by campaigns::bulk")),
        OutboundJob::ReadReceipt { account_id, channel_id, provider_id } => {
            let channel = channels::load(deps, &account_id, &channel_id).await?;
            if channel.channel.removed_at.is_some() {
                return Ok(Outcome::Done);
            }
            match deps.messaging.mark_read(&channel.access(deps).await?, &provider_id).await {
                Ok(()) => Ok(Outcome::Done),
                Err(e) => match judge(&e) {
                    Verdict::Retry => Ok(Outcome::Retry(e.to_string())),
                    // A read receipt that cannot be sent is not worth a failure anywhere.
                    Verdict::Fail { .. } => Ok(Outcome::Done),
                },
            }
        }
    }
}

/// Sends are spread evenly, one every `PACING_WINDOW / rate`: 97.6 % of the limit, and any
/// one-second window holds at most `floor(rate / 1.025) + 1 ≤ rate` of them — at the
/// provider too, as long as network jitter shifts a send by less than 25 ms.
pub const PACING_WINDOW: StdDuration = StdDuration::from_micros(1_025_000);
/// How far ahead a sender may reserve its slot (and wait for it in-process).
pub const MAX_RESERVE_AHEAD: StdDuration = StdDuration::from_secs(1);

/// How far ahead a bulk sender (a campaign, a sequence) may reserve: only the slots agents,
/// bots and the system leave free right now. Interactive senders reserve up to
/// [`MAX_RESERVE_AHEAD`], so under a saturating campaign an agent's message waits at most
/// this (plus one spacing) for its slot, and the campaign takes what is left.
pub const BULK_RESERVE_AHEAD: StdDuration = StdDuration::from_millis(20);

/// Who asks for a send slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Agents, bots, the system: first.
    Interactive,
    /// Campaigns and sequences: what the interactive lane leaves.
    Bulk,
}

impl Lane {
    fn ahead(self) -> StdDuration {
        match self {
            Lane::Interactive => MAX_RESERVE_AHEAD,
            Lane::Bulk => BULK_RESERVE_AHEAD,
        }
    }
}

/// What [`take_slot`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Reserved: send at this time (now or within [`MAX_RESERVE_AHEAD`]).
    At(chrono::DateTime<chrono::Utc>),
    /// Every slot within [`MAX_RESERVE_AHEAD`] is taken: try again after this.
    Busy(StdDuration),
}

/// Reserves the channel's next send slot: the later of now and the channel's next free
/// time, which moves one spacing on (conditional on its version, so concurrent senders
/// get distinct slots). The caller waits for its slot before calling the provider, so
/// the provider sees the sends one spacing apart, not in bursts.
pub async fn take_slot(
    deps: &Deps,
    account: &str,
    channel: &str,
    rate: u32,
    lane: Lane,
) -> ServiceResult<Slot> {
    reserve(deps, account, channel, rate, lane, StdDuration::ZERO).await
}

/// [`take_slot`], for a sender that cannot send before `lead` from now (the time its own
/// round trip to the table takes): the slot is no earlier than that, and the lane's
/// horizon counts from it.
async fn reserve(
    deps: &Deps,
    account: &str,
    channel: &str,
    rate: u32,
    lane: Lane,
    lead: StdDuration,
) -> ServiceResult<Slot> {
    let key = keys::send_rate(account, channel);
    let spacing_us = (PACING_WINDOW.as_micros() as i64 / i64::from(rate.max(1))).max(1);
    let ahead_us = lane.ahead().as_micros() as i64;
    let lead_us = lead.min(MAX_RESERVE_AHEAD).as_micros() as i64;
    for _ in 0..20 {
        let earliest_us = deps.clock.now().timestamp_micros() + lead_us;
        let current = deps.table.get(&key).await?;
        let version = current.as_ref().and_then(|i| attr::get_n(i, "version"));
        let next_us = current.as_ref().and_then(|i| attr::get_n(i, "next_us")).unwrap_or(0);
        let slot_us = next_us.max(earliest_us);
        if slot_us - earliest_us > ahead_us {
            // Come back when about half the reservable horizon has gone out.
            return Ok(Slot::Busy(StdDuration::from_micros((slot_us - earliest_us - ahead_us / 2) as u64)));
        }
        let condition = match version {
            Some(v) => Condition::version_is(v as u64),
            None => Condition::NotExists,
        };
        let ops = vec![
            UpdateOp::Set("next_us".into(), attr::n(slot_us + spacing_us)),
            UpdateOp::Add("version".into(), 1),
        ];
        match deps.table.update(&key, ops, Some(condition)).await {
            Ok(_) => {
                let at = chrono::DateTime::from_timestamp_micros(slot_us).unwrap_or_else(|| deps.clock.now());
                return Ok(Slot::At(at));
            }
            Err(TableError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Slot::Busy(StdDuration::from_millis(5)))
}

/// How late after its slot a send may still go: a sender woken late (a busy machine) or
/// slowed by the claim would otherwise bunch with the next slots' sends. Any one-second
/// window holds at most `rate` sends as long as each goes out less than 25 ms after its slot
/// (see [`PACING_WINDOW`]); 20 ms leaves 5 ms for the call's own jitter.
pub const LATE_TOLERANCE: StdDuration = StdDuration::from_millis(20);

/// Right before the provider call: a sender past its slot's tolerance gives the slot up and
/// waits for a new one (holding its claim, in-process; the slots it waits behind are at most
/// [`MAX_RESERVE_AHEAD`] away). Each new reservation starts as far ahead as the last one
/// took to make, so a slow table (a loaded DynamoDB endpoint) delays the send by about one
/// round trip instead of making every fresh slot stale before it comes back.
pub(crate) async fn on_time(
    deps: &Deps,
    account: &str,
    channel: &str,
    rate: u32,
    lane: Lane,
    mut slot: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    let tolerance = Duration::from_std(LATE_TOLERANCE).unwrap_or_default();
    let mut lead = StdDuration::ZERO;
    while deps.clock.now() > slot + tolerance {
        slot = loop {
            let asked = deps.clock.now();
            let reserved = reserve(deps, account, channel, rate, lane, lead).await?;
            let took = (deps.clock.now() - asked).to_std().unwrap_or_default();
            lead = lead.max(took + took / 2);
            match reserved {
                Slot::At(at) => break at,
                Slot::Busy(wait) => {
                    let until = deps.clock.now() + Duration::from_std(wait).unwrap_or_default();
                    deps.clock.sleep_until(until).await;
                }
            }
        };
        deps.clock.sleep_until(slot).await;
    }
    Ok(())
}

async fn deliver(deps: &Deps, account: &str, id: &str) -> ServiceResult<Outcome> {
    let m = match messages::load(deps, account, id).await {
        Ok(m) => m,
        Err(ServiceError::NotFound(_)) => return Ok(Outcome::Done),
        Err(e) => return Err(e),
    };
    let now = deps.clock.now();
    match m.status {
        MessageStatus::Queued => {}
        // Queued before its status flipped (see release_waiting): shortly.
        MessageStatus::WaitingReply => return Ok(Outcome::RetryAfter(StdDuration::from_secs(1))),
        MessageStatus::Sending => {
            let Some(wait) = claim_wait(m.claimed_at, now) else {
                fail(deps, account, id, None, "The send was interrupted: the message may not have reached the customer. Send it again if needed.").await?;
                return Ok(Outcome::Done);
            };
            return Ok(Outcome::RetryAfter(wait));
        }
        _ => return Ok(Outcome::Done),
    }
    if let Some(at) = m.not_before
        && now < at
    {
        return Ok(Outcome::RetryAfter((at - now).to_std().unwrap_or_default()));
    }
    // A bot speaks only while its run holds the session: once a person took it (or the
    // flow was stopped), what the bot had queued is dropped, never sent.
    if let Some(flow) = &m.flow {
        let s = super::sessions::load(deps, account, &m.session_id).await?;
        if s.bot_stopped.as_deref() == Some(flow.run_id.as_str()) {
            messages::withdraw(deps, account, id).await?;
            return Ok(Outcome::Done);
        }
    }
    let channel = channels::load(deps, account, &m.channel_id).await?;
    if channel.channel.removed_at.is_some() || !channel.channel.active {
        fail(deps, account, id, None, "The channel was removed or deactivated; the message was not sent.")
            .await?;
        return Ok(Outcome::Done);
    }
    // The token is opened before the claim: a key that cannot be had fails nothing.
    let access = channel.access(deps).await?;
    let rate = channel.channel.rate_limit_per_second;
    let slot = match take_slot(deps, account, &channel.channel.id, rate, Lane::Interactive).await? {
        Slot::Busy(wait) => return Ok(Outcome::RetryAfter(wait)),
        Slot::At(at) => at,
    };
    // A slot already due returns at once.
    deps.clock.sleep_until(slot).await;
    let key = keys::message(account, id);
    let states = (MessageStatus::Queued.as_str(), MessageStatus::Sending.as_str());
    let sending_rank = UpdateOp::Set("status_rank".into(), attr::n(rank(MessageStatus::Sending)));
    if !claim(deps, &key, states, now, vec![sending_rank]).await? {
        return Ok(Outcome::Done);
    }
    let contact = contacts::load(deps, account, &m.contact_id).await?;
    let kind = channel.channel.kind;
    let Some(to) = kinds::address(kind, &contact) else {
        fail(deps, account, id, None, kinds::unreachable(kind)).await?;
        return Ok(Outcome::Done);
    };
    // Where the tag depends on the hour (Meta's Direct channels), the window at the send
    // (the message may have waited) tags a person's late answer, or fails the message with
    // the reason.
    let mut human_agent = false;
    if kinds::judged_at_send(kind) {
        let last_inbound = super::sessions::load(deps, account, &m.session_id).await?.last_inbound_at;
        match kinds::window(kind, last_inbound, deps.clock.now()) {
            Window::Closed(reason) => {
                fail(deps, account, id, None, &format!("Not sent: {reason}.")).await?;
                return Ok(Outcome::Done);
            }
            Window::HumanAgentOnly => human_agent = true,
            Window::Open | Window::TemplatesOnly => {}
        }
    }
    let content = content_of(deps, &m).await?;
    let request = OutboundRequest { to, content, reply_to: m.reply_to.clone(), human_agent };
    on_time(deps, account, &channel.channel.id, rate, Lane::Interactive, slot).await?;
    match deps.messaging.send(&access, &request).await {
        Ok(provider_id) => {
            record_sent(deps, account, &m, &provider_id).await?;
            Ok(Outcome::Done)
        }
        Err(e) => match judge(&e) {
            Verdict::Fail { code, reason } => {
                fail(deps, account, id, code, &reason).await?;
                Ok(Outcome::Done)
            }
            Verdict::Retry if m.attempts + 1 >= MAX_ATTEMPTS => {
                fail(deps, account, id, None, &format!("Gave up after {MAX_ATTEMPTS} attempts: {e}")).await?;
                Ok(Outcome::Done)
            }
            Verdict::Retry => {
                let queued_rank = UpdateOp::Set("status_rank".into(), attr::n(rank(MessageStatus::Queued)));
                unclaim(deps, &key, states, vec![queued_rank]).await?;
                match e {
                    ProviderError::RateLimited { retry_after: Some(wait) } => Ok(Outcome::RetryAfter(wait)),
                    _ => Ok(Outcome::Retry(e.to_string())),
                }
            }
        },
    }
}

/// The send claim on a record (a message, a bulk item): `queued → sending` (`states`), with
/// when and one more attempt, so only one delivery of a job gets past it; `extra` updates
/// go with it. `false`: another delivery holds it, or it is past queued.
pub(crate) async fn claim(
    deps: &Deps,
    key: &crate::ports::Key,
    (queued, sending): (&str, &str),
    now: chrono::DateTime<chrono::Utc>,
    extra: Vec<UpdateOp>,
) -> ServiceResult<bool> {
    let mut ops = vec![
        UpdateOp::Set("status".into(), attr::s(sending)),
        UpdateOp::Set("claimed_at".into(), crate::record::ts(now)),
        UpdateOp::Add("attempts".into(), 1),
        UpdateOp::Add("version".into(), 1),
    ];
    ops.extend(extra);
    match deps.table.update(key, ops, Some(Condition::equals("status", attr::s(queued)))).await {
        Ok(_) => Ok(true),
        Err(TableError::ConditionFailed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Gives a claim back (`sending → queued`) so the retried job can claim again; nothing
/// when the record moved on meanwhile.
pub(crate) async fn unclaim(
    deps: &Deps,
    key: &crate::ports::Key,
    (queued, sending): (&str, &str),
    extra: Vec<UpdateOp>,
) -> ServiceResult<()> {
    let mut ops =
        vec![UpdateOp::Set("status".into(), attr::s(queued)), UpdateOp::Remove("claimed_at".into())];
    ops.extend(extra);
    match deps.table.update(key, ops, Some(Condition::equals("status", attr::s(sending)))).await {
        Ok(_) | Err(TableError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A template's values with its header file (an upload of ours) given to the provider
/// as a short-lived link.
pub(crate) async fn with_links(deps: &Deps, mut values: TemplateValues) -> ServiceResult<TemplateValues> {
    if let Some(HeaderValue::Media { link, blob_key, .. }) = &mut values.header
        && let Some(key) = blob_key.take()
    {
        *link = Some(deps.blob.presigned_get_url(&key, MEDIA_LINK_TTL).await?);
    }
    Ok(values)
}

/// The provider content of a message; an agent's display name signs text messages.
async fn content_of(deps: &Deps, m: &Message) -> ServiceResult<OutboundContent> {
    match m.kind {
        MessageKind::Template => Ok(OutboundContent::Template {
            name: m.content["name"].as_str().unwrap_or_default().to_owned(),
            language: m.content["language"].as_str().unwrap_or_default().to_owned(),
            values: with_links(deps, serde_json::from_value(m.content["values"].clone()).unwrap_or_default())
                .await?,
        }),
        MessageKind::Interactive => {
            let choices = |list: &Value| -> Vec<OutboundChoice> {
                list.as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| OutboundChoice {
                        id: c["id"].as_str().unwrap_or_default().to_owned(),
                        title: c["title"].as_str().unwrap_or_default().to_owned(),
                        description: c["description"].as_str().map(str::to_owned),
                    })
                    .collect()
            };
            let body = m.text.clone().unwrap_or_default();
            Ok(match m.content["list"].as_object() {
                Some(list) => OutboundContent::Interactive {
                    body,
                    choices: choices(&list["rows"]),
                    list_button: Some(list["button"].as_str().unwrap_or("Opções").to_owned()),
                },
                None => OutboundContent::Interactive {
                    body,
                    choices: choices(&m.content["buttons"]),
                    list_button: None,
                },
            })
        }
        kind if kind.is_media() => {
            let media =
                m.media.clone().ok_or_else(|| ServiceError::invalid("media message without media"))?;
            // A file of ours (an upload) goes by a short-lived link; a flow's public URL as is.
            let link = match (&media.blob_key, m.content["link"].as_str()) {
                (Some(key), _) => deps.blob.presigned_get_url(key, MEDIA_LINK_TTL).await?,
                (None, Some(link)) => link.to_owned(),
                (None, None) => return Err(ServiceError::invalid("media message without a file")),
            };
            let kind = match kind {
                MessageKind::Voice => "audio",
                MessageKind::Image => "image",
                MessageKind::Audio => "audio",
                MessageKind::Video => "video",
                MessageKind::Sticker => "sticker",
                _ => "document",
            };
            Ok(OutboundContent::Media {
                kind: kind.into(),
                link,
                caption: m.text.clone(),
                filename: media.filename,
            })
        }
        _ => {
            let mut body = m.text.clone().unwrap_or_default();
            if m.author == AuthorKind::Agent
                && let Some(agent) = &m.author_id
                && let Ok((user, _)) = crate::accounts::users::load_active(deps, &m.account_id, agent).await
                && let Some(name) = user.display_name
            {
                body = format!("*{name}:*\n{body}");
            }
            Ok(OutboundContent::Text { body })
        }
    }
}

async fn record_sent(deps: &Deps, account: &str, m: &Message, provider_id: &str) -> ServiceResult<()> {
    let now = deps.clock.now();
    let pointer = keys::provider_message(account, provider_id);
    let sent = crate::events::DomainEvent::MessageStatusChanged {
        account_id: account.to_owned(),
        session_id: m.session_id.clone(),
        message_id: m.id.clone(),
        status: crate::events::DeliveryStatus::Sent,
        at: now,
        error_code: None,
    };
    let (event, staged) = crate::outbox::stage(deps, vec![sent])?;
    let writes = vec![
        TransactItem::Put {
            item: Item::from([
                ("pk".to_owned(), attr::s(&pointer.pk)),
                ("sk".to_owned(), attr::s(&pointer.sk)),
                ("message_id".to_owned(), attr::s(&m.id)),
            ]),
            condition: None,
        },
        TransactItem::Update {
            key: keys::message(account, &m.id),
            ops: vec![
                UpdateOp::Set("provider_id".into(), attr::s(provider_id)),
                UpdateOp::Set("status".into(), attr::s(MessageStatus::Sent.as_str())),
                UpdateOp::Set("status_rank".into(), attr::n(rank(MessageStatus::Sent))),
                UpdateOp::Set("sent_at".into(), crate::record::ts(now)),
                UpdateOp::Add("version".into(), 1),
            ],
            condition: Some(Condition::Compare(
                "status_rank".into(),
                Cmp::Le,
                attr::n(rank(MessageStatus::Sending)),
            )),
        },
        event,
    ];
    match deps.table.transact(writes).await {
        Ok(()) => crate::outbox::release(deps, staged).await,
        // A status already moved it further: keep that, but the pointer must exist.
        Err(TableError::TransactionConditionFailed { .. }) => {
            deps.table
                .update(&pointer, vec![UpdateOp::Set("message_id".into(), attr::s(&m.id))], None)
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    inbound::apply_parked(deps, account, &m.id, provider_id).await
}
