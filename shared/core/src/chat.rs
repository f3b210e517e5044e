//! The internal chat (Helena's *chat interno*): users of an account write to one another,
//! to a team, or to everyone. Messages are kept per conversation; each reaches its
//! audience live (a `chat.message` event of the live stream, never an outbound webhook:
//! it stays inside the account).
//!
//! Conversations as a caller names them: `everyone`, `team:<team id>` (its members and
//! supervisors, and admins), `user:<user id>` (a direct conversation with that user).
//! Direct conversations are stored once for both users (`dm:<lower id>:<higher id>`).

use crate::accounts::{Caller, teams, users};
use crate::conversations::sessions::Access;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::events::{ChatAudience, DomainEvent};
use crate::keys;
use crate::ports::{Condition, Index, Query, TransactItem};
use crate::record::{from_item, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The longest message.
pub const MAX_TEXT: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatMessage {
    pub id: String,
    /// As stored: `everyone`, `team:<id>`, `dm:<user>:<user>`.
    pub conversation: String,
    pub from_user_id: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatPage {
    /// Newest first.
    pub items: Vec<ChatMessage>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatText {
    pub text: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    pub cursor: Option<String>,
    /// 1–200 (default 50).
    pub limit: Option<u32>,
}

/// A conversation the caller may use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatConversation {
    /// What the routes take: `everyone`, `team:<id>`, `user:<id>`.
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatConversations {
    pub items: Vec<ChatConversation>,
}

/// Who reads a conversation: everyone; a team's members and supervisors, and admins; the
/// two users of a direct one. The one rule for reading it and hearing it live.
pub fn may_read(access: &Access, audience: &ChatAudience) -> bool {
    match audience {
        ChatAudience::Everyone => true,
        ChatAudience::Team { team_id } => access.caller.is_admin() || access.is_member(team_id),
        ChatAudience::Users { user_ids } => user_ids.contains(&access.caller.user_id),
    }
}

/// Where a conversation named by the caller is stored, and who reads it.
async fn resolve(deps: &Deps, caller: &Caller, name: &str) -> ServiceResult<(String, ChatAudience)> {
    let (conversation, audience) = if name == "everyone" {
        ("everyone".to_owned(), ChatAudience::Everyone)
    } else if let Some(team) = name.strip_prefix("team:") {
        let access = Access::of(deps, caller).await?;
        let audience = ChatAudience::Team { team_id: team.to_owned() };
        if !access.team_exists(team) || !may_read(&access, &audience) {
            return Err(ServiceError::NotFound("conversation"));
        }
        (format!("team:{team}"), audience)
    } else if let Some(other) = name.strip_prefix("user:")
        && other != caller.user_id
        && matches!(users::load(deps, &caller.account_id, other).await?, Some((u, _)) if u.deleted_at.is_none())
    {
        let (a, b) = if caller.user_id.as_str() < other {
            (caller.user_id.as_str(), other)
        } else {
            (other, caller.user_id.as_str())
        };
        (format!("dm:{a}:{b}"), ChatAudience::Users { user_ids: vec![a.to_owned(), b.to_owned()] })
    } else {
        return Err(ServiceError::NotFound("conversation"));
    };
    Ok((conversation, audience))
}

/// Writes `text` to the conversation; its audience hears it live.
pub async fn post(deps: &Deps, caller: &Caller, name: &str, input: ChatText) -> ServiceResult<ChatMessage> {
    let text = input.text.trim_end().to_owned();
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT {
        return Err(ServiceError::invalid(format!("text: 1 to {MAX_TEXT} characters")));
    }
    let (conversation, audience) = resolve(deps, caller, name).await?;
    let message = ChatMessage {
        id: deps.ids.new_id(),
        conversation: conversation.clone(),
        from_user_id: caller.user_id.clone(),
        text,
        created_at: deps.clock.now(),
    };
    let item = to_item(&keys::chat_message(&caller.account_id, &conversation, &message.id), &message)?;
    let event = DomainEvent::ChatPosted {
        account_id: caller.account_id.clone(),
        message_id: message.id.clone(),
        conversation,
        from_user_id: caller.user_id.clone(),
        audience,
        at: message.created_at,
    };
    let writes = vec![TransactItem::Put { item, condition: Some(Condition::NotExists) }];
    crate::outbox::transact(deps, writes, vec![event]).await??;
    Ok(message)
}

/// The conversation's messages, newest first.
pub async fn list(deps: &Deps, caller: &Caller, name: &str, q: ChatQuery) -> ServiceResult<ChatPage> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ServiceError::invalid("limit must be between 1 and 200"));
    }
    let (conversation, _) = resolve(deps, caller, name).await?;
    let query = Query::partition(Index::Primary, keys::chat_pk(&caller.account_id, &conversation))
        .backward()
        .limit(limit)
        .after(q.cursor.filter(|c| !c.is_empty()));
    let page = deps.table.query(query).await?;
    let items = page.items.into_iter().map(from_item).collect::<ServiceResult<Vec<ChatMessage>>>()?;
    Ok(ChatPage { items, next_cursor: page.cursor })
}

/// The conversations the caller may use: everyone, their teams (every team for admins),
/// every other active user.
pub async fn conversations(deps: &Deps, caller: &Caller) -> ServiceResult<ChatConversations> {
    let mut items = vec![ChatConversation { id: "everyone".into(), name: "Todos".into() }];
    let access = Access::of(deps, caller).await?;
    for team in teams::list(deps, caller).await?.items {
        if may_read(&access, &ChatAudience::Team { team_id: team.id.clone() }) {
            items.push(ChatConversation { id: format!("team:{}", team.id), name: team.name });
        }
    }
    let mut cursor = None;
    loop {
        let page = users::list(deps, caller, false, cursor, None).await?;
        for user in page.items {
            if user.id != caller.user_id {
                items.push(ChatConversation { id: format!("user:{}", user.id), name: user.name });
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(ChatConversations { items }),
        }
    }
}
