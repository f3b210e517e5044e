//! Routing (PRODUCT.md §5): where a new session goes (wallet, team distribution), overflow
//! hand-offs, and the jobs of the `routing` queue (the `transfer` function), which also
//! carries the session timers (keep-alive, scheduled messages).

use super::model::{Session, SessionStatus};
use super::sessions;
use super::wallets::{self, WalletKind};
use crate::accounts::{teams, users};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Key, OutgoingMessage, TableError, UpdateOp};
use crate::queues;
use crate::time::{business_hours, keep_alive, scheduled, timers};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The `routing` queue's jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoutingJob {
    /// A new receptive session: wallet or distribution.
    NewSession { account_id: String, session_id: String },
    /// The designated member did not assume in time (stale unless `seq` still matches).
    Overflow { account_id: String, session_id: String, seq: u32 },
    /// Keep-alive: stale unless the contact's last message is still `last_inbound_ms`.
    KeepAlive { account_id: String, session_id: String, last_inbound_ms: i64, closing: bool },
    /// A scheduled message is due (stale unless its due time is still `due_ms`).
    Scheduled { account_id: String, id: String, due_ms: i64 },
}

/// The team that receives a new receptive session before routing runs: the default team.
pub async fn team_for_new_session(deps: &Deps, account: &str, _contact: &str) -> ServiceResult<String> {
    Ok(teams::load_account(deps, account).await?.default_team_id)
}

pub(crate) async fn enqueue(deps: &Deps, job: &RoutingJob) -> ServiceResult<()> {
    let body = serde_json::to_string(job)?;
    deps.queue.send(queues::ROUTING, OutgoingMessage::new(body)).await?;
    Ok(())
}

pub async fn run(deps: &Deps, job: RoutingJob) -> ServiceResult<()> {
    match job {
        RoutingJob::NewSession { account_id, session_id } => route_new(deps, &account_id, &session_id).await,
        RoutingJob::Overflow { account_id, session_id, seq } => {
            overflow(deps, &account_id, &session_id, seq).await
        }
        RoutingJob::KeepAlive { account_id, session_id, last_inbound_ms, closing } => {
            keep_alive::fire(deps, &account_id, &session_id, last_inbound_ms, closing).await
        }
        RoutingJob::Scheduled { account_id, id, due_ms } => {
            scheduled::fire(deps, &account_id, &id, due_ms).await
        }
    }
}

/// The members who take turns, in membership creation order: members (not supervisors
/// only), available, not deleted.
async fn rotation(deps: &Deps, account: &str, candidates: Vec<String>) -> ServiceResult<Vec<String>> {
    let mut out = Vec::new();
    for user in candidates {
        if let Some((u, _)) = users::load(deps, account, &user).await?
            && u.available
            && u.deleted_at.is_none()
        {
            out.push(user);
        }
    }
    Ok(out)
}

async fn team_rotation(deps: &Deps, account: &str, team: &str) -> ServiceResult<(Vec<String>, Vec<String>)> {
    let members = teams::memberships(deps, account, team).await?;
    let order: Vec<String> = members.iter().filter(|m| m.member).map(|m| m.user_id.clone()).collect();
    let eligible = rotation(deps, account, order.clone()).await?;
    Ok((order, eligible))
}

