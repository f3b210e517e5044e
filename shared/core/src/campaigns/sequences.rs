//! Sequences (*sequências*): ordered steps, each a template on a channel after a delay from
//! the previous step, within optional allowed hours. Contacts are enrolled by hand, by the
//! API, in bulk by tag (a job on the `campaigns` queue), later by bots; a contact is never
//! in the same sequence twice at once (the enrolment is one item per sequence and contact,
//! written conditionally), and may enrol again only under the restart rule.
//!
//! Steps fire from the one timer mechanism (`CampaignJob::SequenceStep`, stale unless the
//! enrolment still waits for that epoch, step and due time). A firing writes the step's
//! bulk message with a not-exists condition in the same transaction as the enrolment's
//! advance, so a step is sent once; the message goes out through `send` like a campaign's.
//!
//! Access patterns: a sequence (get `SEQUENCE#<id>`); the account's sequences (query prefix
//! `SEQUENCE#`); a sequence's enrolments (query `A#<account>#SEQ#<id>`, prefix `E#`); a
//! contact's sequences (query prefix `MKT#<contact>#SEQ#`).

use super::bulk::{self, List};
use super::model::RecipientStatus;
use super::store;
use super::window::SendingWindow;
use crate::accounts::Caller;
use crate::conversations::model::{ContactStatus, TemplateStatus};
use crate::conversations::{channels, contacts, templates};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{CampaignJob, enqueue_campaign};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError, TransactItem};
use crate::queues;
use crate::record::{concurrent, from_item, query_all, to_item};
use crate::time::{business_hours, timers};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub const MAX_STEPS: usize = 20;
/// The longest delay of a step: a year.
pub const MAX_DELAY_MINUTES: u32 = 365 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SequenceStep {
    pub channel_id: String,
    /// An approved template of the channel.
    pub template_id: String,
    /// As a campaign's: texts with `{{variables}}` of the contact.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// After the previous step (the first: after enrolment).
    pub delay_minutes: u32,
    pub window: Option<SendingWindow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RestartRule {
    /// Enrolments a contact may have in all.
    pub max_count: u32,
    /// Minutes after an enrolment ended before the contact may enrol again.
    pub interval_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Sequence {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub steps: Vec<SequenceStep>,
    /// A reply from the contact ends the enrolment.
    pub stop_on_reply: bool,
    pub restart: Option<RestartRule>,
    /// Off: no step fires (enrolments wait; switching on again resumes them).
    pub enabled: bool,
    /// Why it was switched off by the system (a template held by Meta).
    pub held_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSequence {
    pub name: String,
    pub steps: Vec<SequenceStep>,
    pub stop_on_reply: Option<bool>,
    pub restart: Option<RestartRule>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SequencePatch {
    pub name: Option<String>,
    pub steps: Option<Vec<SequenceStep>>,
    pub stop_on_reply: Option<bool>,
    pub restart: Option<RestartRule>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SequenceList {
    pub items: Vec<Sequence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentStatus {
    Active,
    Completed,
    /// Ended by a reply, an opt-out or a blocked contact.
    Stopped,
    /// Removed by a person or the API.
    Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Enrolment {
    pub sequence_id: String,
    pub contact_id: String,
    pub status: EnrolmentStatus,
    /// Counts the contact's enrolments in this sequence (each a new epoch).
    pub epoch: u32,
    /// The next step to fire.
    pub step: u32,
    pub due_at: Option<DateTime<Utc>>,
    pub enrolled_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub version: u64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EnrolInput {
    #[serde(default)]
    pub contact_ids: Vec<String>,
    /// Every contact carrying this tag (enrolled in the background).
    pub tag_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotEnrolled {
    pub contact_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrolResult {
    pub enrolled: Vec<String>,
    pub not_enrolled: Vec<NotEnrolled>,
    /// A tag's contacts are being enrolled in the background.
    pub tag_queued: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrolmentList {
    pub items: Vec<Enrolment>,
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Sequence> {
    match deps.table.get(&keys::sequence(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("sequence")),
    }
}

async fn check(deps: &Deps, caller: &Caller, s: &Sequence) -> ServiceResult<()> {
    if s.name.trim().is_empty() || s.name.chars().count() > 200 {
        return Err(ServiceError::invalid("a sequence needs a name (up to 200 characters)"));
    }
    if s.steps.is_empty() || s.steps.len() > MAX_STEPS {
        return Err(ServiceError::invalid(format!("a sequence has 1 to {MAX_STEPS} steps")));
    }
    for step in &s.steps {
        if step.delay_minutes > MAX_DELAY_MINUTES {
            return Err(ServiceError::invalid("a step's delay is at most a year"));
        }
        let channel = channels::get(deps, caller, &step.channel_id).await?;
        let template = templates::load(deps, &caller.account_id, &step.template_id).await?;
        if template.channel_id != channel.id {
            return Err(ServiceError::invalid("a step's template belongs to another channel"));
        }
        templates::render(&template, &store::fill_parameters(&step.parameters, |_| Some("x".into()))?)?;
        if let Some(w) = &step.window {
            w.validate()?;
        }
    }
    if let Some(r) = s.restart
        && (r.max_count < 2 || r.max_count > 1000)
    {
        return Err(ServiceError::invalid("a restart allows 2 to 1000 enrolments in all"));
    }
    Ok(())
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewSequence) -> ServiceResult<Sequence> {
    caller.require_admin()?;
    let s = Sequence {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: input.name.trim().to_owned(),
        steps: input.steps,
        stop_on_reply: input.stop_on_reply.unwrap_or(true),
        restart: input.restart,
        enabled: true,
        held_reason: None,
        created_at: deps.clock.now(),
        version: 1,
    };
    check(deps, caller, &s).await?;
    deps.table.put(to_item(&keys::sequence(&s.account_id, &s.id), &s)?, Some(Condition::NotExists)).await?;
    Ok(s)
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<SequenceList> {
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::SEQUENCE_PREFIX.into()));
    Ok(SequenceList { items: query_all(deps, q).await? })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Sequence> {
    load(deps, &caller.account_id, id).await
}

async fn save(deps: &Deps, s: &mut Sequence) -> ServiceResult<()> {
    let read = s.version;
    s.version += 1;
    deps.table
        .put(to_item(&keys::sequence(&s.account_id, &s.id), s)?, Some(Condition::version_is(read)))
        .await
        .map_err(concurrent)
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: SequencePatch) -> ServiceResult<Sequence> {
    caller.require_admin()?;
    let mut s = load(deps, &caller.account_id, id).await?;
    let was_enabled = s.enabled;
    if let Some(v) = patch.name {
        s.name = v.trim().to_owned();
    }
    if let Some(v) = patch.steps {
        s.steps = v;
    }
    if let Some(v) = patch.stop_on_reply {
        s.stop_on_reply = v;
    }
    if let Some(v) = patch.restart {
        s.restart = Some(v);
    }
    if let Some(v) = patch.enabled {
        s.enabled = v;
        if v {
            s.held_reason = None;
        }
    }
    check(deps, caller, &s).await?;
    save(deps, &mut s).await?;
    if s.enabled && !was_enabled {
        rearm(deps, &s).await?;
    }
    Ok(s)
}

/// Deletes a sequence: its enrolments end (their timers find it gone).
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    load(deps, &caller.account_id, id).await?;
    deps.table.delete(&keys::sequence(&caller.account_id, id), None).await?;
    Ok(())
}

async fn enrolment(
    deps: &Deps,
    account: &str,
    sequence: &str,
    contact: &str,
) -> ServiceResult<Option<Enrolment>> {
    match deps.table.get(&keys::enrolment(account, sequence, contact)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// When a step due `after` a moment may fire: its delay on, then its allowed hours.
async fn due_of(
    deps: &Deps,
    account: &str,
    step: &SequenceStep,
    after: DateTime<Utc>,
) -> ServiceResult<DateTime<Utc>> {
    let due = after + Duration::minutes(i64::from(step.delay_minutes));
    Ok(match &step.window {
        Some(w) => w.next_opening(business_hours::zone_of(deps, account, None).await?, due).unwrap_or(due),
        None => due,
    })
}

async fn arm(deps: &Deps, account: &str, e: &Enrolment, at: DateTime<Utc>) -> ServiceResult<()> {
    let Some(due) = e.due_at else { return Ok(()) };
    let due_ms = due.timestamp_millis();
    let job = CampaignJob::SequenceStep {
        account_id: account.to_owned(),
        sequence_id: e.sequence_id.clone(),
        contact_id: e.contact_id.clone(),
        epoch: e.epoch,
        step: e.step,
        due_ms,
    };
    let id = format!("seq:{}:{}:{}:{}:{due_ms}", e.sequence_id, e.contact_id, e.epoch, e.step);
    timers::schedule(deps, &id, at, queues::CAMPAIGNS, None, &job).await
}

/// Writes an enrolment conditionally on what was read (none, or its version).
async fn write(deps: &Deps, account: &str, e: &Enrolment, read: Option<u64>) -> ServiceResult<bool> {
    let key = keys::enrolment(account, &e.sequence_id, &e.contact_id);
    let member = keys::sequence_membership(account, &e.contact_id, &e.sequence_id);
    let writes = vec![
        TransactItem::Put {
            item: to_item(&key, e)?,
            condition: Some(match read {
                Some(v) => Condition::version_is(v),
                None => Condition::NotExists,
            }),
        },
        TransactItem::Put {
            item: Item::from([("pk".to_owned(), attr::s(member.pk)), ("sk".to_owned(), attr::s(member.sk))]),
            condition: None,
        },
    ];
    match deps.table.transact(writes).await {
        Ok(()) => Ok(true),
        Err(TableError::TransactionConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Enrols one contact, or says why not.
pub(crate) async fn enrol_one(
    deps: &Deps,
    s: &Sequence,
    contact_id: &str,
) -> ServiceResult<Result<(), String>> {
    let account = &s.account_id;
    let contact = match contacts::load(deps, account, contact_id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return Ok(Err("contact_missing".into())),
        Err(e) => return Err(e),
    };
    if matches!(contact.status, ContactStatus::Blocked | ContactStatus::Erased) {
        return Ok(Err("blocked".into()));
    }
    if contact.marketing_opt_out_at.is_some() {
        return Ok(Err("opted_out".into()));
    }
    let now = deps.clock.now();
    let existing = enrolment(deps, account, &s.id, contact_id).await?;
    if let Some(e) = &existing {
        if e.status == EnrolmentStatus::Active {
            return Ok(Err("already_enrolled".into()));
        }
        let Some(rule) = s.restart else { return Ok(Err("enrolled_before".into())) };
        if e.epoch >= rule.max_count {
            return Ok(Err("restart_limit".into()));
        }
        if e.ended_at.is_some_and(|at| now < at + Duration::minutes(i64::from(rule.interval_minutes))) {
            return Ok(Err("restart_interval".into()));
        }
    }
    let e = Enrolment {
        sequence_id: s.id.clone(),
        contact_id: contact_id.to_owned(),
        status: EnrolmentStatus::Active,
        epoch: existing.as_ref().map_or(1, |e| e.epoch + 1),
        step: 0,
        due_at: Some(due_of(deps, account, &s.steps[0], now).await?),
        enrolled_at: now,
        ended_at: None,
        end_reason: None,
        version: existing.as_ref().map_or(1, |e| e.version + 1),
    };
    // Armed first: a timer for an enrolment that was not written is stale.
    arm(deps, account, &e, e.due_at.unwrap_or(now)).await?;
    if !write(deps, account, &e, existing.map(|x| x.version)).await? {
        return Ok(Err("already_enrolled".into()));
    }
    Ok(Ok(()))
}

pub async fn enrol(deps: &Deps, caller: &Caller, id: &str, input: EnrolInput) -> ServiceResult<EnrolResult> {
    let s = load(deps, &caller.account_id, id).await?;
    if input.contact_ids.len() > 1000 {
        return Err(ServiceError::invalid("enrol up to 1000 contacts at once (or a tag)"));
    }
    let mut out = EnrolResult { enrolled: Vec::new(), not_enrolled: Vec::new(), tag_queued: false };
    for c in &input.contact_ids {
        match enrol_one(deps, &s, c).await? {
            Ok(()) => out.enrolled.push(c.clone()),
            Err(reason) => out.not_enrolled.push(NotEnrolled { contact_id: c.clone(), reason }),
        }
    }
    if let Some(tag) = input.tag_id {
        crate::crm::tags::load(deps, &caller.account_id, &tag).await?;
        let job = CampaignJob::EnrolTag {
            account_id: caller.account_id.clone(),
            sequence_id: s.id,
            tag_id: tag,
            cursor: None,
        };
        enqueue_campaign(deps, &job, std::time::Duration::ZERO).await?;
        out.tag_queued = true;
    }
    Ok(out)
}

/// The bulk enrolment job: one page of the tag's contacts, then the next.
pub async fn enrol_tag(
    deps: &Deps,
    account: &str,
    id: &str,
    tag: &str,
    cursor: Option<String>,
) -> ServiceResult<()> {
    let s = match load(deps, account, id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let prefix = keys::tagged_prefix("CTAG", tag);
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(prefix.clone()))
        .limit(200)
        .after(cursor);
    let page = deps.table.query(q).await?;
    for item in &page.items {
        if let Some(contact) = attr::get_s(item, "sk").and_then(|sk| sk.strip_prefix(&prefix)) {
            // One that cannot enrol (opted out, already in) is passed over.
            let _not_enrolled = enrol_one(deps, &s, contact).await?;
        }
    }
    if let Some(next) = page.cursor {
        let job = CampaignJob::EnrolTag {
            account_id: account.to_owned(),
            sequence_id: id.to_owned(),
            tag_id: tag.to_owned(),
            cursor: Some(next),
        };
        enqueue_campaign(deps, &job, std::time::Duration::ZERO).await?;
    }
    Ok(())
}

async fn end(
    deps: &Deps,
    account: &str,
    sequence: &str,
    contact: &str,
    status: EnrolmentStatus,
    why: &str,
) -> ServiceResult<bool> {
    for _ in 0..3 {
        let Some(mut e) = enrolment(deps, account, sequence, contact).await? else { return Ok(false) };
        if e.status != EnrolmentStatus::Active {
            return Ok(false);
        }
        let read = e.version;
        e.status = status;
        e.ended_at = Some(deps.clock.now());
        e.end_reason = Some(why.to_owned());
        e.due_at = None;
        e.version += 1;
        if write(deps, account, &e, Some(read)).await? {
            return Ok(true);
        }
    }
    Err(ServiceError::conflict("the enrolment kept changing"))
}

/// The `EnrolContact` job (a flow's action): enrols, or logs why not.
pub async fn enrol_contact(deps: &Deps, account: &str, id: &str, contact: &str) -> ServiceResult<()> {
    let s = match load(deps, account, id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound(_)) => return Ok(()), // deleted since: nothing to enrol in
        Err(e) => return Err(e),
    };
    if let Err(reason) = enrol_one(deps, &s, contact).await? {
        tracing::info!(sequence_id = %id, contact_id = %contact, reason, "a flow's enrolment was not made");
    }
    Ok(())
}

/// The `Unenrol` job (a flow's action).
pub async fn unenrol_contact(deps: &Deps, account: &str, id: &str, contact: &str) -> ServiceResult<()> {
    end(deps, account, id, contact, EnrolmentStatus::Removed, "removed").await.map(|_| ())
}

pub async fn remove(deps: &Deps, caller: &Caller, id: &str, contact: &str) -> ServiceResult<Enrolment> {
    load(deps, &caller.account_id, id).await?;
    end(deps, &caller.account_id, id, contact, EnrolmentStatus::Removed, "removed").await?;
    enrolment(deps, &caller.account_id, id, contact).await?.ok_or(ServiceError::NotFound("enrolment"))
}

pub async fn enrolments(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<EnrolmentList> {
    load(deps, &caller.account_id, id).await?;
    let q = Query::partition(Index::Primary, keys::sequence_pk(&caller.account_id, id))
        .sort(SortCondition::BeginsWith(keys::ENROLMENT_PREFIX.into()));
    Ok(EnrolmentList { items: query_all(deps, q).await? })
}

/// The contact wrote: enrolments in sequences that stop on reply end.
pub(crate) async fn on_reply(deps: &Deps, account: &str, sequence: &str, contact: &str) -> ServiceResult<()> {
    match load(deps, account, sequence).await {
        Ok(s) if s.stop_on_reply => {
            end(deps, account, sequence, contact, EnrolmentStatus::Stopped, "replied").await?;
            Ok(())
        }
        Ok(_) | Err(ServiceError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Switching a sequence on again: every waiting enrolment's step fires now or when due.
async fn rearm(deps: &Deps, s: &Sequence) -> ServiceResult<()> {
    let q = Query::partition(Index::Primary, keys::sequence_pk(&s.account_id, &s.id))
        .sort(SortCondition::BeginsWith(keys::ENROLMENT_PREFIX.into()));
    let now = deps.clock.now();
    for e in query_all::<Enrolment>(deps, q).await? {
        if e.status == EnrolmentStatus::Active
            && let Some(due) = e.due_at
        {
            arm(deps, &s.account_id, &e, due.max(now)).await?;
        }
    }
    Ok(())
}

/// A template held by Meta switches off the sequences that use it, with why.
pub(crate) async fn hold_template(
    deps: &Deps,
    account: &str,
    template: &str,
    why: &str,
) -> ServiceResult<()> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::SEQUENCE_PREFIX.into()));
    for mut s in query_all::<Sequence>(deps, q).await? {
        if s.enabled && s.steps.iter().any(|st| st.template_id == template) {
            s.enabled = false;
            s.held_reason = Some(why.replace("campaign", "sequence"));
            match save(deps, &mut s).await {
                Ok(()) | Err(ServiceError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// A step's timer fired (see the module's notes).
pub async fn fire(
    deps: &Deps,
    account: &str,
    id: &str,
    contact_id: &str,
    epoch: u32,
    step: u32,
    due_ms: i64,
) -> ServiceResult<()> {
    let Some(e) = enrolment(deps, account, id, contact_id).await? else { return Ok(()) };
    let current = e.status == EnrolmentStatus::Active
        && e.epoch == epoch
        && e.step == step
        && e.due_at.map(|d| d.timestamp_millis()) == Some(due_ms);
    if !current {
        // Stale, unless this step fired and crashed before handing its message to `send`:
        // a redelivered timer hands a still-queued message again (its send claims once).
        if e.epoch == epoch && (e.step > step || e.status == EnrolmentStatus::Completed) {
            let item = format!("{contact_id}#{epoch}#{step}");
            let list = List::Sequence { id: id.to_owned() };
            if let Some(b) = bulk::load(deps, account, &list, &item).await?
                && b.status == RecipientStatus::Queued
            {
                hand_out(deps, account, &list, &item, &b).await?;
            }
        }
        return Ok(());
    }
    let s = match load(deps, account, id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound(_)) => {
            end(deps, account, id, contact_id, EnrolmentStatus::Stopped, "sequence_deleted").await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if !s.enabled {
        return Ok(()); // switching it on re-arms
    }
    let Some(st) = s.steps.get(step as usize) else {
        end(deps, account, id, contact_id, EnrolmentStatus::Completed, "completed").await?;
        return Ok(());
    };
    let now = deps.clock.now();
    if let Some(w) = &st.window {
        let zone = business_hours::zone_of(deps, account, None).await?;
        if !w.allows(zone, now) {
            let mut later = e.clone();
            later.due_at = w.next_opening(zone, now);
            later.version += 1;
            if let Some(at) = later.due_at {
                arm(deps, account, &later, at).await?;
            }
            write(deps, account, &later, Some(e.version)).await?;
            return Ok(());
        }
    }
    let contact = contacts::load(deps, account, contact_id).await?;
    if contact.marketing_opt_out_at.is_some()
        || matches!(contact.status, ContactStatus::Blocked | ContactStatus::Erased)
    {
        end(deps, account, id, contact_id, EnrolmentStatus::Stopped, "opted_out").await?;
        return Ok(());
    }
    let template = templates::load(deps, account, &st.template_id).await?;
    if template.status != TemplateStatus::Approved {
        end(deps, account, id, contact_id, EnrolmentStatus::Stopped, "template_not_approved").await?;
        return Ok(());
    }
    let values = store::values_for(&template, &st.parameters, &contact)?;
    let item = format!("{contact_id}#{epoch}#{step}");
    let list = List::Sequence { id: id.to_owned() };
    let b = bulk::queued(
        contact_id,
        contact.name.clone(),
        contact.wa_id.clone(),
        &st.channel_id,
        (&template.name, &template.language),
        &values,
    );
    let mut next = e.clone();
    next.version += 1;
    match s.steps.get(step as usize + 1) {
        Some(following) => {
            next.step = step + 1;
            next.due_at = Some(due_of(deps, account, following, now).await?);
        }
        None => {
            next.status = EnrolmentStatus::Completed;
            next.ended_at = Some(now);
            next.end_reason = Some("completed".into());
            next.due_at = None;
        }
    }
    // The next step's timer is armed before the commit (without the commit it is stale);
    // the message is handed to `send` after it (a crash in between: see the stale case).
    if next.status == EnrolmentStatus::Active
        && let Some(at) = next.due_at
    {
        arm(deps, account, &next, at).await?;
    }
    let key = list.key(account, &item);
    let writes = vec![
        TransactItem::Put { item: to_item(&key, &b)?, condition: Some(Condition::NotExists) },
        TransactItem::Put {
            item: to_item(&keys::enrolment(account, id, contact_id), &next)?,
            condition: Some(Condition::version_is(e.version)),
        },
    ];
    match deps.table.transact(writes).await {
        Ok(()) => {}
        Err(TableError::TransactionConditionFailed { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    hand_out(deps, account, &list, &item, &b).await
}

async fn hand_out(
    deps: &Deps,
    account: &str,
    list: &List,
    item: &str,
    b: &bulk::BulkItem,
) -> ServiceResult<()> {
    deps.queue.send(queues::BULK, bulk::send_job(account, list, item, b, "step")?).await?;
    Ok(())
}

/// The step messages of one enrolment (for tests and the API).
pub async fn messages_of(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    contact: &str,
) -> ServiceResult<Vec<bulk::BulkItem>> {
    load(deps, &caller.account_id, id).await?;
    let q = Query::partition(Index::Primary, keys::sequence_pk(&caller.account_id, id))
        .sort(SortCondition::BeginsWith(format!("M#{contact}#")));
    query_all(deps, q).await
}
