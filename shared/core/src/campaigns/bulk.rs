//! Bulk messages: a campaign's recipients and a sequence's step messages. Each is one item
//! named by its list and its name in the list; the `send` function delivers it
//! ([`deliver`]) in the channel's bulk lane (what agents, bots and the system leave), and
//! every change of its status is one conditional transaction with the funnel counters of
//! its campaign, so the counters are exact under redelivery and crashes.
//!
//! Exactly once: the send claims the item (`queued → sending`, a conditional update)
//! before calling the provider; a redelivered job finds it claimed and does nothing. A
//! claim older than [`delivery::CLAIM_LEASE`] was interrupted by a crash mid-call: the item fails
//! with that reason rather than risk a second send.

use super::model::{CampaignStatus, RecipientStatus};
use super::store;
use crate::conversations::delivery::{self, Lane, MAX_ATTEMPTS, Outcome, Slot};
use crate::conversations::meta_errors::{self, Verdict, judge};
use crate::conversations::{channels, inbound};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{
    Condition, Item, Key, OutboundContent, OutboundRequest, TableError, TransactItem, UpdateOp,
};
use crate::record::{from_item, ts};
use crate::time::business_hours;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a bulk message lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List {
    Campaign { id: String, shard: u32 },
    Sequence { id: String },
}

impl List {
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            ["campaign", id, shard] => {
                Some(List::Campaign { id: (*id).to_owned(), shard: shard.parse().ok()? })
            }
            ["sequence", id] => Some(List::Sequence { id: (*id).to_owned() }),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        match self {
            List::Campaign { id, shard } => format!("campaign/{id}/{shard}"),
            List::Sequence { id } => format!("sequence/{id}"),
        }
    }

    pub fn key(&self, account: &str, item: &str) -> Key {
        match self {
            List::Campaign { id, shard } => keys::campaign_recipient(account, id, *shard, item),
            List::Sequence { id } => keys::sequence_message(account, id, item),
        }
    }

    fn stats(&self, account: &str) -> Option<Key> {
        match self {
            List::Campaign { id, shard } => Some(keys::campaign_stats(account, id, *shard)),
            List::Sequence { .. } => None,
        }
    }
}

/// The shard of a campaign recipient.
pub fn shard_of(recipient: &str) -> u32 {
    recipient.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % keys::CAMPAIGN_SHARDS
}

/// The reference a provider id's pointer carries back to a bulk message.
pub fn reference(list: &List, item: &str) -> String {
    format!("bulk|{}|{item}", list.name())
}

pub fn parse_reference(reference: &str) -> Option<(List, String)> {
    let mut parts = reference.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("bulk"), Some(list), Some(item)) => Some((List::parse(list)?, item.to_owned())),
        _ => None,
    }
}

/// The `send` job of a bulk message, in its channel and contact's FIFO group (so it keeps
/// its place among that contact's conversation messages), deduplicated per `round`.
pub(crate) fn send_job(
    account: &str,
    list: &List,
    item: &str,
    b: &BulkItem,
    round: &str,
) -> ServiceResult<crate::ports::OutgoingMessage> {
    let job = crate::jobs::OutboundJob::Bulk {
        account_id: account.to_owned(),
        list: list.name(),
        item: item.to_owned(),
    };
    Ok(crate::ports::OutgoingMessage::new(serde_json::to_string(&job)?)
        .group(format!("{}:{}", b.channel_id, b.contact_id))
        .dedup(format!("{}:{item}:{round}", list.name())))
}

/// A bulk message as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkItem {
    pub contact_id: String,
    pub name: Option<String>,
    pub wa_id: Option<String>,
    pub channel_id: String,
    pub template_name: String,
    pub language: String,
    /// The template's values ([`crate::ports::TemplateValues`]), as JSON text.
    pub values: String,
    pub status: RecipientStatus,
    pub reason: Option<String>,
    pub error_code: Option<i64>,
    pub provider_id: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub session_id: Option<String>,
    pub version: u64,
}