/// The next of `eligible` after the pool's last pick, in `order`; the pick is recorded with
/// a version check, so two sessions routed at once never take the same turn.
async fn next_in_turn(
    deps: &Deps,
    account: &str,
    pool: &str,
    order: &[String],
    eligible: &[String],
) -> ServiceResult<Option<String>> {
    if eligible.is_empty() {
        return Ok(None);
    }
    let key = Key::new(keys::account_pk(account), format!("RR#{pool}"));
    for _ in 0..50 {
        let state = deps.table.get(&key).await?;
        let last = state.as_ref().and_then(|s| attr::get_s(s, "last")).map(str::to_owned);
        let version = state.as_ref().and_then(|s| attr::get_n(s, "version"));
        let start = last.as_ref().and_then(|l| order.iter().position(|u| u == l)).map_or(0, |i| i + 1);
        let pick = (0..order.len())
            .map(|k| &order[(start + k) % order.len()])
            .find(|u| eligible.contains(u))
            .cloned();
        let Some(pick) = pick else { return Ok(None) };
        let condition = match version {
            Some(v) => Condition::version_is(v as u64),
            None => Condition::NotExists,
        };
        let ops = vec![UpdateOp::Set("last".into(), attr::s(&pick)), UpdateOp::Add("version".into(), 1)];
        match deps.table.update(&key, ops, Some(condition)).await {
            Ok(_) => return Ok(Some(pick)),
            Err(TableError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the rotation kept changing; retry"))
}

async fn route_new(deps: &Deps, account: &str, session_id: &str) -> ServiceResult<()> {
    let mut s = sessions::load(deps, account, session_id).await?;
    if s.status != SessionStatus::Pending || s.routing_seq != 0 {
        return Ok(()); // already taken or routed
    }
    let now = deps.clock.now();
    let contact = super::contacts::load(deps, account, &s.contact_id).await?;
    if let Some(wallet) = wallets::of_contact(deps, account, &contact, now).await? {
        s.team_id = wallet.team_id.clone();
        match wallet.kind {
            WalletKind::SingleAgent => {
                let agent = &wallet.agents[0];
                if !rotation(deps, account, vec![agent.clone()]).await?.is_empty() {
                    s.status = SessionStatus::InProgress;
                    s.owner_id = Some(agent.clone());
                    s.routing_seq += 1;
                    return save_or_skip(deps, &mut s).await;
                }
            }
            WalletKind::Shared => {
                let eligible = rotation(deps, account, wallet.agents.clone()).await?;
                if let Some(pick) =
                    next_in_turn(deps, account, &format!("W{}", wallet.id), &wallet.agents, &eligible).await?
                {
                    return designate(deps, s, pick, None, now).await;
                }
            }
        }
        s.routing_seq += 1;
        return save_or_skip(deps, &mut s).await;
    }
    let account_rec = teams::load_account(deps, account).await?;
    let team = teams::load_team(deps, &account_rec, &s.team_id).await?;
    if !team.distribution.enabled {
        return Ok(());
    }
    let (order, eligible) = team_rotation(deps, account, &team.id).await?;
    match next_in_turn(deps, account, &team.id, &order, &eligible).await? {
        Some(pick) => designate(deps, s, pick, team.distribution.overflow, now).await,
        // Nobody eligible: the whole team.
        None => Ok(()),
    }
}

async fn save_or_skip(deps: &Deps, s: &mut Session) -> ServiceResult<()> {
    match sessions::save(deps, s, vec![]).await {
        // Someone acted on the session meanwhile: their action stands.
        Ok(()) | Err(ServiceError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Offers a pending session to `member` and sets the overflow timer.
async fn designate(
    deps: &Deps,
    mut s: Session,
    member: String,
    overflow: Option<crate::accounts::Overflow>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    s.designated_to = Some(member);
    s.routing_seq += 1;
    s.routing_started_at.get_or_insert(now);
    match sessions::save(deps, &mut s, vec![]).await {
        Ok(()) => {}
        Err(ServiceError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(o) = overflow {
        let started = s.routing_started_at.unwrap_or(now);
        let due = (now + Duration::minutes(i64::from(o.handoff_minutes)))
            .min(started + Duration::minutes(i64::from(o.max_minutes)));
        schedule_overflow(deps, &s, due).await?;
    }
    Ok(())
}

async fn schedule_overflow(deps: &Deps, s: &Session, due: DateTime<Utc>) -> ServiceResult<()> {
    let job = RoutingJob::Overflow {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        seq: s.routing_seq,
    };
    timers::schedule(deps, &format!("overflow:{}:{}", s.id, s.routing_seq), due, queues::ROUTING, None, &job)
        .await
}

async fn overflow(deps: &Deps, account: &str, session_id: &str, seq: u32) -> ServiceResult<()> {
    let mut s = sessions::load(deps, account, session_id).await?;
    if s.status != SessionStatus::Pending || s.routing_seq != seq || s.designated_to.is_none() {
        return Ok(()); // stale: assumed, transferred or re-routed since
    }
    let now = deps.clock.now();
    // Outside business hours with the auto-reply off, overflow waits for the opening.
    if let Some(hours) = business_hours::effective(deps, account, Some(&s.channel_id)).await?
        && !hours.is_open(now)
        && !hours.auto_reply.enabled
    {
        if let Some(opening) = hours.next_change(now) {
            schedule_overflow(deps, &s, opening).await?;
        }
        return Ok(());
    }
    let account_rec = teams::load_account(deps, account).await?;
    let team = teams::load_team(deps, &account_rec, &s.team_id).await?;
    let Some(o) = team.distribution.overflow else { return Ok(()) };
    let started = s.routing_started_at.unwrap_or(now);
    if now >= started + Duration::minutes(i64::from(o.max_minutes)) {
        // Released to the whole team.
        s.designated_to = None;
        s.routing_seq += 1;
        return save_or_skip(deps, &mut s).await;
    }
    let (order, eligible) = team_rotation(deps, account, &team.id).await?;
    let current = s.designated_to.clone().unwrap_or_default();
    let start = order.iter().position(|u| *u == current).map_or(0, |i| i + 1);
    let next = (0..order.len())
        .map(|k| &order[(start + k) % order.len()])
        .find(|u| eligible.contains(u) && **u != current)
        .cloned();
    match next {
        Some(member) => designate(deps, s, member, Some(o), now).await,
        None => {
            // Nobody else: keep the offer until the release.
            let due = started + Duration::minutes(i64::from(o.max_minutes));
            s.routing_seq += 1;
            match sessions::save(deps, &mut s, vec![]).await {
                Ok(()) => schedule_overflow(deps, &s, due).await,
                Err(ServiceError::Conflict(_)) => Ok(()),
                Err(e) => Err(e),
            }
        }
    }
}
