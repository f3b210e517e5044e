//! Routing (PRODUCT.md §5), a feature: where a new session goes (wallet, team
//! distribution) and overflow hand-offs. It reacts to new sessions ([`RouteNewSessions`])
//! and runs the `routing` queue's `NewSession` and `Overflow` jobs for the `transfer`
//! function.

use crate::accounts::{teams, users};
use crate::conversations::model::{Session, SessionStatus};
use crate::conversations::sessions;
use crate::conversations::wallets::{self, WalletKind};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::jobs::{self, RoutingJob};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Key, TableError, UpdateOp};
use crate::queues;
use crate::time::{business_hours, timers};
use chrono::{DateTime, Duration, Utc};

/// A customer's message opened a new session: route it (through the `routing` queue, so
/// the inbound path never waits for routing). Idempotent: routing a session already routed
/// or taken does nothing.
pub struct RouteNewSessions;

#[async_trait::async_trait]
impl Reaction for RouteNewSessions {
    fn name(&self) -> &'static str {
        "routing.new_session"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        match event {
            DomainEvent::MessageReceived { account_id, session_id, new_session: true, .. } => {
                let job =
                    RoutingJob::NewSession { account_id: account_id.clone(), session_id: session_id.clone() };
                jobs::enqueue_routing(deps, &job).await
            }
            _ => Ok(()),
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

/// The `NewSession` job: wallet, else the team's distribution.
pub async fn route_new(deps: &Deps, account: &str, session_id: &str) -> ServiceResult<()> {
    let mut s = sessions::load(deps, account, session_id).await?;
    if s.status != SessionStatus::Pending || s.routing_seq != 0 {
        return Ok(()); // already taken or routed
    }
    if s.bot_run.is_some() {
        return Ok(()); // a flow answers it: routed when the flow hands it over
    }
    let now = deps.clock.now();
    let contact = crate::conversations::contacts::load(deps, account, &s.contact_id).await?;
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

/// Saves a routing decision with its event in the same transaction (see `crate::outbox`):
/// who the session is offered to or given to is told live and to integrators.
async fn save_decision(deps: &Deps, s: &mut Session) -> ServiceResult<()> {
    let routed = DomainEvent::SessionRouted {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        team_id: s.team_id.clone(),
        owner_id: s.owner_id.clone(),
        offered_to: s.designated_to.clone(),
        seq: s.routing_seq,
        at: deps.clock.now(),
    };
    sessions::save_and_publish(deps, s, vec![], vec![routed]).await
}

async fn save_or_skip(deps: &Deps, s: &mut Session) -> ServiceResult<()> {
    match save_decision(deps, s).await {
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
    match save_decision(deps, &mut s).await {
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

/// The `Overflow` job: the next member, or the whole team after `max_minutes`.
pub async fn overflow(deps: &Deps, account: &str, session_id: &str, seq: u32) -> ServiceResult<()> {
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
            match save_decision(deps, &mut s).await {
                Ok(()) => schedule_overflow(deps, &s, due).await,
                Err(ServiceError::Conflict(_)) => Ok(()),
                Err(e) => Err(e),
            }
        }
    }
}
