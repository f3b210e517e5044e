//! Live updates: every change an agent would see is an event of the account's live
//! stream, numbered by a per-account sequence, kept [`RETENTION`]. A client reading again
//! from its last sequence gets what it missed, in order; one that fell further behind
//! than the retention is told to reload.
//!
//! What happened is the public event of the change (`webhooks::outbound`: the same types,
//! ids and facts integrators get; never a message body): the console reads the rest
//! through the API. Who may see an event follows the visibility rules of sessions
//! (`sessions::Access::can_see`) on the session as it was after the change; the members
//! of the team a session just left also hear it left. Events without a session are for
//! admins.
//!
//! Once and in order: a reaction appends each event with its marker (`LIVEID#<event id>`,
//! a not-exists condition) and the sequence's advance (a condition on its last value) in
//! one transaction, so a redelivered domain event adds nothing and no event becomes
//! visible before an earlier one: a reader going forward from its last sequence never
//! skips one.

pub mod sockets;

use crate::accounts::Caller;
use crate::conversations::{SessionScope, sessions};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::{ChatAudience, DomainEvent};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError, TransactItem};
use crate::record::to_item;
use crate::webhooks::{OutEvent, outbound};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// How long the stream keeps an event.
pub const RETENTION: Duration = Duration::hours(24);
/// Events per read.
pub const PAGE: u32 = 200;

/// One event of the stream, as clients get it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LiveEvent {
    /// The account's sequence number: read again after the last one you saw.
    pub seq: u64,
    /// The event's id (the same as its outbound webhook's).
    pub id: String,
    /// `session.created`, `message.received`, `message.status_changed`, ... (the webhook
    /// event types).
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    /// Ids and facts.
    pub data: serde_json::Value,
}

/// A stored event: the event and who may see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    event: LiveEvent,
    /// The session's scope after the change; none: admins only.
    scope: Option<SessionScope>,
    /// Teams whose members also hear it (the queue a session left).
    #[serde(default)]
    also_teams: Vec<String>,
    /// An internal chat message's readers (instead of a session's scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audience: Option<ChatAudience>,
    stored_at: DateTime<Utc>,
}

/// The reaction feeding the stream.
pub struct LiveFeed;

#[async_trait::async_trait]
impl Reaction for LiveFeed {
    fn name(&self) -> &'static str {
        "live.feed"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        if let DomainEvent::ChatPosted { account_id, message_id, conversation, from_user_id, audience, at } =
            event
        {
            let e = OutEvent {
                id: crate::webhooks::event_id("chat.message", message_id),
                event_type: "chat.message".into(),
                timestamp: *at,
                data: serde_json::json!({
                    "message_id": message_id, "conversation": conversation, "from_user_id": from_user_id,
                }),
            };
            return append(deps, account_id, e, Some(audience.clone())).await;
        }
        let Some((account, events)) = outbound(event, deps.clock.now()) else { return Ok(()) };
        for e in events {
            append(deps, &account, e, None).await?;
        }
        Ok(())
    }
}

