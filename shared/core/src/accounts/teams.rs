//! Teams (*equipes*) and their memberships. One team per account is the default team.

use super::caller::Caller;
use super::model::{Account, Membership, Team, Visibility};
use super::users::{self, clean_name};
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Query, SortCondition, TransactItem, UpdateOp};
use crate::record::{concurrent, from_item, to_item};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTeam {
    pub name: String,
    #[serde(default)]
    pub visibility: Visibility,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub visibility: Option<Visibility>,
    /// `true` makes this the account's default team (the previous one stops being it).
    pub is_default: Option<bool>,
    pub distribution: Option<super::model::Distribution>,
}

/// A user's roles in a team; at least one must be true.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MemberRoles {
    #[serde(default = "yes")]
    pub member: bool,
    #[serde(default)]
    pub supervisor: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamList {
    pub items: Vec<Team>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberList {
    /// In membership creation order (the distribution rotation's order).
    pub items: Vec<Membership>,
}

pub async fn load_account(deps: &Deps, account: &str) -> ServiceResult<Account> {
    match deps.table.get(&keys::account(account)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("account")),
    }
}

pub(crate) fn team_writes(team: &Team) -> ServiceResult<TransactItem> {
    Ok(TransactItem::Put {
        item: to_item(&keys::team(&team.account_id, &team.id), team)?,
        condition: Some(Condition::NotExists),
    })
}

pub(crate) fn membership_write(account: &str, membership: &Membership) -> TransactItem {
    let key = keys::membership(account, &membership.team_id, &membership.user_id);
    TransactItem::Update {
        key,
        ops: vec![
            UpdateOp::Set("team_id".into(), attr::s(&membership.team_id)),
            UpdateOp::Set("user_id".into(), attr::s(&membership.user_id)),
            UpdateOp::Set("member".into(), serde_dynamo::AttributeValue::Bool(membership.member)),
            UpdateOp::Set("supervisor".into(), serde_dynamo::AttributeValue::Bool(membership.supervisor)),
            UpdateOp::SetIfAbsent("joined_at".into(), crate::record::ts(membership.joined_at)),
            UpdateOp::Set("gsi1pk".into(), attr::s(keys::user_teams_gsi1pk(account, &membership.user_id))),
            UpdateOp::Set("gsi1sk".into(), attr::s(&membership.team_id)),
        ],
        condition: None,
    }
}

pub(crate) async fn load_team(deps: &Deps, account: &Account, id: &str) -> ServiceResult<Team> {
    match deps.table.get(&keys::team(&account.id, id)).await? {
        Some(item) => {
            let mut team: Team = from_item(item)?;
            team.is_default = team.id == account.default_team_id;
            Ok(team)
        }
        None => Err(ServiceError::NotFound("team")),
    }
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewTeam) -> ServiceResult<Team> {
    caller.require_admin()?;
    let team = Team {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: clean_name(&input.name)?,
        visibility: input.visibility,
        distribution: Default::default(),
        is_default: false,
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table.transact(vec![team_writes(&team)?]).await.map_err(concurrent)?;
    audit::record(deps, caller, "team.created", Some(&team.id), serde_json::json!({"name": team.name}))
        .await?;
    Ok(team)
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<TeamList> {
    let account = load_account(deps, &caller.account_id).await?;
    let query = Query::partition(Index::Primary, keys::account_pk(&account.id))
        .sort(SortCondition::BeginsWith(keys::TEAM_PREFIX.into()));
    let mut items: Vec<Team> = crate::record::query_all(deps, query).await?;
    for team in &mut items {
        team.is_default = team.id == account.default_team_id;
    }
    Ok(TeamList { items })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Team> {
    let account = load_account(deps, &caller.account_id).await?;
    load_team(deps, &account, id).await
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: TeamPatch) -> ServiceResult<Team> {
    caller.require_admin()?;
    let account = load_account(deps, &caller.account_id).await?;
    let mut team = load_team(deps, &account, id).await?;
    if patch.is_default == Some(false) && team.is_default {
        return Err(ServiceError::invalid("make another team the default instead"));
    }
    if let Some(name) = patch.name {
        team.name = clean_name(&name)?;
    }
    if let Some(visibility) = patch.visibility {
        team.visibility = visibility;
    }
    if let Some(d) = patch.distribution {
        if let Some(o) = d.overflow
            && (!(2..=120).contains(&o.handoff_minutes)
                || o.max_minutes < o.handoff_minutes
                || o.max_minutes > 1440)
        {
            return Err(ServiceError::invalid(
                "handoff_minutes is 2 to 120 and max_minutes at least that, at most 1440",
            ));
        }
        team.distribution = d;
    }
    let read_version = team.version;
    team.version += 1;
    let mut writes = vec![TransactItem::Put {
        item: to_item(&keys::team(&account.id, &team.id), &team)?,
        condition: Some(Condition::version_is(read_version)),
    }];
    if patch.is_default == Some(true) && !team.is_default {
        writes.push(TransactItem::Update {
            key: keys::account(&account.id),
            ops: vec![
                UpdateOp::Set("default_team_id".into(), attr::s(&team.id)),
                UpdateOp::Add("version".into(), 1),
            ],
            condition: Some(Condition::version_is(account.version)),
        });
        team.is_default = true;
    }
    deps.table.transact(writes).await.map_err(concurrent)?;
    audit::record(deps, caller, "team.updated", Some(&team.id), serde_json::json!({"name": team.name}))
        .await?;
    Ok(team)
}

/// Deletes a team that is not the default one, with its memberships. (Open sessions of the
/// team are handled when sessions exist: PRODUCT.md §1 asks complete-all or move-to-team.)
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let account = load_account(deps, &caller.account_id).await?;
    let team = load_team(deps, &account, id).await?;
    if team.is_default {
        return Err(ServiceError::conflict(
            "the default team cannot be deleted; make another team the default first",
        ));
    }
    // The team goes first, so a crash midway leaves only memberships of a missing team,
    // which every read ignores, never a team with half its members.
    deps.table
        .delete(&keys::team(&account.id, id), Some(Condition::version_is(team.version)))
        .await
        .map_err(concurrent)?;
    let members = memberships(deps, &account.id, id).await?;
    for chunk in members.chunks(crate::ports::table::MAX_TRANSACTION_ITEMS) {
        let writes = chunk
            .iter()
            .map(|m| TransactItem::Delete {
                key: keys::membership(&account.id, id, &m.user_id),
                condition: None,
            })
            .collect();
        deps.table.transact(writes).await?;
    }
    Ok(())
}

pub(crate) async fn memberships(deps: &Deps, account: &str, team: &str) -> ServiceResult<Vec<Membership>> {
    let query = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::team_members_prefix(team)));
    let mut out: Vec<Membership> = crate::record::query_all(deps, query).await?;
    out.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then_with(|| a.user_id.cmp(&b.user_id)));
    Ok(out)
}

