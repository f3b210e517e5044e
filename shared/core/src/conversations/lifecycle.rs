//! What happens to open sessions when their team or agent goes away, and admins' bulk
//! completion (PRODUCT.md §1, §3).

use super::model::{Session, SessionStatus};
use super::sessions;
use crate::accounts::{Caller, teams, users};
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Index, Query, SortCondition};
use crate::record::query_all;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Every open session of the account (pending and in progress).
pub async fn open_sessions(deps: &Deps, account: &str) -> ServiceResult<Vec<Session>> {
    let mut out =
        query_all(deps, Query::partition(Index::Gsi1, keys::sessions_by_status_gsi1pk(account, "pending")))
            .await?;
    out.extend(
        query_all(
            deps,
            Query::partition(Index::Gsi1, keys::sessions_by_status_gsi1pk(account, "in_progress")),
        )
        .await?,
    );
    Ok(out)
}

async fn owned_by(deps: &Deps, account: &str, user: &str) -> ServiceResult<Vec<Session>> {
    query_all(
        deps,
        Query::partition(Index::Gsi2, keys::sessions_by_owner_gsi2pk(account, user))
            .sort(SortCondition::BeginsWith("in_progress#".into())),
    )
    .await
}

/// Applies `change` to the session, re-reading it on a concurrent change.
async fn apply(
    deps: &Deps,
    account: &str,
    id: &str,
    change: impl Fn(&mut Session) -> bool,
) -> ServiceResult<()> {
    for _ in 0..5 {
        let mut s = sessions::load(deps, account, id).await?;
        if !s.status.is_open() || !change(&mut s) {
            return Ok(());
        }
        s.routing_seq += 1;
        s.last_activity_at = deps.clock.now();
        match sessions::save(deps, &mut s, vec![]).await {
            Ok(()) => return Ok(()),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("a session kept changing; retry"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamSessions {
    /// Complete every open session of the team.
    Complete,
    /// Move them to `to_team` (pending there).
    Move,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamDeletion {
    /// Required when the team has open sessions.
    pub open_sessions: Option<TeamSessions>,
    pub to_team: Option<String>,
}

/// Deletes a team, first completing or moving its open sessions as asked.
pub async fn delete_team(deps: &Deps, caller: &Caller, id: &str, how: TeamDeletion) -> ServiceResult<()> {
    caller.require_admin()?;
    teams::get(deps, caller, id).await?;
    let open: Vec<Session> =
        open_sessions(deps, &caller.account_id).await?.into_iter().filter(|s| s.team_id == id).collect();
    if !open.is_empty() {
        match (how.open_sessions, how.to_team.as_deref()) {
            (None, _) => {
                return Err(ServiceError::conflict(format!(
                    "the team has {} open sessions: say open_sessions=complete or open_sessions=move&to_team=<team>",
                    open.len()
                )));
            }
            (Some(TeamSessions::Move), None) => return Err(ServiceError::invalid("name to_team")),
            (Some(TeamSessions::Move), Some(to)) if to == id => {
                return Err(ServiceError::invalid("to_team is the team being deleted"));
            }
            (Some(TeamSessions::Move), Some(to)) => {
                teams::get(deps, caller, to).await?;
                for s in &open {
                    apply(deps, &caller.account_id, &s.id, |s| {
                        s.team_id = to.to_owned();
                        s.status = SessionStatus::Pending;
                        s.owner_id = None;
                        s.designated_to = None;
                        true
                    })
                    .await?;
                }
            }
            (Some(TeamSessions::Complete), _) => {
                for s in &open {
                    sessions::complete_by_system(deps, &caller.account_id, &s.id).await?;
                }
            }
        }
    }
    teams::delete(deps, caller, id).await?;
    audit::record(deps, caller, "team.deleted", Some(id), serde_json::json!({})).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserSessions {
    Complete,
    /// To `to_user`, in the session's team if they are in it, else in their first team.
    Transfer,
    /// Back to the team's queue.
    Return,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserDeletion {
    /// Required when the user owns open sessions.
    pub open_sessions: Option<UserSessions>,
    pub to_user: Option<String>,
}

/// Deletes a user, first handling the sessions they own; sessions offered to them go back
/// to their whole team.
pub async fn delete_user(deps: &Deps, caller: &Caller, id: &str, how: UserDeletion) -> ServiceResult<()> {
    caller.require_admin()?;
    users::get(deps, caller, id).await?;
    let owned = owned_by(deps, &caller.account_id, id).await?;
    if !owned.is_empty() {
        match (how.open_sessions, how.to_user.as_deref()) {
            (None, _) => {
                return Err(ServiceError::conflict(format!(
                    "the user owns {} open sessions: say open_sessions=complete, return, or transfer&to_user=<user>",
                    owned.len()
                )));
            }
            (Some(UserSessions::Complete), _) => {
                for s in &owned {
                    sessions::complete_by_system(deps, &caller.account_id, &s.id).await?;
                }
            }
            (Some(UserSessions::Return), _) => {
                for s in &owned {
                    apply(deps, &caller.account_id, &s.id, |s| {
                        s.status = SessionStatus::Pending;
                        s.owner_id = None;
                        true
                    })
                    .await?;
                }
            }
            (Some(UserSessions::Transfer), None) => return Err(ServiceError::invalid("name to_user")),
            (Some(UserSessions::Transfer), Some(to)) => {
                if to == id {
                    return Err(ServiceError::invalid("to_user is the user being deleted"));
                }
                let (target, _) = users::load_active(deps, &caller.account_id, to).await?;
                let their = teams::teams_of(deps, &caller.account_id, &target.id).await?;
                let first = their
                    .first()
                    .map(|m| m.team_id.clone())
                    .ok_or_else(|| ServiceError::invalid("to_user is in no team"))?;
                for s in &owned {
                    apply(deps, &caller.account_id, &s.id, |s| {
                        if !their.iter().any(|m| m.team_id == s.team_id) {
                            s.team_id = first.clone();
                        }
                        s.owner_id = Some(target.id.clone());
                        true
                    })
                    .await?;
                }
            }
        }
    }
    for s in open_sessions(deps, &caller.account_id).await? {
        if s.designated_to.as_deref() == Some(id) {
            apply(deps, &caller.account_id, &s.id, |s| {
                s.designated_to = None;
                true
            })
            .await?;
        }
    }
    users::delete(deps, caller, id).await?;
    audit::record(deps, caller, "user.deleted", Some(id), serde_json::json!({})).await
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BulkFilter {
    pub channel_id: Option<String>,
    pub team_id: Option<String>,
    /// The owning agent.
    pub agent_id: Option<String>,
    /// `pending` or `in_progress` (default: both).
    pub status: Option<SessionStatus>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResult {
    pub completed: usize,
}

/// Completes every open session matching the filter (admins).
pub async fn bulk_complete(deps: &Deps, caller: &Caller, filter: BulkFilter) -> ServiceResult<BulkResult> {
    caller.require_admin()?;
    let mut completed = 0;
    for s in open_sessions(deps, &caller.account_id).await? {
        let wanted = filter.channel_id.as_ref().is_none_or(|c| *c == s.channel_id)
            && filter.team_id.as_ref().is_none_or(|t| *t == s.team_id)
            && filter.agent_id.as_ref().is_none_or(|a| s.owner_id.as_ref() == Some(a))
            && filter.status.is_none_or(|st| st == s.status);
        if wanted {
            sessions::complete_by_system(deps, &caller.account_id, &s.id).await?;
            completed += 1;
        }
    }
    let detail = serde_json::json!({"filter": filter_facts(&filter), "completed": completed});
    audit::record(deps, caller, "sessions.bulk_completed", None, detail).await?;
    Ok(BulkResult { completed })
}

fn filter_facts(f: &BulkFilter) -> serde_json::Value {
    serde_json::json!({"channel_id": f.channel_id, "team_id": f.team_id, "agent_id": f.agent_id, "status": f.status})
}
