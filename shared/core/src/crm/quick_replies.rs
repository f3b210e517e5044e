//! Quick replies (*mensagens rápidas*): a shortcut and a text (with `{{variables}}`, see
//! [`super::placeholders`]) and optionally a file, visible to their author, to one team
//! or to everyone. Agents create their own; a team's supervisors and admins create the
//! team's; admins create everyone's. Whoever may create one may change or delete it.
//!
//! Access patterns: one by id (get `QREPLY#<id>`); all of an account (query prefix
//! `QREPLY#`, a small set filtered by visibility in memory).

use crate::accounts::{Caller, teams};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_TEXT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyVisibility {
    /// Only its author.
    Me,
    /// Members of `team_id`.
    Team,
    Everyone,
}

/// A file sent with the text (uploaded with `POST /v1/uploads`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuickMedia {
    pub blob_key: String,
    /// `image`, `video`, `audio` or `document`.
    pub kind: String,
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuickReply {
    pub id: String,
    pub account_id: String,
    /// What agents type after `/` to find it, e.g. `boleto`.
    pub shortcut: String,
    pub text: String,
    pub media: Option<QuickMedia>,
    pub visibility: ReplyVisibility,
    pub team_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct QuickReplyInput {
    pub shortcut: String,
    pub text: String,
    pub media: Option<QuickMedia>,
    pub visibility: ReplyVisibility,
    /// For `team` visibility.
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuickReplyList {
    /// By shortcut.
    pub items: Vec<QuickReply>,
}

fn clean_shortcut(s: &str) -> ServiceResult<String> {
    let s = s.trim().trim_start_matches('/').to_lowercase();
    let ok = (1..=30).contains(&s.chars().count())
        && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(ServiceError::invalid("shortcut: 1 to 30 letters, digits, _ or -"));
    }
    Ok(s)
}

/// Whether `caller` may create, change or delete a reply with this visibility and team.
async fn may_manage(
    deps: &Deps,
    caller: &Caller,
    visibility: ReplyVisibility,
    team: Option<&str>,
    author: &str,
) -> ServiceResult<bool> {
    if caller.is_admin() {
        return Ok(true);
    }
    Ok(match visibility {
        ReplyVisibility::Me => author == caller.user_id,
        ReplyVisibility::Everyone => false,
        ReplyVisibility::Team => {
            let mine = teams::teams_of(deps, &caller.account_id, &caller.user_id).await?;
            mine.iter().any(|m| Some(m.team_id.as_str()) == team && m.supervisor)
        }
    })
}

async fn check(deps: &Deps, caller: &Caller, input: &QuickReplyInput) -> ServiceResult<()> {
    if input.text.trim().is_empty() || input.text.chars().count() > MAX_TEXT {
        return Err(ServiceError::invalid(format!("text: 1 to {MAX_TEXT} characters")));
    }
    match (input.visibility, &input.team_id) {
        (ReplyVisibility::Team, None) => {
            return Err(ServiceError::invalid("team_id: a team reply names its team"));
        }
        (ReplyVisibility::Team, Some(t)) => {
            teams::get(deps, caller, t).await?;
        }
        (_, Some(_)) => return Err(ServiceError::invalid("team_id: only for team visibility")),
        _ => {}
    }
    if let Some(m) = &input.media {
        if !["image", "video", "audio", "document"].contains(&m.kind.as_str()) {
            return Err(ServiceError::invalid("media.kind: image, video, audio or document"));
        }
        if !keys::is_upload_of(&caller.account_id, &m.blob_key) {
            return Err(ServiceError::invalid("media.blob_key: not an upload of this account"));
        }
    }
    if !may_manage(deps, caller, input.visibility, input.team_id.as_deref(), &caller.user_id).await? {
        return Err(ServiceError::forbidden(
            "agents create their own replies; a team's supervisors its team's; admins everyone's",
        ));
    }
    Ok(())
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<QuickReply> {
    match deps.table.get(&keys::quick_reply(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("quick reply")),
    }
}

/// The teams whose replies `caller` sees (none needed for admins, who see all).
async fn teams_seen(deps: &Deps, caller: &Caller) -> ServiceResult<Vec<String>> {
    if caller.is_admin() {
        return Ok(Vec::new());
    }
    Ok(teams::teams_of(deps, &caller.account_id, &caller.user_id)
        .await?
        .into_iter()
        .map(|m| m.team_id)
        .collect())
}

/// Whether `caller`, a member of `my_teams`, may see and use `reply`.
fn visible(caller: &Caller, my_teams: &[String], reply: &QuickReply) -> bool {
    caller.is_admin()
        || match reply.visibility {
            ReplyVisibility::Everyone => true,
            ReplyVisibility::Me => reply.created_by == caller.user_id,
            ReplyVisibility::Team => reply.team_id.as_ref().is_some_and(|t| my_teams.contains(t)),
        }
}

/// A reply `caller` may use (not found otherwise).
pub async fn usable(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<QuickReply> {
    let reply = load(deps, &caller.account_id, id).await?;
    if visible(caller, &teams_seen(deps, caller).await?, &reply) {
        Ok(reply)
    } else {
        Err(ServiceError::NotFound("quick reply"))
    }
}

/// The replies `caller` may use (admins: all), by shortcut; `q` keeps those whose
/// shortcut starts with it.
pub async fn list(deps: &Deps, caller: &Caller, q: Option<&str>) -> ServiceResult<QuickReplyList> {
    let query = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::QUICK_REPLY_PREFIX.into()));
    let all: Vec<QuickReply> = query_all(deps, query).await?;
    let my_teams = teams_seen(deps, caller).await?;
    let prefix = q.map(|q| q.trim().trim_start_matches('/').to_lowercase()).unwrap_or_default();
    let mut items: Vec<QuickReply> = all
        .into_iter()
        .filter(|r| visible(caller, &my_teams, r))
        .filter(|r| r.shortcut.starts_with(&prefix))
        .collect();
    items.sort_by(|a, b| a.shortcut.cmp(&b.shortcut).then(a.id.cmp(&b.id)));
    Ok(QuickReplyList { items })
}

pub async fn create(deps: &Deps, caller: &Caller, input: QuickReplyInput) -> ServiceResult<QuickReply> {
    check(deps, caller, &input).await?;
    let reply = QuickReply {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        shortcut: clean_shortcut(&input.shortcut)?,
        text: input.text.trim().to_owned(),
        media: input.media,
        visibility: input.visibility,
        team_id: input.team_id,
        created_by: caller.user_id.clone(),
        created_at: deps.clock.now(),
        version: 1,
    };
    let item = to_item(&keys::quick_reply(&reply.account_id, &reply.id), &reply)?;
    deps.table.put(item, Some(Condition::NotExists)).await?;
    Ok(reply)
}

/// Replaces a reply (whoever may manage it, before and after the change).
pub async fn update(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    input: QuickReplyInput,
) -> ServiceResult<QuickReply> {
    let mut reply = usable(deps, caller, id).await?;
    if !may_manage(deps, caller, reply.visibility, reply.team_id.as_deref(), &reply.created_by).await? {
        return Err(ServiceError::forbidden("you may use this reply, not change it"));
    }
    check(deps, caller, &input).await?;
    let read = reply.version;
    reply.shortcut = clean_shortcut(&input.shortcut)?;
    reply.text = input.text.trim().to_owned();
    reply.media = input.media;
    reply.visibility = input.visibility;
    reply.team_id = input.team_id;
    reply.version += 1;
    let item = to_item(&keys::quick_reply(&reply.account_id, &reply.id), &reply)?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)?;
    Ok(reply)
}

pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    let reply = usable(deps, caller, id).await?;
    if !may_manage(deps, caller, reply.visibility, reply.team_id.as_deref(), &reply.created_by).await? {
        return Err(ServiceError::forbidden("you may use this reply, not delete it"));
    }
    deps.table.delete(&keys::quick_reply(&caller.account_id, id), None).await?;
    Ok(())
}