pub async fn members(deps: &Deps, caller: &Caller, team: &str) -> ServiceResult<MemberList> {
    let account = load_account(deps, &caller.account_id).await?;
    load_team(deps, &account, team).await?;
    Ok(MemberList { items: memberships(deps, &account.id, team).await? })
}

/// The teams a user belongs to (any role), for `GET /v1/me` and the team choice rules.
pub async fn teams_of(deps: &Deps, account: &str, user: &str) -> ServiceResult<Vec<Membership>> {
    let query = Query::partition(Index::Gsi1, keys::user_teams_gsi1pk(account, user));
    let mut out = Vec::new();
    let mut page = deps.table.query(query.clone()).await?;
    loop {
        for item in page.items {
            let membership: Membership = from_item(item)?;
            if deps.table.get(&keys::team(account, &membership.team_id)).await?.is_some() {
                out.push(membership);
            }
        }
        match page.cursor {
            Some(next) => page = deps.table.query(query.clone().after(Some(next))).await?,
            None => break,
        }
    }
    Ok(out)
}

/// Adds a user to a team or changes their roles there.
pub async fn set_member(
    deps: &Deps,
    caller: &Caller,
    team: &str,
    user: &str,
    roles: MemberRoles,
) -> ServiceResult<Membership> {
    caller.require_admin()?;
    if !roles.member && !roles.supervisor {
        return Err(ServiceError::invalid("a user in a team is a member, a supervisor, or both"));
    }
    let account = load_account(deps, &caller.account_id).await?;
    let team = load_team(deps, &account, team).await?;
    let (user, _) = users::load_active(deps, &account.id, user).await?;
    let membership = Membership {
        team_id: team.id.clone(),
        user_id: user.id.clone(),
        member: roles.member,
        supervisor: roles.supervisor,
        joined_at: deps.clock.now(),
    };
    let writes = vec![
        TransactItem::ConditionCheck {
            key: keys::team(&account.id, &team.id),
            condition: Condition::version_is(team.version),
        },
        TransactItem::ConditionCheck {
            key: keys::user(&account.id, &user.id),
            condition: Condition::version_is(user.version),
        },
        membership_write(&account.id, &membership),
    ];
    deps.table.transact(writes).await.map_err(concurrent)?;
    let detail =
        serde_json::json!({"user_id": user.id, "member": roles.member, "supervisor": roles.supervisor});
    audit::record(deps, caller, "team.members_changed", Some(&team.id), detail).await?;
    match deps.table.get(&keys::membership(&account.id, &team.id, &user.id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::conflict("the membership changed meanwhile; retry")),
    }
}

pub async fn remove_member(deps: &Deps, caller: &Caller, team: &str, user: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let account = load_account(deps, &caller.account_id).await?;
    load_team(deps, &account, team).await?;
    let key = keys::membership(&account.id, team, user);
    match deps.table.delete(&key, Some(Condition::Exists)).await {
        Ok(()) => {
            let detail = serde_json::json!({"user_id": user, "removed": true});
            audit::record(deps, caller, "team.members_changed", Some(team), detail).await
        }
        Err(crate::ports::TableError::ConditionFailed) => Err(ServiceError::NotFound("membership")),
        Err(other) => Err(other.into()),
    }
}