/// Appends `e` once, after every event appended before it.
async fn append(
    deps: &Deps,
    account: &str,
    e: OutEvent,
    audience: Option<ChatAudience>,
) -> ServiceResult<()> {
    let mark = keys::live_mark(account, &e.id);
    if deps.table.get(&mark).await?.is_some() {
        return Ok(());
    }
    let text = |field: &str| e.data.get(field).and_then(|v| v.as_str()).map(str::to_owned);
    let scope = match text("session_id") {
        Some(id) => match sessions::load(deps, account, &id).await {
            Ok(s) => Some(s.scope()),
            Err(ServiceError::NotFound(_)) => None,
            Err(err) => return Err(err),
        },
        None => None,
    };
    let also_teams = match e.event_type.as_str() {
        "session.transferred" => text("from_team_id").into_iter().collect(),
        "session.assigned" => scope.iter().map(|s| s.team_id.clone()).collect(),
        _ => Vec::new(),
    };
    let now = deps.clock.now();
    let expires = attr::n((now + RETENTION).timestamp());
    let seq_key = keys::live_seq(account);
    // Appends race for the next sequence number (serialising them, even per account and
    // process, capped the stream at one table round trip per event: 50 clients at 100
    // messages/s waited seconds). A loser waits a little, at random and longer each time,
    // so a burst of racers spreads out instead of losing every try to one another (60
    // payments at once did, before the wait).
    for attempt in 0..32u64 {
        if attempt > 0 {
            let pause = rand::random::<u64>() % (attempt * 5) + 1;
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        let last = last_seq(deps, account).await?;
        let seq = last + 1;
        let stored = Stored {
            event: LiveEvent {
                seq,
                id: e.id.clone(),
                event_type: e.event_type.clone(),
                timestamp: e.timestamp,
                data: e.data.clone(),
            },
            scope: scope.clone(),
            also_teams: also_teams.clone(),
            audience: audience.clone(),
            stored_at: now,
        };
        let mut item = to_item(&keys::live_event(account, seq), &stored)?;
        let kept = stored.clone();
        item.insert("ttl".into(), expires.clone());
        let advance = if last == 0 {
            Condition::AttributeNotExists("n".into())
        } else {
            Condition::equals("n", attr::n(last))
        };
        let writes = vec![
            TransactItem::Put {
                item: Item::from([
                    ("pk".to_owned(), attr::s(&mark.pk)),
                    ("sk".to_owned(), attr::s(&mark.sk)),
                    ("seq".to_owned(), attr::n(seq)),
                    ("ttl".to_owned(), expires.clone()),
                ]),
                condition: Some(Condition::NotExists),
            },
            TransactItem::Put {
                item: Item::from([
                    ("pk".to_owned(), attr::s(&seq_key.pk)),
                    ("sk".to_owned(), attr::s(&seq_key.sk)),
                    ("n".to_owned(), attr::n(seq)),
                ]),
                condition: Some(advance),
            },
            TransactItem::Put { item, condition: None },
        ];
        match deps.table.transact(writes).await {
            Ok(()) => {
                // Appended: a failure to remember it only sends streams to the table.
                if let Err(e) = remember(account, kept) {
                    tracing::warn!(error = %e, "a live event was not remembered");
                }
                wake();
                return Ok(());
            }
            Err(TableError::TransactionConditionFailed { index: 0 }) => return Ok(()), // appended before
            Err(err) if err.is_condition_failure() => continue, // another event took `seq`
            Err(err) => return Err(err.into()),
        }
    }
    Err(ServiceError::conflict("the live stream kept moving; the event will be appended on retry"))
}

/// The events this process appended lately, per account (the last [`RECENT`]): a stream
/// woken by an append reads them here instead of querying the table; a gap (an event
/// another process appended) sends the read to the table.
static APPENDED_HERE: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Recent>>> =
    std::sync::LazyLock::new(Default::default);
/// One account's remembered events, by sequence.
type Recent = BTreeMap<u64, Arc<Remembered>>;
const RECENT: usize = 4096;

/// An event this process appended, with its JSON written once: every stream of the
/// process sends the same text (500 streams cost one serialisation, not 500).
struct Remembered {
    stored: Stored,
    frame: LiveFrame,
}

/// An event as a stream sends it: its sequence, type and JSON (what `GET /v1/live` lists).
#[derive(Debug, Clone)]
pub struct LiveFrame {
    pub seq: u64,
    pub event_type: Arc<str>,
    pub json: Arc<str>,
}

impl LiveFrame {
    fn of(event: &LiveEvent) -> ServiceResult<Self> {
        Ok(Self {
            seq: event.seq,
            event_type: Arc::from(event.event_type.as_str()),
            json: Arc::from(serde_json::to_string(event)?),
        })
    }
}

fn remember(account: &str, stored: Stored) -> ServiceResult<()> {
    let frame = LiveFrame::of(&stored.event)?;
    let mut all = APPENDED_HERE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let events = all.entry(account.to_owned()).or_default();
    events.insert(stored.event.seq, Arc::new(Remembered { stored, frame }));
    while events.len() > RECENT {
        events.pop_first();
    }
    Ok(())
}

/// The events after `after` this process remembers without a gap, at most [`PAGE`]; none
/// when the next one is not here.
fn remembered_after(account: &str, after: u64) -> Vec<Arc<Remembered>> {
    let all = APPENDED_HERE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(events) = all.get(account) else { return Vec::new() };
    events
        .range(after + 1..)
        .zip(after + 1..)
        .take_while(|((seq, _), expected)| *seq == expected)
        .take(PAGE as usize)
        .map(|((_, s), _)| s.clone())
        .collect()
}

/// Woken when this process appends an event: its streams read at once instead of at
/// their next poll (events appended by other processes are read at the poll).
static APPENDED: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

fn wake() {
    APPENDED.notify_waiters();
}

/// Resolves when this process next appends an event: take it (and `enable` it) before
/// reading, await it after a read that found nothing, so an append in between is not
/// missed.
pub fn appended() -> tokio::sync::futures::Notified<'static> {
    APPENDED.notified()
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// The last sequence number you saw (0: from the oldest kept; absent: from now).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// What a read returns.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LivePage {
    /// The events after `after` the caller may see, in order.
    pub events: Vec<LiveEvent>,
    /// The sequence to read after next time (the last read, seen or not).
    pub last_seq: u64,
    /// More events wait: read again at once.
    pub more: bool,
    /// Events after `after` are no longer kept: reload everything, then read after
    /// `last_seq`.
    pub reload: bool,
}

/// The events after `after` that the caller may see (at most [`PAGE`] read).
pub async fn read(deps: &Deps, access: &sessions::Access, after: u64) -> ServiceResult<LivePage> {
    let page = read_with(deps, access, after, |r| Ok(r.stored.event.clone()), |s| Ok(s.event)).await?;
    Ok(LivePage { events: page.events, last_seq: page.last_seq, more: page.more, reload: page.reload })
}

