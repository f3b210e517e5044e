//! The audit log (PRODUCT.md §13): who did what to the account's set-up, when and from
//! where — users, teams, channels, API tokens, bulk completion, erasure, outbound webhook
//! endpoints, settings — and the logins it locked. Entries are written by the use cases
//! right after the change they describe, kept by time in the account's partition, and read
//! by admins only, newest first.

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition};
use crate::record::{from_item, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// How long an entry is kept (DynamoDB's TTL, the embedded sweep): two years.
const KEPT_DAYS: i64 = 730;

/// What was done: `<thing>.<verb>` (`user.created`, `team.updated`, `login.locked`, …).
pub type Action = &'static str;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    /// `user.created`, `user.updated`, `user.deleted`, `team.created`, `team.updated`,
    /// `team.deleted`, `team.members_changed`, `channel.created`, `channel.updated`,
    /// `channel.deleted`, `api_token.created`, `api_token.revoked`,
    /// `sessions.bulk_completed`, `contact.erased`, `webhook_endpoint.created`,
    /// `webhook_endpoint.updated`, `webhook_endpoint.deleted`,
    /// `webhook_endpoint.secret_rotated`, `webhook_endpoint.disabled`,
    /// `settings.updated`, `login.locked`.
    pub action: String,
    /// The user who did it; none when the system did (a lock, an endpoint disabled after
    /// failing for days).
    pub actor_id: Option<String>,
    /// The id of what it was done to.
    pub target_id: Option<String>,
    /// The client's address, when known.
    pub source: Option<String>,
    /// A few plain facts (never a secret, a message body or a phone number).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Records what `caller` did to `target`.
pub async fn record(
    deps: &Deps,
    caller: &Caller,
    action: Action,
    target: Option<&str>,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    write(deps, &caller.account_id, Some(&caller.user_id), action, target, caller.source, detail).await
}

/// Records what the system did in `account` (no user acted).
pub async fn record_system(
    deps: &Deps,
    account: &str,
    action: Action,
    target: Option<&str>,
    source: Option<std::net::IpAddr>,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    write(deps, account, None, action, target, source, detail).await
}

async fn write(
    deps: &Deps,
    account: &str,
    actor: Option<&str>,
    action: Action,
    target: Option<&str>,
    source: Option<std::net::IpAddr>,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    let at = deps.clock.now();
    let entry = AuditEntry {
        id: deps.ids.new_id(),
        at,
        action: action.to_owned(),
        actor_id: actor.map(str::to_owned),
        target_id: target.map(str::to_owned),
        source: source.map(|s| s.to_string()),
        detail,
    };
    let mut item = to_item(&keys::audit_entry(account, at.timestamp_millis(), &entry.id), &entry)?;
    let expires = at + chrono::Duration::days(KEPT_DAYS);
    item.insert(crate::ports::table::TTL.into(), crate::ports::table::attr::n(expires.timestamp()));
    deps.table.put(item, Some(Condition::NotExists)).await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action (`user.created`, …).
    pub action: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor` (empty or absent: the first page).
    #[param(format = "cursor")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The account's entries, newest first (admins only).
pub async fn list(deps: &Deps, caller: &Caller, q: AuditQuery) -> ServiceResult<AuditPage> {
    caller.require_admin()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ServiceError::invalid("limit must be between 1 and 200"));
    }
    let from = q.since.map_or(0, |t| t.timestamp_millis().max(0));
    let to = q.until.map_or(99_999_999_999_999, |t| t.timestamp_millis().max(0) - 1);
    let bound = |ms: i64, last: &str| format!("{}{ms:014}#{last}", keys::AUDIT_PREFIX);
    let mut cursor = q.cursor.filter(|c| !c.is_empty());
    let mut items = Vec::new();
    // An action filter may thin a page out: read on until the page is full or the end.
    loop {
        let query = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
            .sort(SortCondition::Between(bound(from, ""), bound(to, "~")))
            .backward()
            .limit(limit)
            .after(cursor.take());
        let page = deps.table.query(query).await?;
        for item in page.items {
            let entry: AuditEntry = from_item(item)?;
            if q.action.as_deref().is_none_or(|a| a == entry.action) {
                items.push(entry);
            }
        }
        cursor = page.cursor;
        if items.len() >= limit as usize || cursor.is_none() {
            return Ok(AuditPage { items, next_cursor: cursor });
        }
    }
}
