//! What waits now: the pending sessions of each team, read from the pending index (its
//! size is what waits now, never the history).

use crate::accounts::Caller;
use crate::conversations::Session;
use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::keys;
use crate::ports::{Index, Query};
use crate::record::query_all;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamWaiting {
    pub team_id: String,
    /// Pending sessions in the team's queue.
    pub waiting: u32,
    /// The earliest start (creation or reopening) among them.
    pub oldest_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingNow {
    pub total: u32,
    /// Teams with something waiting, most waiting first.
    pub teams: Vec<TeamWaiting>,
}

/// The account's pending sessions per team (admins).
pub async fn now(deps: &Deps, caller: &Caller) -> ServiceResult<WaitingNow> {
    caller.require_admin()?;
    let query = Query::partition(Index::Gsi1, keys::sessions_by_status_gsi1pk(&caller.account_id, "pending"));
    let mut teams: BTreeMap<String, TeamWaiting> = BTreeMap::new();
    let pending: Vec<Session> = query_all(deps, query).await?;
    for s in &pending {
        let team = teams.entry(s.team_id.clone()).or_insert_with(|| TeamWaiting {
            team_id: s.team_id.clone(),
            waiting: 0,
            oldest_since: None,
        });
        team.waiting += 1;
        let since = s.cycle_started_at();
        team.oldest_since = Some(team.oldest_since.map_or(since, |t| t.min(since)));
    }
    let mut teams: Vec<TeamWaiting> = teams.into_values().collect();
    teams.sort_by(|a, b| b.waiting.cmp(&a.waiting).then(a.team_id.cmp(&b.team_id)));
    Ok(WaitingNow { total: pending.len() as u32, teams })
}
