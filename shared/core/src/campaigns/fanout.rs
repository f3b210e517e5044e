//! A campaign's fan-out, in the `campaigns` function: a chain of hops (`CampaignJob::Step`
//! with a sequence number), each a bounded piece of work.
//!
//! 1. **Materialise** the audience once: a page of contacts per hop becomes recipients,
//!    each a conditional put named by its WhatsApp number (a contact in two tags, or two
//!    contacts with one number, is one recipient; the other is `skipped`, reason
//!    `duplicate_number`); opted-out, blocked, erased and number-less contacts are
//!    `skipped` with the reason.
//! 2. **Dispatch**: walk the recipient shards and hand `queued` ones to `send` (the
//!    `outbound` queue), about two seconds of the campaign's rate ahead of what came back,
//!    so the queue never holds a backlog in front of agents' messages.
//! 3. **Drain**: when every recipient is sent, failed or skipped, the campaign moves to
//!    `collecting` for 5 days. Hops that see no progress for a minute walk again, so a
//!    lost job cannot leave a recipient behind.
//!
//! Each hop checks the campaign: not running → the chain stops (resume restarts it and
//! walks from the start); outside its allowed hours → paused until they open; more than the
//! threshold of failures over the window → paused with the reason.
//!
//! One chain: a hop runs only when the fan-out item's `seq` equals its own, and commits
//! `seq + 1` with a version condition, so a redelivered or duplicated hop is stale. Before
//! committing, a hop enqueues a back-up of the next hop (a few seconds later), so a crash
//! between the commit and the next hop's enqueue does not end the chain.

use super::bulk::{self, List};
use super::model::*;
use super::store;
use crate::conversations::model::{Contact, ContactStatus};
use crate::conversations::{contacts, imports, templates};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{CampaignJob, enqueue_campaign};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition, TableError};
use crate::queues;
use crate::record::{from_item, to_item};
use crate::time::{business_hours, timers};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration as StdDuration;

/// Contacts materialised per hop.
const MATERIALISE_PER_HOP: usize = 1000;
/// Recipients read per hop while dispatching (sent ones are passed over).
const READ_PER_HOP: u32 = 4000;
/// At most this many sends handed out per hop.
const MAX_PER_HOP: u64 = 2000;
/// Seconds of the campaign's rate kept in flight.
const AHEAD_SECS: u64 = 2;
/// Between dispatch hops.
const HOP: StdDuration = StdDuration::from_secs(1);
/// When the back-up of the next hop runs (stale if the hop ran).
const BACKUP: StdDuration = StdDuration::from_secs(10);
/// Hops without progress before the recipients are walked again.
const IDLE_HOPS_BEFORE_REWALK: u32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Materialising,
    Dispatching,
    Draining,
}

/// The fan-out's progress (internal: never shown).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FanOut {
    seq: u64,
    phase: Phase,
    /// Materialising: which source (tag) and where in it.
    source: u32,
    cursor: Option<String>,
    offset: u64,
    /// Dispatching: which shard and where in it.
    shard: u32,
    /// Sends handed out minus those come back, as of the last walk's start.
    enqueued: i64,
    base_done: i64,
    base_failed: i64,
    idle_hops: u32,
    last_done: i64,
    version: u64,
}

