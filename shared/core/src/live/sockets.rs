//! The live stream over WebSockets (API Gateway's WebSocket API on AWS).
//!
//! A browser cannot put a token on a WebSocket, and a token in a URL ends up in logs, so a
//! client first asks the API for a one-time ticket (a minute), then connects with it:
//! `connect` spends the ticket and records the connection under the account (with a TTL of
//! API Gateway's two-hour limit). Each event appended to the stream is posted to the
//! account's connections whose user may see it ([`push`]: fed by the table's stream on
//! AWS); a connection API Gateway calls gone (410) is forgotten. The client resumes from
//! its last sequence through `GET /v1/live?after=` whenever it reconnects or sees a gap,
//! so a missed post loses nothing.

use super::{Stored, visible};
use crate::accounts::{Caller, users};
use crate::conversations::sessions::Access;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SocketError, Sockets, TransactItem};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// How long a ticket may wait to be used.
const TICKET_TTL: Duration = Duration::seconds(60);
/// API Gateway closes a WebSocket after two hours; a connection record outlives it a little.
const CONNECTION_TTL: Duration = Duration::minutes(125);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SocketTicket {
    /// Connect to `url` with `?ticket=<ticket>` within a minute; it opens one connection.
    pub ticket: String,
    /// The WebSocket endpoint, when the deployment has one (on AWS); none locally, where
    /// `GET /v1/live/stream` serves the same events.
    pub url: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A one-time ticket for the caller's next WebSocket.
pub async fn ticket(deps: &Deps, caller: &Caller, url: Option<String>) -> ServiceResult<SocketTicket> {
    let ticket = format!("{:032x}", rand::random::<u128>());
    let expires_at = deps.clock.now() + TICKET_TTL;
    let key = keys::socket_ticket(&ticket);
    let item = Item::from([
        ("pk".to_owned(), attr::s(&key.pk)),
        ("sk".to_owned(), attr::s(&key.sk)),
        ("account_id".to_owned(), attr::s(&caller.account_id)),
        ("user_id".to_owned(), attr::s(&caller.user_id)),
        ("ttl".to_owned(), attr::n(expires_at.timestamp())),
    ]);
    deps.table.put(item, Some(Condition::NotExists)).await?;
    Ok(SocketTicket { ticket, url, expires_at })
}

/// Spends `ticket` on `connection`: the connection is the ticket's user's, for its account.
/// A ticket used, expired or unknown opens nothing (`Unauthorized`).
pub async fn connect(deps: &Deps, connection: &str, ticket: &str) -> ServiceResult<()> {
    let refused =
        || ServiceError::Unauthenticated("the ticket is not valid (used, expired or unknown)".into());
    if ticket.is_empty() || ticket.len() > 64 || !ticket.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(refused());
    }
    let key = keys::socket_ticket(ticket);
    let item = deps.table.get(&key).await?.ok_or_else(refused)?;
    let now = deps.clock.now();
    let fresh = attr::get_n(&item, "ttl").is_some_and(|t| t >= now.timestamp());
    let (Some(account), Some(user)) = (attr::get_s(&item, "account_id"), attr::get_s(&item, "user_id"))
    else {
        return Err(refused());
    };
    if !fresh {
        return Err(refused());
    }
    let socket = keys::socket(account, connection);
    let owner = keys::socket_owner(connection);
    let expires = attr::n((now + CONNECTION_TTL).timestamp());
    let writes = vec![
        // Spent once: a second connect with the same ticket fails this condition.
        TransactItem::Delete { key, condition: Some(Condition::Exists) },
        TransactItem::Put {
            item: Item::from([
                ("pk".to_owned(), attr::s(&socket.pk)),
                ("sk".to_owned(), attr::s(&socket.sk)),
                ("user_id".to_owned(), attr::s(user)),
                ("connected_at".to_owned(), attr::s(now.to_rfc3339())),
                ("ttl".to_owned(), expires.clone()),
            ]),
            condition: None,
        },
        TransactItem::Put {
            item: Item::from([
                ("pk".to_owned(), attr::s(&owner.pk)),
                ("sk".to_owned(), attr::s(&owner.sk)),
                ("account_id".to_owned(), attr::s(account)),
                ("ttl".to_owned(), expires),
            ]),
            condition: None,
        },
    ];
    match deps.table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_condition_failure() => Err(refused()),
        Err(e) => Err(e.into()),
    }
}

/// Forgets `connection` (its client left, or API Gateway called it gone). Idempotent.
pub async fn disconnect(deps: &Deps, connection: &str) -> ServiceResult<()> {
    let owner = keys::socket_owner(connection);
    if let Some(item) = deps.table.get(&owner).await?
        && let Some(account) = attr::get_s(&item, "account_id")
    {
        deps.table.delete(&keys::socket(account, connection), None).await?;
    }
    deps.table.delete(&owner, None).await?;
    Ok(())
}

/// What one push did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Connections the event was posted to.
    pub posted: usize,
    /// Connections whose user may not see it.
    pub withheld: usize,
    /// Connections found gone and forgotten.
    pub gone: usize,
}

/// Posts the account's live event `seq` to the account's connections whose user may see
/// it (as the JSON `GET /v1/live` returns each event). A failed post other than "gone"
/// fails the push, to be retried: the clients that got it once drop the repeat by its
/// sequence.
pub async fn push(deps: &Deps, sockets: &dyn Sockets, account: &str, seq: u64) -> ServiceResult<Pushed> {
    let Some(item) = deps.table.get(&keys::live_event(account, seq)).await? else {
        return Ok(Pushed::default()); // expired before its push: clients read after it
    };
    let stored: Stored = crate::record::from_item(item)?;
    let frame = serde_json::to_vec(&stored.event)?;
    let connections =
        crate::record::query_all_items(deps, Query::partition(Index::Primary, keys::sockets_pk(account)))
            .await?;
    let now = deps.clock.now().timestamp();
    let mut access: HashMap<String, Option<Access>> = HashMap::new();
    let mut pushed = Pushed::default();
    let mut failure = None;
    for connection in connections {
        let (Some(id), Some(user)) = (attr::get_s(&connection, "sk"), attr::get_s(&connection, "user_id"))
        else {
            continue;
        };
        if attr::get_n(&connection, "ttl").is_some_and(|t| t < now) {
            continue; // past API Gateway's limit: closed
        }
        if !access.contains_key(user) {
            let seen = match users::load(deps, account, user).await? {
                Some((u, _)) if u.deleted_at.is_none() => {
                    let caller = Caller {
                        account_id: account.to_owned(),
                        user_id: u.id.clone(),
                        profile: u.profile,
                        source: None,
                    };
                    Some(Access::of(deps, &caller).await?)
                }
                _ => None,
            };
            access.insert(user.to_owned(), seen);
        }
        match &access[user] {
            Some(a) if visible(a, &stored) => {}
            _ => {
                pushed.withheld += 1;
                continue;
            }
        }
        match sockets.post(id, &frame).await {
            Ok(()) => pushed.posted += 1,
            Err(SocketError::Gone) => {
                disconnect(deps, id).await?;
                pushed.gone += 1;
            }
            Err(e @ SocketError::Backend(_)) => {
                tracing::warn!(error = %e, "a live post failed; the push will be retried");
                failure = Some(e);
            }
        }
    }
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(pushed),
    }
}
