//! Scheduled messages (*mensagens agendadas*): a template for a contact at a time, on a
//! channel and team. `scheduled → sent | failed | cancelled`; cancel only while scheduled;
//! reschedule when scheduled, failed or cancelled. The send claims the message first
//! (conditional on `scheduled` and the due time), so a scheduler firing twice sends once.

use crate::accounts::{Caller, users};
use crate::conversations::{channels, contacts, messages, sessions, templates};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::RoutingJob;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Query, SortCondition, TableError, UpdateOp};
use crate::queues;
use crate::record::{concurrent, from_item, to_item, ts};
use crate::time::timers;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledStatus {
    Scheduled,
    /// Claimed by the send; becomes sent or failed.
    Sending,
    Sent,
    Failed,
    Cancelled,
}

impl ScheduledStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduledMessage {
    pub id: String,
    pub account_id: String,
    pub contact_id: String,
    pub channel_id: String,
    pub team_id: String,
    pub template_id: String,
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub due_at: DateTime<Utc>,
    pub status: ScheduledStatus,
    pub error: Option<String>,
    /// The message that went out.
    pub message_id: Option<String>,
    pub session_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewScheduled {
    pub contact_id: String,
    pub channel_id: String,
    pub team_id: String,
    pub template_id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Reschedule {
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduledFilter {
    pub status: Option<ScheduledStatus>,
    pub contact_id: Option<String>,
    pub channel_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduledList {
    pub items: Vec<ScheduledMessage>,
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<ScheduledMessage> {
    match deps.table.get(&keys::scheduled_message(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("scheduled message")),
    }
}

async fn arm(deps: &Deps, m: &ScheduledMessage) -> ServiceResult<()> {
    let due_ms = m.due_at.timestamp_millis();
    let job = RoutingJob::Scheduled { account_id: m.account_id.clone(), id: m.id.clone(), due_ms };
    timers::schedule(deps, &format!("scheduled:{}:{due_ms}", m.id), m.due_at, queues::ROUTING, None, &job)
        .await
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewScheduled) -> ServiceResult<ScheduledMessage> {
    let channel = channels::get(deps, caller, &input.channel_id).await?;
    contacts::load(deps, &caller.account_id, &input.contact_id).await?;
    crate::accounts::teams::get(deps, caller, &input.team_id).await?;
    let template = templates::load(deps, &caller.account_id, &input.template_id).await?;
    if template.channel_id != channel.id {
        return Err(ServiceError::invalid("the template belongs to another channel"));
    }
    templates::render(&template, &input.parameters)?;
    if input.due_at <= deps.clock.now() {
        return Err(ServiceError::invalid("due_at must be in the future"));
    }
    let m = ScheduledMessage {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        contact_id: input.contact_id,
        channel_id: input.channel_id,
        team_id: input.team_id,
        template_id: input.template_id,
        parameters: input.parameters,
        due_at: input.due_at,
        status: ScheduledStatus::Scheduled,
        error: None,
        message_id: None,
        session_id: None,
        created_by: caller.user_id.clone(),
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table
        .put(to_item(&keys::scheduled_message(&m.account_id, &m.id), &m)?, Some(Condition::NotExists))
        .await?;
    arm(deps, &m).await?;
    Ok(m)
}

pub async fn list(deps: &Deps, caller: &Caller, filter: ScheduledFilter) -> ServiceResult<ScheduledList> {
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::SCHEDULED_PREFIX.into()));
    let mut items: Vec<ScheduledMessage> = crate::record::query_all(deps, q).await?;
    items.retain(|m| {
        filter.status.is_none_or(|s| s == m.status)
            && filter.contact_id.as_ref().is_none_or(|c| *c == m.contact_id)
            && filter.channel_id.as_ref().is_none_or(|c| *c == m.channel_id)
    });
    items.sort_by_key(|m| m.due_at);
    Ok(ScheduledList { items })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<ScheduledMessage> {
    load(deps, &caller.account_id, id).await
}

async fn transition(
    deps: &Deps,
    account: &str,
    id: &str,
    from: &[ScheduledStatus],
    ops: Vec<UpdateOp>,
    refused: &str,
) -> ServiceResult<ScheduledMessage> {
    let allowed =
        Condition::Or(from.iter().map(|s| Condition::equals("status", attr::s(s.as_str()))).collect());
    let mut ops = ops;
    ops.push(UpdateOp::Add("version".into(), 1));
    match deps
        .table
        .update(
            &keys::scheduled_message(account, id),
            ops,
            Some(Condition::And(vec![Condition::Exists, allowed])),
        )
        .await
    {
        Ok(item) => from_item(item),
        Err(TableError::ConditionFailed) => {
            load(deps, account, id).await?;
            Err(ServiceError::conflict(refused))
        }
        Err(e) => Err(concurrent(e)),
    }
}

pub async fn cancel(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<ScheduledMessage> {
    transition(
        deps,
        &caller.account_id,
        id,
        &[ScheduledStatus::Scheduled],
        vec![UpdateOp::Set("status".into(), attr::s(ScheduledStatus::Cancelled.as_str()))],
        "only a scheduled message can be cancelled",
    )
    .await
}

/// Cancels a contact's scheduled message if it has not gone out, and drops its parameters
/// (privacy erasure).
pub(crate) async fn forget_parameters(deps: &Deps, m: &ScheduledMessage) -> ServiceResult<()> {
    let mut ops = vec![UpdateOp::Set("parameters".into(), crate::ports::AttributeValue::L(Vec::new()))];
    if m.status == ScheduledStatus::Scheduled {
        ops.push(UpdateOp::Set("status".into(), attr::s(ScheduledStatus::Cancelled.as_str())));
    }
    deps.table.update(&keys::scheduled_message(&m.account_id, &m.id), ops, Some(Condition::Exists)).await?;
    Ok(())
}

pub async fn reschedule(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    input: Reschedule,
) -> ServiceResult<ScheduledMessage> {
    if input.due_at <= deps.clock.now() {
        return Err(ServiceError::invalid("due_at must be in the future"));
    }
    let m = transition(
        deps,
        &caller.account_id,
        id,
        &[ScheduledStatus::Scheduled, ScheduledStatus::Failed, ScheduledStatus::Cancelled],
        vec![
            UpdateOp::Set("status".into(), attr::s(ScheduledStatus::Scheduled.as_str())),
            UpdateOp::Set("due_at".into(), ts(input.due_at)),
            UpdateOp::Remove("error".into()),
        ],
        "a message being sent or already sent cannot be rescheduled",
    )
    .await?;
    arm(deps, &m).await?;
    Ok(m)
}

/// The timer fired: claim, send the template in the contact's open session on the channel
/// or in a new one owned by whoever scheduled it, record the outcome.
pub async fn fire(deps: &Deps, account: &str, id: &str, due_ms: i64) -> ServiceResult<()> {
    let m = match load(deps, account, id).await {
        Ok(m) => m,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if m.status != ScheduledStatus::Scheduled || m.due_at.timestamp_millis() != due_ms {
        return Ok(()); // cancelled or rescheduled: stale
    }
    let claim = deps
        .table
        .update(
            &keys::scheduled_message(account, id),
            vec![
                UpdateOp::Set("status".into(), attr::s(ScheduledStatus::Sending.as_str())),
                UpdateOp::Add("version".into(), 1),
            ],
            Some(Condition::And(vec![
                Condition::equals("status", attr::s(ScheduledStatus::Scheduled.as_str())),
                Condition::equals("due_at", ts(m.due_at)),
            ])),
        )
        .await;
    match claim {
        Ok(_) => {}
        Err(TableError::ConditionFailed) => return Ok(()), // the other firing has it
        Err(e) => return Err(e.into()),
    }
    let outcome = send(deps, &m).await;
    let ops = match &outcome {
        Ok((session, message)) => vec![
            UpdateOp::Set("status".into(), attr::s(ScheduledStatus::Sent.as_str())),
            UpdateOp::Set("session_id".into(), attr::s(session)),
            UpdateOp::Set("message_id".into(), attr::s(message)),
        ],
        Err(e) => vec![
            UpdateOp::Set("status".into(), attr::s(ScheduledStatus::Failed.as_str())),
            UpdateOp::Set("error".into(), attr::s(e.to_string())),
        ],
    };
    deps.table.update(&keys::scheduled_message(account, id), ops, None).await?;
    Ok(())
}

async fn send(deps: &Deps, m: &ScheduledMessage) -> ServiceResult<(String, String)> {
    let (author, _) = users::load_active(deps, &m.account_id, &m.created_by).await?;
    let caller =
        Caller { account_id: author.account_id, user_id: author.id, profile: author.profile, source: None };
    let session = match sessions::open_session(deps, &m.account_id, &m.channel_id, &m.contact_id).await? {
        Some(s) => s,
        None => {
            let s = sessions::new_active(deps, &caller, &m.channel_id, &m.contact_id, &m.team_id).await?;
            sessions::store_active(deps, &s).await?;
            s
        }
    };
    let message =
        messages::send_template_as(deps, &caller, &session, &m.template_id, m.parameters.clone()).await?;
    Ok((session.id, message.id))
}