/// [`read`] as a stream sends it: the events this process remembers come with the JSON
/// written when they were appended.
pub async fn read_frames(deps: &Deps, access: &sessions::Access, after: u64) -> ServiceResult<FramePage> {
    read_with(deps, access, after, |r| Ok(r.frame.clone()), |s| LiveFrame::of(&s.event)).await
}

/// What [`read_frames`] returns.
pub type FramePage = Paged<LiveFrame>;

/// A read's outcome (see [`LivePage`]) with its events in one form or another.
pub struct Paged<T> {
    pub events: Vec<T>,
    pub last_seq: u64,
    pub more: bool,
    pub reload: bool,
}

async fn read_with<T>(
    deps: &Deps,
    access: &sessions::Access,
    after: u64,
    from_memory: impl Fn(&Remembered) -> ServiceResult<T>,
    from_table: impl Fn(Stored) -> ServiceResult<T>,
) -> ServiceResult<Paged<T>> {
    let account = &access.caller.account_id;
    let now = deps.clock.now();
    let recent = remembered_after(account, after);
    if recent.first().is_some_and(|r| r.stored.stored_at + RETENTION > now) {
        let last = recent.last().map_or(after, |r| r.stored.event.seq);
        let more = recent.len() == PAGE as usize;
        let events = recent
            .iter()
            .filter(|r| visible(access, &r.stored))
            .map(|r| from_memory(r))
            .collect::<ServiceResult<Vec<T>>>()?;
        return Ok(Paged { events, last_seq: last, more, reload: false });
    }
    let (mut stored, mut more) = kept_after(deps, account, after, now).await?;
    // Nothing after `after`: caught up, unless the events after it expired. The sequence
    // moves with its event in one transaction, so once it is read, a query sees every
    // event up to it that is still kept (a query before it may have run before the commit).
    let mut gone = false;
    if after > 0 && stored.is_empty() && last_seq(deps, account).await? > after {
        (stored, more) = kept_after(deps, account, after, now).await?;
        gone = stored.is_empty();
    }
    // Kept events start after `after + 1`: some were dropped by the retention.
    let reload = after > 0 && stored.first().is_some_and(|s| s.event.seq > after + 1);
    let last = stored.last().map_or(after, |s| s.event.seq);
    if reload || gone {
        return Ok(Paged {
            events: Vec::new(),
            last_seq: last_seq(deps, account).await?,
            more: false,
            reload: true,
        });
    }
    let events = stored
        .into_iter()
        .filter(|s| visible(access, s))
        .map(from_table)
        .collect::<ServiceResult<Vec<T>>>()?;
    Ok(Paged { events, last_seq: last, more, reload: false })
}

/// The kept events after `after` (at most [`PAGE`]) and whether more follow.
async fn kept_after(
    deps: &Deps,
    account: &str,
    after: u64,
    now: DateTime<Utc>,
) -> ServiceResult<(Vec<Stored>, bool)> {
    let query = Query::partition(Index::Primary, keys::live_pk(account))
        .sort(SortCondition::Gt(format!("{after:020}")))
        .limit(PAGE);
    let page = deps.table.query(query).await?;
    let full = page.items.len() as u32 == PAGE && page.cursor.is_some();
    let stored = page
        .items
        .into_iter()
        .map(crate::record::from_item::<Stored>)
        .collect::<ServiceResult<Vec<Stored>>>()?
        .into_iter()
        .filter(|s| s.stored_at + RETENTION > now)
        .collect();
    Ok((stored, full))
}

/// The account's last sequence number.
pub async fn last_seq(deps: &Deps, account: &str) -> ServiceResult<u64> {
    Ok(deps.table.get(&keys::live_seq(account)).await?.and_then(|i| attr::get_n(&i, "n")).unwrap_or(0) as u64)
}

fn visible(access: &sessions::Access, s: &Stored) -> bool {
    if let Some(audience) = &s.audience {
        return crate::chat::may_read(access, audience);
    }
    match &s.scope {
        Some(scope) => access.can_see(scope) || s.also_teams.iter().any(|t| access.is_member(t)),
        None => access.caller.is_admin(),
    }
}

/// The caller's read (see [`read`]); without `after`, only where the stream stands now
/// (load what you show through the API, then read after that).
pub async fn page(deps: &Deps, caller: &Caller, q: LiveQuery) -> ServiceResult<LivePage> {
    if q.after.is_some_and(|a| a < 0) {
        return Err(ServiceError::invalid("after is a sequence number, 0 or more"));
    }
    let Some(after) = q.after.map(|a| a as u64) else {
        let last_seq = last_seq(deps, &caller.account_id).await?;
        return Ok(LivePage { events: Vec::new(), last_seq, more: false, reload: false });
    };
    let access = sessions::Access::of(deps, caller).await?;
    read(deps, &access, after).await
}