async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Option<FanOut>> {
    match deps.table.get(&keys::campaign_fanout(account, id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Starts the fan-out of a campaign just moved to running (once: a second call finds it).
pub(crate) async fn begin(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    if let Some(f) = load(deps, account, id).await? {
        if f.seq > 0 {
            return Ok(());
        }
    } else {
        let fresh = FanOut {
            seq: 0,
            phase: Phase::Materialising,
            source: 0,
            cursor: None,
            offset: 0,
            shard: 0,
            enqueued: 0,
            base_done: 0,
            base_failed: 0,
            idle_hops: 0,
            last_done: 0,
            version: 1,
        };
        match deps
            .table
            .put(to_item(&keys::campaign_fanout(account, id), &fresh)?, Some(Condition::NotExists))
            .await
        {
            Ok(()) | Err(TableError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    kick(deps, account, id, 0, |_| {}).await
}

/// Restarts the chain after a pause (or to mark a cancelled campaign's rest): the walk
/// starts over, so recipients whose jobs were dropped while paused are handed out again.
pub(crate) async fn resume(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let Some(f) = load(deps, account, id).await? else { return Ok(()) };
    kick(deps, account, id, f.seq, |f| {
        if f.phase != Phase::Materialising {
            f.phase = Phase::Dispatching;
            f.shard = 0;
            f.cursor = None;
            f.enqueued = 0;
            f.idle_hops = 0;
        }
    })
    .await
}

/// Commits the fan-out at `seq + 1` (changed by `change`) if it is still at `seq`, and
/// enqueues that hop; a back-up of it goes first.
async fn kick(
    deps: &Deps,
    account: &str,
    id: &str,
    seq: u64,
    change: impl FnOnce(&mut FanOut),
) -> ServiceResult<()> {
    commit(deps, account, id, seq, StdDuration::ZERO, change).await.map(|_| ())
}

async fn commit(
    deps: &Deps,
    account: &str,
    id: &str,
    seq: u64,
    delay: StdDuration,
    change: impl FnOnce(&mut FanOut),
) -> ServiceResult<bool> {
    let Some(mut f) = load(deps, account, id).await? else { return Ok(false) };
    if f.seq != seq {
        return Ok(false);
    }
    let next = CampaignJob::Step { account_id: account.to_owned(), campaign_id: id.to_owned(), seq: seq + 1 };
    enqueue_campaign(deps, &next, BACKUP).await?;
    change(&mut f);
    let read = f.version;
    f.seq = seq + 1;
    f.version += 1;
    match deps
        .table
        .put(to_item(&keys::campaign_fanout(account, id), &f)?, Some(Condition::version_is(read)))
        .await
    {
        Ok(()) => {}
        Err(TableError::ConditionFailed) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    enqueue_campaign(deps, &next, delay).await?;
    Ok(true)
}

/// One hop (see the module's notes).
pub async fn step(deps: &Deps, account: &str, id: &str, seq: u64) -> ServiceResult<()> {
    let Some(f) = load(deps, account, id).await? else { return Ok(()) };
    if f.seq > seq {
        return Ok(()); // stale: a duplicate, or the back-up of a hop that ran
    }
    if f.seq < seq {
        return Err(ServiceError::conflict("the previous hop has not committed yet"));
    }
    let c = match store::load(deps, account, id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if matches!(c.status, CampaignStatus::Completed | CampaignStatus::Failed | CampaignStatus::Collecting) {
        return Ok(());
    }
    if f.phase == Phase::Materialising {
        if c.status == CampaignStatus::Cancelled {
            // Nothing was handed out: what is materialised stays queued; mark it below.
            let done = |f: &mut FanOut| {
                f.phase = Phase::Dispatching;
                f.shard = 0;
                f.cursor = None;
            };
            commit(deps, account, id, seq, StdDuration::ZERO, done).await?;
            return Ok(());
        }
        let (source, cursor, offset, finished) = materialise(deps, &c, &f).await?;
        let change = |f: &mut FanOut| {
            f.source = source;
            f.cursor = cursor;
            f.offset = offset;
            if finished {
                f.phase = Phase::Dispatching;
                f.shard = 0;
                f.cursor = None;
            }
        };
        commit(deps, account, id, seq, StdDuration::ZERO, change).await?;
        return Ok(());
    }
    if c.status == CampaignStatus::Cancelled {
        let (shard, cursor, walked) = walk(deps, &c, &f, u64::MAX, Walk::Cancel).await?;
        if walked.finished {
            return Ok(());
        }
        commit(deps, account, id, seq, StdDuration::ZERO, |f| {
            f.shard = shard;
            f.cursor = cursor;
        })
        .await?;
        return Ok(());
    }
    if c.status != CampaignStatus::Running {
        return Ok(()); // paused: resume starts a new walk
    }
    let now = deps.clock.now();
    if let Some(w) = &c.window {
        let zone = business_hours::zone_of(deps, account, None).await?;
        if !w.allows(zone, now) {
            pause_for_window(deps, &c, w.next_opening(zone, now)).await?;
            return Ok(());
        }
    }
    let counts = bulk::counters(deps, account, id).await?;
    let n = |k: &str| counts.get(k).copied().unwrap_or(0);
    let done = n("n_sent") + n("n_failed");
    let settings = store::settings(deps, account).await?;
    let (mut base_done, mut base_failed) = (f.base_done, f.base_failed);
    if done - base_done >= i64::from(settings.failure_window) {
        let failed = n("n_failed") - base_failed;
        if failed * 100 > i64::from(settings.failure_threshold_percent) * (done - base_done) {
            let why = format!(
                "{failed} of the last {} sends failed (more than {} %): the campaign was paused.",
                done - base_done,
                settings.failure_threshold_percent
            );
            store::pause_for(deps, account, id, &why).await?;
            return Ok(());
        }
        (base_done, base_failed) = (done, n("n_failed"));
    }
    let progressed = done != f.last_done;
    let mut next = f.clone();
    next.base_done = base_done;
    next.base_failed = base_failed;
    next.last_done = done;
    next.idle_hops = if progressed { 0 } else { f.idle_hops + 1 };
    match f.phase {
        Phase::Dispatching => {
            let outstanding = (f.enqueued - done).max(0) as u64;
            let budget =
                (u64::from(c.rate_per_second) * AHEAD_SECS).saturating_sub(outstanding).min(MAX_PER_HOP);
            let (shard, cursor, walked) = walk(deps, &c, &f, budget, Walk::Dispatch).await?;
            next.shard = shard;
            next.cursor = cursor;
            next.enqueued = f.enqueued.max(done) + walked.handed as i64;
            if walked.finished {
                next.phase = Phase::Draining;
            }
        }
        Phase::Draining => {
            let terminal = n("n_sent") + n("n_failed") + n("n_skipped");
            if terminal >= n("n_recipients") {
                finish_sending(deps, &c).await?;
                return Ok(());
            }
            if next.idle_hops >= IDLE_HOPS_BEFORE_REWALK {
                next.phase = Phase::Dispatching;
                next.shard = 0;
                next.cursor = None;
                next.enqueued = done;
                next.idle_hops = 0;
            }
        }
        Phase::Materialising => {}
    }
    commit(deps, account, id, seq, HOP, |f| *f = FanOut { seq: f.seq, version: f.version, ..next }).await?;
    Ok(())
}

/// What one source page gave: the contacts, where the next page starts, whether done.
async fn materialise(
    deps: &Deps,
    c: &Campaign,
    f: &FanOut,
) -> ServiceResult<(u32, Option<String>, u64, bool)> {
    let account = &c.account_id;
    let template = templates::load(deps, account, &c.template_id).await?;
    let (mut source, mut cursor, mut offset) = (f.source, f.cursor.clone(), f.offset);
    let mut ids: Vec<String> = Vec::new();
    let mut finished = false;
    let mut all_tags: Option<Vec<String>> = None;
    while ids.len() < MATERIALISE_PER_HOP && !finished {
        match &c.audience {
            Audience::Tags { tag_ids, r#match } => {
                let tags: Vec<&String> = match r#match {
                    TagMatch::Any => tag_ids.iter().collect(),
                    TagMatch::All => {
                        all_tags = Some(tag_ids.clone());
                        tag_ids.iter().take(1).collect()
                    }
                };
                let Some(tag) = tags.get(source as usize) else {
                    finished = true;
                    break;
                };
                let prefix = keys::tagged_prefix("CTAG", tag);
                let q = Query::partition(Index::Primary, keys::account_pk(account))
                    .sort(SortCondition::BeginsWith(prefix.clone()))
                    .limit(200)
                    .after(cursor.clone());
                let page = deps.table.query(q).await?;
                for item in &page.items {
                    if let Some(sk) = crate::ports::table::attr::get_s(item, "sk")
                        && let Some(contact) = sk.strip_prefix(&prefix)
                    {
                        ids.push(contact.to_owned());
                    }
                }
                match page.cursor {
                    Some(next) => cursor = Some(next),
                    None => {
                        source += 1;
                        cursor = None;
                    }
                }
            }
            Audience::Contacts { contact_ids } => {
                let from = offset as usize;
                let to = (from + MATERIALISE_PER_HOP).min(contact_ids.len());
                ids.extend(contact_ids[from.min(to)..to].iter().cloned());
                offset = to as u64;
                finished = to >= contact_ids.len();
            }
            Audience::Import { import_id } => {
                let numbers = imports::numbers(deps, account, import_id).await?;
                let from = offset as usize;
                let to = (from + MATERIALISE_PER_HOP).min(numbers.len());
                for n in &numbers[from.min(to)..to] {
                    if let Some(contact) = contacts::by_phone(deps, account, n).await? {
                        ids.push(contact.id);
                    }
                }
                offset = to as u64;
                finished = to >= numbers.len();
            }
        }
    }
    let template = &template;
    let all_tags = &all_tags;
    let results: Vec<ServiceResult<()>> = futures::stream::iter(ids)
        .map(|contact| async move { recipient(deps, c, template, all_tags.as_deref(), &contact).await })
        .buffer_unordered(16)
        .collect()
        .await;
    results.into_iter().collect::<ServiceResult<Vec<()>>>()?;
    Ok((source, cursor, offset, finished))
}

fn skip_item(
    c: &Campaign,
    contact: &str,
    name: Option<String>,
    wa_id: Option<String>,
    why: SkipReason,
) -> bulk::BulkItem {
    let mut b = bulk::queued(contact, name, wa_id, &c.channel_id, ("", ""), &Default::default());
    b.status = RecipientStatus::Skipped;
    b.reason = Some(why.as_str().to_owned());
    b
}

async fn skip(
    deps: &Deps,
    c: &Campaign,
    contact: &str,
    name: Option<String>,
    wa_id: Option<String>,
    why: SkipReason,
) -> ServiceResult<()> {
    let item = format!("c:{contact}");
    let list = List::Campaign { id: c.id.clone(), shard: bulk::shard_of(&item) };
    bulk::insert(
        deps,
        &c.account_id,
        &list,
        &item,
        &skip_item(c, contact, name, wa_id, why),
        Some(why.as_str()),
    )
    .await?;
    Ok(())
}

/// Makes one contact a recipient (or a skipped one), once.
async fn recipient(
    deps: &Deps,
    c: &Campaign,
    template: &crate::conversations::model::Template,
    all_tags: Option<&[String]>,
    contact_id: &str,
) -> ServiceResult<()> {
    let account = &c.account_id;
    let contact: Contact = match contacts::load(deps, account, contact_id).await {
        Ok(x) => x,
        Err(ServiceError::NotFound(_)) => {
            return skip(deps, c, contact_id, None, None, SkipReason::ContactMissing).await;
        }
        Err(e) => return Err(e),
    };
    if let Some(tags) = all_tags
        && !tags.iter().all(|t| contact.tags.contains(t))
    {
        return Ok(()); // not in every tag: not in the audience
    }
    let (name, wa) = (contact.name.clone(), contact.wa_id.clone());
    let why = match contact.status {
        ContactStatus::Erased => Some(SkipReason::Erased),
        ContactStatus::Blocked => Some(SkipReason::Blocked),
        _ if contact.marketing_opt_out_at.is_some() => Some(SkipReason::OptedOut),
        _ if contact.wa_id.is_none() => Some(SkipReason::InvalidNumber),
        _ => None,
    };
    if let Some(why) = why {
        return skip(deps, c, contact_id, name, wa, why).await;
    }
    let Some(wa_id) = wa.clone() else { return Ok(()) };
    let values = store::values_for(template, &c.parameters, &contact)?;
    let b = bulk::queued(
        contact_id,
        name.clone(),
        wa.clone(),
        &c.channel_id,
        (&template.name, &template.language),
        &values,
    );
    let list = List::Campaign { id: c.id.clone(), shard: bulk::shard_of(&wa_id) };
    if bulk::insert(deps, account, &list, &wa_id, &b, None).await? {
        return Ok(());
    }
    // The number is already a recipient: this contact again (two tags), or another contact
    // with the same number.
    match bulk::load(deps, account, &list, &wa_id).await? {
        Some(existing) if existing.contact_id == contact_id => Ok(()),
        _ => skip(deps, c, contact_id, name, wa, SkipReason::DuplicateNumber).await,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Hand queued recipients (and ones whose send was interrupted) to `send`.
    Dispatch,
    /// Mark queued recipients skipped (the campaign was cancelled).
    Cancel,
}

struct Walked {
    handed: u64,
    finished: bool,
}

/// Walks the shards from the fan-out's place, up to `budget` recipients handed out.
async fn walk(
    deps: &Deps,
    c: &Campaign,
    f: &FanOut,
    budget: u64,
    how: Walk,
) -> ServiceResult<(u32, Option<String>, Walked)> {
    let account = &c.account_id;
    let (mut shard, mut cursor) = (f.shard, f.cursor.clone());
    let mut handed = 0u64;
    let mut read = 0u32;
    let mut jobs = Vec::new();
    while shard < keys::CAMPAIGN_SHARDS && handed < budget && read < READ_PER_HOP {
        let q = Query::partition(Index::Primary, keys::campaign_shard_pk(account, &c.id, shard))
            .sort(SortCondition::BeginsWith(keys::RECIPIENT_PREFIX.into()))
            .limit(100.min((budget - handed).max(1)) as u32)
            .after(cursor.clone());
        let page = deps.table.query(q).await?;
        read += page.items.len() as u32;
        let list = List::Campaign { id: c.id.clone(), shard };
        for item in page.items {
            let Some(name) = crate::ports::table::attr::get_s(&item, "sk")
                .and_then(|sk| sk.strip_prefix(keys::RECIPIENT_PREFIX))
                .map(str::to_owned)
            else {
                continue;
            };
            let b: bulk::BulkItem = from_item(item)?;
            match (how, b.status) {
                (Walk::Dispatch, RecipientStatus::Queued | RecipientStatus::Sending) => {
                    jobs.push(bulk::send_job(account, &list, &name, &b, &f.seq.to_string())?);
                    handed += 1;
                }
                (Walk::Cancel, RecipientStatus::Queued) => {
                    let allowed = |x: &bulk::BulkItem| x.status == RecipientStatus::Queued;
                    let ops = vec![crate::ports::UpdateOp::Set(
                        "reason".into(),
                        crate::ports::table::attr::s(SkipReason::Cancelled.as_str()),
                    )];
                    bulk::transition(
                        deps,
                        account,
                        &list,
                        &name,
                        RecipientStatus::Skipped,
                        Some(SkipReason::Cancelled.as_str()),
                        allowed,
                        ops,
                        vec![],
                    )
                    .await?;
                }
                _ => {}
            }
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => {
                shard += 1;
                cursor = None;
            }
        }
    }
    for chunk in jobs.chunks(10) {
        deps.queue.send_batch(queues::BULK, chunk.to_vec()).await?;
    }
    Ok((shard, cursor, Walked { handed, finished: shard >= keys::CAMPAIGN_SHARDS }))
}

async fn pause_for_window(
    deps: &Deps,
    c: &Campaign,
    opens: Option<chrono::DateTime<chrono::Utc>>,
) -> ServiceResult<()> {
    use crate::ports::UpdateOp;
    use crate::ports::table::attr;
    let ops = vec![
        UpdateOp::Set(
            "status_reason".into(),
            attr::s("Outside the allowed sending hours: resumes when they open."),
        ),
        UpdateOp::Set("paused_by_window".into(), attr::b(true)),
    ];
    let paused = store::transition(
        deps,
        &c.account_id,
        &c.id,
        &[CampaignStatus::Running],
        CampaignStatus::Paused,
        ops,
    )
    .await?;
    if paused.is_some()
        && let Some(at) = opens
    {
        let job = CampaignJob::Resume { account_id: c.account_id.clone(), campaign_id: c.id.clone() };
        timers::schedule(
            deps,
            &format!("campaign-resume:{}:{}", c.id, at.timestamp()),
            at,
            queues::CAMPAIGNS,
            None,
            &job,
        )
        .await?;
    }
    Ok(())
}

/// The allowed hours opened: a campaign still paused by them runs again.
pub async fn resume_window(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let c = match store::load(deps, account, id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if c.status != CampaignStatus::Paused || !c.paused_by_window {
        return Ok(()); // stale: resumed, cancelled, or paused by a person since
    }
    use crate::ports::UpdateOp;
    use crate::ports::table::attr;
    let ops = vec![
        UpdateOp::Remove("status_reason".into()),
        UpdateOp::Set("paused_by_window".into(), attr::b(false)),
    ];
    if store::transition(deps, account, id, &[CampaignStatus::Paused], CampaignStatus::Running, ops)
        .await?
        .is_some()
    {
        resume(deps, account, id).await?;
    }
    Ok(())
}

/// Every recipient handled: collect replies for 5 days.
async fn finish_sending(deps: &Deps, c: &Campaign) -> ServiceResult<()> {
    use crate::ports::UpdateOp;
    let until = deps.clock.now() + store::COLLECTING;
    let ops = vec![UpdateOp::Set("collecting_until".into(), crate::record::ts(until))];
    if store::transition(
        deps,
        &c.account_id,
        &c.id,
        &[CampaignStatus::Running],
        CampaignStatus::Collecting,
        ops,
    )
    .await?
    .is_some()
    {
        let job = CampaignJob::Finish { account_id: c.account_id.clone(), campaign_id: c.id.clone() };
        timers::schedule(deps, &format!("campaign-finish:{}", c.id), until, queues::CAMPAIGNS, None, &job)
            .await?;
    }
    Ok(())
}

/// The collecting window ended: sessions the campaign's replies opened that nobody took
/// are completed, and the campaign is completed.
pub async fn finish(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let c = match store::load(deps, account, id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if c.status != CampaignStatus::Collecting {
        return Ok(());
    }
    let q = Query::partition(Index::Primary, keys::campaign_sessions_pk(account, id));
    let items = crate::record::query_all_items(deps, q).await?;
    for item in items {
        let Some(session) = crate::ports::table::attr::get_s(&item, "sk") else { continue };
        let s = crate::conversations::sessions::load(deps, account, session).await?;
        if s.status == crate::conversations::model::SessionStatus::Pending && s.owner_id.is_none() {
            crate::conversations::sessions::complete_by_system(deps, account, session).await?;
        }
    }
    use crate::ports::UpdateOp;
    let ops = vec![UpdateOp::Set("completed_at".into(), crate::record::ts(deps.clock.now()))];
    store::transition(deps, account, id, &[CampaignStatus::Collecting], CampaignStatus::Completed, ops)
        .await?;
    Ok(())
}