pub async fn load(deps: &Deps, account: &str, list: &List, item: &str) -> ServiceResult<Option<BulkItem>> {
    match deps.table.get(&list.key(account, item)).await? {
        Some(i) => Ok(Some(from_item(i)?)),
        None => Ok(None),
    }
}

/// The counter a funnel stage counts in (`n_sent` counts everything that reached sent).
fn stage_counter(rank: u8) -> Option<&'static str> {
    match rank {
        2 => Some("n_sent"),
        3 => Some("n_delivered"),
        4 => Some("n_read"),
        5 => Some("n_replied"),
        _ => None,
    }
}

/// The counter changes of one status change.
pub(crate) fn counter_ops(
    from: Option<RecipientStatus>,
    to: RecipientStatus,
    detail: Option<&str>,
) -> Vec<UpdateOp> {
    let mut ops = Vec::new();
    let from_rank = from.and_then(|f| f.rank());
    if from.is_none() {
        ops.push(UpdateOp::Add("n_recipients".into(), 1));
    }
    match to.rank() {
        Some(b) => {
            let a = from_rank.unwrap_or(0).max(1);
            for r in (a + 1)..=b {
                if let Some(c) = stage_counter(r) {
                    ops.push(UpdateOp::Add(c.into(), 1));
                }
            }
        }
        None => {
            // Terminal: it no longer counts in the stages it had reached.
            for r in 2..=from_rank.unwrap_or(0) {
                if let Some(c) = stage_counter(r) {
                    ops.push(UpdateOp::Add(c.into(), -1));
                }
            }
            let (total, prefix) =
                if to == RecipientStatus::Failed { ("n_failed", "f_") } else { ("n_skipped", "s_") };
            ops.push(UpdateOp::Add(total.into(), 1));
            ops.push(UpdateOp::Add(format!("{prefix}{}", detail.unwrap_or("other")), 1));
        }
    }
    ops
}

