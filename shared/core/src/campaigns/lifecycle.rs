//! A campaign's commands that move its fan-out: start (now or scheduled), the scheduled
//! start firing, pause, resume and cancel. Each state change is a conditional write on
//! the status (`store::transition`), so two clicks or two firings change it once.

use super::model::CampaignStatus;
use super::store::{check, load, reason, refused, transition};
use super::{fanout, model::Campaign};
use crate::accounts::Caller;
use crate::conversations::model::TemplateStatus;
use crate::conversations::templates;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::CampaignJob;
use crate::ports::UpdateOp;
use crate::ports::table::attr;
use crate::queues;
use crate::record::ts;
use crate::time::timers;

/// Admins start a draft: now, or at its `start_at` (then it is `scheduled`).
pub async fn start(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Campaign> {
    caller.require_admin()?;
    let c = load(deps, &caller.account_id, id).await?;
    check(deps, caller, &c).await?;
    let template = templates::load(deps, &caller.account_id, &c.template_id).await?;
    if template.status != TemplateStatus::Approved {
        return Err(ServiceError::invalid("the template is not approved by Meta yet"));
    }
    let now = deps.clock.now();
    if let Some(at) = c.start_at.filter(|at| *at > now) {
        let Some(c) = transition(
            deps,
            &caller.account_id,
            id,
            &[CampaignStatus::Draft],
            CampaignStatus::Scheduled,
            vec![],
        )
        .await?
        else {
            return Err(refused(&c, "scheduled"));
        };
        let job = CampaignJob::Start { account_id: c.account_id.clone(), campaign_id: c.id.clone() };
        timers::schedule(deps, &format!("campaign-start:{}", c.id), at, queues::CAMPAIGNS, None, &job)
            .await?;
        return Ok(c);
    }
    let ops = vec![UpdateOp::Set("started_at".into(), ts(now)), UpdateOp::Remove("status_reason".into())];
    match transition(
        deps,
        &caller.account_id,
        id,
        &[CampaignStatus::Draft, CampaignStatus::Scheduled],
        CampaignStatus::Running,
        ops,
    )
    .await?
    {
        Some(c) => {
            fanout::begin(deps, &c.account_id, &c.id).await?;
            Ok(c)
        }
        None => Err(refused(&load(deps, &caller.account_id, id).await?, "started")),
    }
}

/// The scheduled start time came (the timer may fire twice: the transition happens once,
/// and the fan-out begins once).
pub async fn start_due(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let now = deps.clock.now();
    let ops = vec![UpdateOp::Set("started_at".into(), ts(now))];
    let started =
        transition(deps, account, id, &[CampaignStatus::Scheduled], CampaignStatus::Running, ops).await?;
    let running = match started {
        Some(c) => c,
        None => match load(deps, account, id).await {
            Ok(c) if c.status == CampaignStatus::Running => c,
            Ok(_) | Err(ServiceError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        },
    };
    fanout::begin(deps, account, &running.id).await
}

pub async fn pause(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Campaign> {
    caller.require_admin()?;
    let ops =
        vec![reason("Paused by an administrator."), UpdateOp::Set("paused_by_window".into(), attr::b(false))];
    match transition(
        deps,
        &caller.account_id,
        id,
        &[CampaignStatus::Running, CampaignStatus::Scheduled],
        CampaignStatus::Paused,
        ops,
    )
    .await?
    {
        Some(c) => Ok(c),
        None => Err(refused(&load(deps, &caller.account_id, id).await?, "paused")),
    }
}

pub async fn resume(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Campaign> {
    caller.require_admin()?;
    let ops = vec![
        UpdateOp::Remove("status_reason".into()),
        UpdateOp::Set("paused_by_window".into(), attr::b(false)),
    ];
    let Some(c) =
        transition(deps, &caller.account_id, id, &[CampaignStatus::Paused], CampaignStatus::Running, ops)
            .await?
    else {
        return Err(refused(&load(deps, &caller.account_id, id).await?, "resumed"));
    };
    fanout::resume(deps, &c.account_id, &c.id).await?;
    Ok(c)
}

/// Cancels: recipients not yet sent are never sent (they end `skipped`, reason
/// `cancelled`); what went out stays.
pub async fn cancel(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Campaign> {
    caller.require_admin()?;
    let from =
        [CampaignStatus::Draft, CampaignStatus::Scheduled, CampaignStatus::Running, CampaignStatus::Paused];
    let ops = vec![reason("Cancelled by an administrator.")];
    let Some(c) = transition(deps, &caller.account_id, id, &from, CampaignStatus::Cancelled, ops).await?
    else {
        return Err(refused(&load(deps, &caller.account_id, id).await?, "cancelled"));
    };
    fanout::resume(deps, &c.account_id, &c.id).await?;
    Ok(c)
}