/// Writes a new bulk message with its counters (a not-exists condition: once). False when
/// it already existed.
pub(crate) async fn insert(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    b: &BulkItem,
    skip: Option<&str>,
) -> ServiceResult<bool> {
    let key = list.key(account, item);
    let record = crate::record::to_item(&key, b)?;
    let mut writes = vec![TransactItem::Put { item: record, condition: Some(Condition::NotExists) }];
    if let Some(stats) = list.stats(account) {
        let from = None;
        writes.push(TransactItem::Update {
            key: stats,
            ops: counter_ops(from, b.status, skip),
            condition: None,
        });
    }
    match deps.table.transact(writes).await {
        Ok(()) => Ok(true),
        Err(TableError::TransactionConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Moves a bulk message from the status it has (if `allowed` says so) to `to`, with `ops`
/// and `extra` writes, and its counters, in one transaction. None when not allowed.
// The change's parts are each a caller's choice; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn transition(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    to: RecipientStatus,
    detail: Option<&str>,
    allowed: impl Fn(&BulkItem) -> bool,
    ops: Vec<UpdateOp>,
    extra: Vec<TransactItem>,
) -> ServiceResult<Option<BulkItem>> {
    let key = list.key(account, item);
    for _ in 0..5 {
        let Some(current) = load(deps, account, list, item).await? else { return Ok(None) };
        if !allowed(&current) {
            return Ok(None);
        }
        let mut all = ops.clone();
        all.push(UpdateOp::Set("status".into(), attr::s(to.as_str())));
        all.push(UpdateOp::Add("version".into(), 1));
        let mut writes = vec![TransactItem::Update {
            key: key.clone(),
            ops: all,
            condition: Some(Condition::version_is(current.version)),
        }];
        if let Some(stats) = list.stats(account) {
            writes.push(TransactItem::Update {
                key: stats,
                ops: counter_ops(Some(current.status), to, detail),
                condition: None,
            });
        }
        writes.extend(extra.iter().cloned());
        match deps.table.transact(writes).await {
            Ok(()) => return Ok(Some(current)),
            Err(TableError::TransactionConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the recipient kept changing"))
}

fn failure_detail(code: Option<i64>) -> String {
    code.map_or_else(|| "other".to_owned(), |c| c.to_string())
}

/// Fails a bulk message that is `queued` or `sending`, with the reason.
pub(crate) async fn fail(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    code: Option<i64>,
    reason: &str,
) -> ServiceResult<bool> {
    fail_from(deps, account, list, item, &[RecipientStatus::Queued, RecipientStatus::Sending], code, reason)
        .await
}

/// Fails a bulk message in one of `from`, with Meta's code and the reason in plain words.
async fn fail_from(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    from: &[RecipientStatus],
    code: Option<i64>,
    reason: &str,
) -> ServiceResult<bool> {
    let ops = vec![
        UpdateOp::Set("reason".into(), attr::s(reason)),
        match code {
            Some(c) => UpdateOp::Set("error_code".into(), attr::n(c)),
            None => UpdateOp::Remove("error_code".into()),
        },
    ];
    let allowed = |b: &BulkItem| from.contains(&b.status);
    let detail = failure_detail(code);
    Ok(transition(deps, account, list, item, RecipientStatus::Failed, Some(&detail), allowed, ops, vec![])
        .await?
        .is_some())
}

/// What gates a list's sends, and at which rate.
enum Gate {
    Go { rate: u32 },
    Hold,
}

async fn gate(deps: &Deps, account: &str, list: &List, channel_rate: u32) -> ServiceResult<Gate> {
    match list {
        List::Campaign { id, .. } => {
            let c = match store::load(deps, account, id).await {
                Ok(c) => c,
                Err(ServiceError::NotFound(_)) => return Ok(Gate::Hold),
                Err(e) => return Err(e),
            };
            if c.status != CampaignStatus::Running {
                // Paused or stopped: the fan-out walks the still-queued ones again on resume.
                return Ok(Gate::Hold);
            }
            if let Some(w) = &c.window
                && !w.allows(business_hours::zone_of(deps, account, None).await?, deps.clock.now())
            {
                return Ok(Gate::Hold);
            }
            Ok(Gate::Go { rate: c.rate_per_second.clamp(1, channel_rate.max(1)) })
        }
        List::Sequence { .. } => Ok(Gate::Go { rate: channel_rate }),
    }
}

/// The `send` function's job for a bulk message (see the module's notes).
pub async fn deliver(deps: &Deps, account: &str, list_name: &str, item: &str) -> ServiceResult<Outcome> {
    let Some(list) = List::parse(list_name) else {
        return Err(ServiceError::invalid("not a bulk list"));
    };
    let Some(b) = load(deps, account, &list, item).await? else { return Ok(Outcome::Done) };
    let now = deps.clock.now();
    match b.status {
        RecipientStatus::Queued => {}
        RecipientStatus::Sending => {
            let Some(wait) = delivery::claim_wait(b.claimed_at, now) else {
                fail(
                    deps,
                    account,
                    &list,
                    item,
                    None,
                    "The send was interrupted: the message may not have reached the customer.",
                )
                .await?;
                return Ok(Outcome::Done);
            };
            return Ok(Outcome::RetryAfter(wait));
        }
        _ => return Ok(Outcome::Done),
    }
    let channel = channels::load(deps, account, &b.channel_id).await?;
    if channel.channel.removed_at.is_some() || !channel.channel.active {
        fail(
            deps,
            account,
            &list,
            item,
            None,
            "The channel was removed or deactivated; the message was not sent.",
        )
        .await?;
        return Ok(Outcome::Done);
    }
    let rate = match gate(deps, account, &list, channel.channel.rate_limit_per_second).await? {
        Gate::Hold => return Ok(Outcome::Done),
        Gate::Go { rate } => rate,
    };
    // The token is opened before the claim: a key that cannot be had fails nothing.
    let access = channel.access(deps).await?;
    let Some(to) = b.wa_id.clone() else {
        fail(deps, account, &list, item, None, "The contact has no WhatsApp number.").await?;
        return Ok(Outcome::Done);
    };
    let slot = match delivery::take_slot(deps, account, &b.channel_id, rate, Lane::Bulk).await? {
        Slot::Busy(wait) => return Ok(Outcome::RetryAfter(wait)),
        Slot::At(at) => at,
    };
    deps.clock.sleep_until(slot).await;
    let key = list.key(account, item);
    let states = (RecipientStatus::Queued.as_str(), RecipientStatus::Sending.as_str());
    if !delivery::claim(deps, &key, states, now, Vec::new()).await? {
        return Ok(Outcome::Done);
    }
    let values = delivery::with_links(deps, serde_json::from_str(&b.values).unwrap_or_default()).await?;
    let request = OutboundRequest {
        to,
        content: OutboundContent::Template {
            name: b.template_name.clone(),
            language: b.language.clone(),
            values,
        },
        reply_to: None,
        human_agent: false,
    };
    delivery::on_time(deps, account, &b.channel_id, rate, Lane::Bulk, slot).await?;
    match deps.messaging.send(&access, &request).await {
        Ok(provider_id) => {
            record_sent(deps, account, &list, item, &b, &provider_id).await?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            let code = match &e {
                crate::ports::ProviderError::Coded { code, .. } => Some(*code),
                _ => None,
            };
            match judge(&e) {
                Verdict::Fail { code, reason } => {
                    fail(deps, account, &list, item, code, &reason).await?;
                    if let List::Campaign { id, .. } = &list {
                        store::on_send_failure(deps, account, id, code).await?;
                    }
                    Ok(Outcome::Done)
                }
                Verdict::Retry => {
                    if code == Some(130429)
                        && let List::Campaign { id, .. } = &list
                    {
                        store::slow_down(deps, account, id).await?;
                    }
                    if b.attempts + 1 >= MAX_ATTEMPTS {
                        fail(
                            deps,
                            account,
                            &list,
                            item,
                            code,
                            &format!("Gave up after {MAX_ATTEMPTS} attempts: {e}"),
                        )
                        .await?;
                        return Ok(Outcome::Done);
                    }
                    delivery::unclaim(deps, &key, states, vec![UpdateOp::Add("version".into(), 1)]).await?;
                    Ok(Outcome::Retry(e.to_string()))
                }
            }
        }
    }
}

/// The last campaign message a contact got (what replies are attributed to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touch {
    pub campaign_id: String,
    pub channel_id: String,
    pub shard: u32,
    pub recipient: String,
    pub sent_at: DateTime<Utc>,
}

async fn record_sent(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    b: &BulkItem,
    provider_id: &str,
) -> ServiceResult<()> {
    let now = deps.clock.now();
    let reference = reference(list, item);
    let mut extra = vec![TransactItem::Put {
        item: inbound::reference_pointer(account, provider_id, &reference),
        condition: None,
    }];
    if let List::Campaign { id, shard } = list {
        let touch = Touch {
            campaign_id: id.clone(),
            channel_id: b.channel_id.clone(),
            shard: *shard,
            recipient: item.to_owned(),
            sent_at: now,
        };
        extra.push(TransactItem::Put {
            item: crate::record::to_item(&keys::campaign_touch(account, &b.contact_id), &touch)?,
            condition: None,
        });
    }
    let ops = vec![
        UpdateOp::Set("provider_id".into(), attr::s(provider_id)),
        UpdateOp::Set("sent_at".into(), ts(now)),
    ];
    let allowed = |c: &BulkItem| c.status == RecipientStatus::Sending;
    if transition(deps, account, list, item, RecipientStatus::Sent, None, allowed, ops, extra)
        .await?
        .is_none()
    {
        // Failed meanwhile as interrupted (a very slow provider call): the pointer still
        // lets later statuses find it.
        deps.table.put(inbound::reference_pointer(account, provider_id, &reference), None).await?;
    }
    inbound::publish_parked(deps, account, provider_id, &reference).await
}

/// Applies a provider status to a bulk message: forward only; a failure after the send
/// fails it with Meta's reason.
// The status report's fields, as the event carries them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_status(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    status: crate::conversations::events::DeliveryStatus,
    at: DateTime<Utc>,
    error_code: Option<i64>,
    error_title: Option<&str>,
) -> ServiceResult<()> {
    use crate::conversations::events::DeliveryStatus as D;
    let (to, field) = match status {
        D::Sent => (RecipientStatus::Sent, "sent_at"),
        D::Delivered => (RecipientStatus::Delivered, "delivered_at"),
        D::Read => (RecipientStatus::Read, "read_at"),
        D::Failed => {
            let reason = meta_errors::reason_of_failed_status(error_code, error_title);
            let from = [RecipientStatus::Sending, RecipientStatus::Sent];
            if fail_from(deps, account, list, item, &from, error_code, &reason).await?
                && let List::Campaign { id, .. } = list
            {
                store::on_send_failure(deps, account, id, error_code).await?;
            }
            return Ok(());
        }
    };
    let rank = to.rank().unwrap_or(0);
    let allowed = |b: &BulkItem| b.status.rank().is_some_and(|r| (1..rank).contains(&r));
    transition(
        deps,
        account,
        list,
        item,
        to,
        None,
        allowed,
        vec![UpdateOp::Set(field.into(), ts(at))],
        vec![],
    )
    .await?;
    Ok(())
}

/// The contact replied: the recipient moves to `replied` (once), noting the session.
pub(crate) async fn mark_replied(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    session: &str,
) -> ServiceResult<bool> {
    let now = deps.clock.now();
    let allowed = |b: &BulkItem| b.status.rank().is_some_and(|r| (2..5).contains(&r));
    let ops = vec![
        UpdateOp::Set("replied_at".into(), ts(now)),
        UpdateOp::Set("session_id".into(), attr::s(session)),
    ];
    Ok(transition(deps, account, list, item, RecipientStatus::Replied, None, allowed, ops, vec![])
        .await?
        .is_some())
}

/// An item's record as stored (for building [`BulkItem`]s elsewhere in the feature).
pub(crate) fn queued(
    contact_id: &str,
    name: Option<String>,
    wa_id: Option<String>,
    channel_id: &str,
    template: (&str, &str),
    values: &crate::ports::TemplateValues,
) -> BulkItem {
    BulkItem {
        contact_id: contact_id.to_owned(),
        name,
        wa_id,
        channel_id: channel_id.to_owned(),
        template_name: template.0.to_owned(),
        language: template.1.to_owned(),
        values: serde_json::to_string(values).unwrap_or_default(),
        status: RecipientStatus::Queued,
        reason: None,
        error_code: None,
        provider_id: None,
        claimed_at: None,
        attempts: 0,
        sent_at: None,
        delivered_at: None,
        read_at: None,
        replied_at: None,
        session_id: None,
        version: 1,
    }
}

/// Reads the raw counters of a campaign (summed over its shards).
pub(crate) async fn counters(
    deps: &Deps,
    account: &str,
    campaign: &str,
) -> ServiceResult<std::collections::BTreeMap<String, i64>> {
    let mut sum = std::collections::BTreeMap::new();
    let reads = (0..keys::CAMPAIGN_SHARDS)
        .map(|s| async move { deps.table.get(&keys::campaign_stats(account, campaign, s)).await });
    for item in futures::future::join_all(reads).await {
        let Some(item) = item? else { continue };
        add_counters(&mut sum, &item);
    }
    Ok(sum)
}

fn add_counters(sum: &mut std::collections::BTreeMap<String, i64>, item: &Item) {
    for (k, _) in item.iter() {
        if k.starts_with("n_") || k.starts_with("f_") || k.starts_with("s_") {
            *sum.entry(k.clone()).or_default() += attr::get_n(item, k).unwrap_or(0);
        }
    }
}
