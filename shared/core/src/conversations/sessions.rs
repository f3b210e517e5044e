//! Sessions (*atendimentos*): find-or-create on inbound messages, the tabs agents work
//! from, and the actions on a session, with PRODUCT.md §1 and §3's permission rules.

use super::model::{ArchivePolicy, Classification, Session, SessionScope, SessionStatus};
use crate::accounts::{Caller, Membership, Profile, Visibility, teams};
use crate::crm::reasons;
use crate::crm::tags::{self, Tagged};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError, TransactItem, UpdateOp};
use crate::record::{concurrent, from_item, to_item};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// How long after completion a message reopens the same session (`reopen_12h`).
pub const REOPEN_WINDOW: Duration = Duration::hours(12);

fn activity_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{:014}#{id}", at.timestamp_millis())
}

/// The session as stored, with its index keys.
pub(crate) fn session_item(s: &Session) -> ServiceResult<Item> {
    let mut item = to_item(&keys::session(&s.account_id, &s.id), s)?;
    item.insert("gsi1pk".into(), attr::s(keys::sessions_by_status_gsi1pk(&s.account_id, s.status.as_str())));
    item.insert("gsi1sk".into(), attr::s(activity_key(s.last_activity_at, &s.id)));
    if let Some(owner) = &s.owner_id {
        item.insert("gsi2pk".into(), attr::s(keys::sessions_by_owner_gsi2pk(&s.account_id, owner)));
        item.insert(
            "gsi2sk".into(),
            attr::s(format!("{}#{}", s.status.as_str(), activity_key(s.last_activity_at, &s.id))),
        );
    }
    Ok(item)
}

fn open_pointer(s: &Session) -> Item {
    let key = keys::open_session(&s.account_id, &s.channel_id, &s.contact_id);
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("session_id".to_owned(), attr::s(&s.id)),
    ])
}

/// The index item saying the session is one of its contact's (what privacy walks).
fn contact_session_item(s: &Session) -> Item {
    let key = keys::contact_session(&s.account_id, &s.contact_id, &s.id);
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("id".to_owned(), attr::s(&s.id)),
    ])
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Session> {
    match deps.table.get(&keys::session(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("session")),
    }
}

/// Writes `session` (read at `read_version`) with `extra` writes, all or nothing.
pub(crate) async fn save(deps: &Deps, session: &mut Session, extra: Vec<TransactItem>) -> ServiceResult<()> {
    let read = session.version;
    session.version += 1;
    let mut writes = vec![TransactItem::Put {
        item: session_item(session)?,
        condition: Some(Condition::version_is(read)),
    }];
    writes.extend(extra);
    deps.table.transact(writes).await.map_err(concurrent)
}

/// Saves the session with the events its change commits to (written in the same
/// transaction, see `crate::outbox`), then publishes them.
pub(crate) async fn save_and_publish(
    deps: &Deps,
    session: &mut Session,
    mut extra: Vec<TransactItem>,
    events: Vec<DomainEvent>,
) -> ServiceResult<()> {
    let (write, staged) = crate::outbox::stage(deps, events)?;
    extra.push(write);
    save(deps, session, extra).await?;
    crate::outbox::release(deps, staged).await;
    Ok(())
}

/// The next protocol number of the day: `YYYYMMDD-NNNNNN`.
async fn next_protocol(deps: &Deps, account: &str, now: DateTime<Utc>) -> ServiceResult<String> {
    let day = now.format("%Y%m%d").to_string();
    let item = deps
        .table
        .update(
            &keys::protocol_counter(account, &day),
            vec![
                UpdateOp::Add("n".into(), 1),
                UpdateOp::Set("ttl".into(), attr::n((now + Duration::days(3)).timestamp())),
            ],
            None,
        )
        .await?;
    Ok(format!("{day}-{:06}", attr::get_n(&item, "n").unwrap_or(0)))
}

/// A new open session with the next protocol number (not stored): `owner` set means in
/// progress, else pending.
async fn new_session(
    deps: &Deps,
    account: &str,
    channel: &str,
    contact: &str,
    team: &str,
    owner: Option<String>,
) -> ServiceResult<Session> {
    let now = deps.clock.now();
    let protocol = next_protocol(deps, account, now).await?;
    Ok(Session {
        id: deps.ids.new_id(),
        account_id: account.to_owned(),
        protocol,
        channel_id: channel.to_owned(),
        contact_id: contact.to_owned(),
        team_id: team.to_owned(),
        status: if owner.is_some() { SessionStatus::InProgress } else { SessionStatus::Pending },
        owner_id: owner,
        last_inbound_at: None,
        last_inbound_provider_id: None,
        last_activity_at: now,
        unread: 0,
        designated_to: None,
        routing_seq: 0,
        routing_started_at: None,
        auto_reply_for: None,
        completed_at: None,
        completed_by: None,
        archive_policy: None,
        classification: None,
        tags: Vec::new(),
        campaign_id: None,
        bot_run: None,
        bot_stopped: None,
        requested_flow: None,
        metadata: Default::default(),
        created_at: now,
        reopened_at: None,
        version: 1,
    })
}

/// The open session of `contact` on `channel`, if any.
pub async fn open_session(
    deps: &Deps,
    account: &str,
    channel: &str,
    contact: &str,
) -> ServiceResult<Option<Session>> {
    let Some(pointer) = deps.table.get(&keys::open_session(account, channel, contact)).await? else {
        return Ok(None);
    };
    let Some(id) = attr::get_s(&pointer, "session_id") else { return Ok(None) };
    let session = load(deps, account, id).await?;
    Ok(session.status.is_open().then_some(session))
}

/// What [`for_inbound`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Existing,
    Reopened,
    New,
}

/// The session an inbound message belongs to (PRODUCT.md §3): the open one; else, within
/// 12 h of a `reopen_12h` completion, that session again for the agent who completed it;
/// else a new `pending` session in the team routing picks.
pub async fn for_inbound(
    deps: &Deps,
    account: &str,
    channel: &str,
    contact: &str,
    now: DateTime<Utc>,
) -> ServiceResult<(Session, Opened)> {
    for _ in 0..3 {
        if let Some(s) = open_session(deps, account, channel, contact).await? {
            return Ok((s, Opened::Existing));
        }
        if let Some(last) = deps.table.get(&keys::last_session(account, channel, contact)).await?
            && let Some(id) = attr::get_s(&last, "session_id")
        {
            let mut s = load(deps, account, id).await?;
            let reopen = s.status == SessionStatus::Completed
                && s.archive_policy.unwrap_or_default() == ArchivePolicy::Reopen12h
                && s.completed_at.is_some_and(|at| now < at + REOPEN_WINDOW)
                && s.completed_by.is_some();
            if reopen {
                s.status = SessionStatus::InProgress;
                s.owner_id = s.completed_by.clone();
                s.completed_at = None;
                s.reopened_at = Some(now);
                s.last_activity_at = now;
                let pointer =
                    TransactItem::Put { item: open_pointer(&s), condition: Some(Condition::NotExists) };
                match save(deps, &mut s, vec![pointer]).await {
                    Ok(()) => return Ok((s, Opened::Reopened)),
                    Err(ServiceError::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        // A receptive session first waits in the default team; routing moves it on.
        let team = teams::load_account(deps, account).await?.default_team_id;
        let s = new_session(deps, account, channel, contact, &team, None).await?;
        match create(deps, &s).await {
            Ok(()) => return Ok((s, Opened::New)),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the contact's session kept changing; retry"))
}

/// Stores a new open session; a conflict when the contact already has one on the channel.
async fn create(deps: &Deps, s: &Session) -> ServiceResult<()> {
    deps.table
        .transact(vec![
            TransactItem::Put { item: session_item(s)?, condition: Some(Condition::NotExists) },
            TransactItem::Put { item: open_pointer(s), condition: Some(Condition::NotExists) },
            TransactItem::Put { item: contact_session_item(s), condition: None },
        ])
        .await
        .map_err(|e| match e {
            TableError::TransactionConditionFailed { .. } => {
                ServiceError::conflict("the contact already has an open session on this channel")
            }
            other => other.into(),
        })
}

/// Who may see and do what with sessions, for one caller.
pub struct Access {
    pub caller: Caller,
    teams: HashMap<String, Membership>,
    visibility: HashMap<String, Visibility>,
}

impl Access {
    pub async fn of(deps: &Deps, caller: &Caller) -> ServiceResult<Self> {
        let memberships = teams::teams_of(deps, &caller.account_id, &caller.user_id).await?;
        let all = teams::list(deps, caller).await?.items;
        Ok(Self {
            caller: caller.clone(),
            teams: memberships.into_iter().map(|m| (m.team_id.clone(), m)).collect(),
            visibility: all.into_iter().map(|t| (t.id, t.visibility)).collect(),
        })
    }

    fn admin(&self) -> bool {
        self.caller.is_admin()
    }

    fn owns(&self, s: &Session) -> bool {
        s.owner_id.as_deref() == Some(self.caller.user_id.as_str())
    }

    pub fn is_member(&self, team: &str) -> bool {
        self.teams.get(team).is_some_and(|m| m.member || m.supervisor)
    }

    /// Whether `team` is one of the account's teams.
    pub fn team_exists(&self, team: &str) -> bool {
        self.visibility.contains_key(team)
    }

    pub fn supervises(&self, team: &str) -> bool {
        self.teams.get(team).is_some_and(|m| m.supervisor)
    }

    /// Reading a session and its messages.
    pub fn can_read(&self, s: &Session) -> bool {
        self.can_see(&s.scope())
    }

    /// The rule of [`Self::can_read`], on what it reads of a session.
    pub fn can_see(&self, s: &SessionScope) -> bool {
        let mine = |who: &Option<String>| who.as_deref() == Some(self.caller.user_id.as_str());
        if self.admin() || mine(&s.owner_id) || self.supervises(&s.team_id) {
            return true;
        }
        match s.status {
            // A session offered to one member is theirs to see until it is released.
            SessionStatus::Pending => {
                self.is_member(&s.team_id)
                    && s.designated_to.as_deref().is_none_or(|d| d == self.caller.user_id)
            }
            // Members work only the sessions they own.
            SessionStatus::InProgress => false,
            SessionStatus::Completed => {
                let handled = mine(&s.completed_by);
                if self.caller.profile == Profile::RestrictedAgent {
                    return handled;
                }
                match self.visibility.get(&s.team_id).copied().unwrap_or_default() {
                    Visibility::All => true,
                    Visibility::Team => self.is_member(&s.team_id),
                    Visibility::Owner => handled,
                }
            }
        }
    }

    /// Acting on a session (send, transfer, complete, return): owner, supervisor, admin.
    pub fn can_act(&self, s: &Session) -> bool {
        self.admin() || self.owns(s) || self.supervises(&s.team_id)
    }

    fn can_assume(&self, s: &Session) -> bool {
        self.admin()
            || self.supervises(&s.team_id)
            || (self.is_member(&s.team_id)
                && s.designated_to.as_deref().is_none_or(|d| d == self.caller.user_id))
    }
}

/// A session the caller may read, or not found (never "forbidden": existence is private).
pub async fn readable(deps: &Deps, access: &Access, id: &str) -> ServiceResult<Session> {
    let s = load(deps, &access.caller.account_id, id).await?;
    if access.can_read(&s) { Ok(s) } else { Err(ServiceError::NotFound("session")) }
}

/// A session the caller may act on.
pub async fn actionable(deps: &Deps, access: &Access, id: &str) -> ServiceResult<Session> {
    let s = readable(deps, access, id).await?;
    if access.can_act(&s) {
        Ok(s)
    } else {
        Err(ServiceError::forbidden(
            "only the session's agent, a supervisor of its team or an admin may do this",
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// Waiting in the caller's teams' queues.
    Pending,
    /// In progress, owned by the caller.
    Mine,
    /// In progress, owned by others (supervisors and admins).
    Others,
    Completed,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    pub tab: Tab,
    pub channel_id: Option<String>,
    pub team_id: Option<String>,
    /// The owning agent.
    pub agent_id: Option<String>,
    /// Only sessions with unread messages.
    #[serde(default)]
    pub unread: bool,
    /// Only sessions carrying this tag (its id).
    pub tag: Option<String>,
    /// The previous page's `next_cursor` (empty or absent: the first page).
    #[param(format = "cursor")]
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionPage {
    pub items: Vec<Session>,
    pub next_cursor: Option<String>,
}

pub async fn list(deps: &Deps, caller: &Caller, filter: SessionFilter) -> ServiceResult<SessionPage> {
    let access = Access::of(deps, caller).await?;
    let account = &caller.account_id;
    let limit = crate::accounts::users::page_size(filter.limit)? as usize;
    let base = match filter.tab {
        Tab::Pending => Query::partition(Index::Gsi1, keys::sessions_by_status_gsi1pk(account, "pending")),
        Tab::Mine => Query::partition(Index::Gsi2, keys::sessions_by_owner_gsi2pk(account, &caller.user_id))
            .sort(SortCondition::BeginsWith("in_progress#".into()))
            .backward(),
        Tab::Others => {
            Query::partition(Index::Gsi1, keys::sessions_by_status_gsi1pk(account, "in_progress")).backward()
        }
        Tab::Completed => {
            Query::partition(Index::Gsi1, keys::sessions_by_status_gsi1pk(account, "completed")).backward()
        }
    };
    let mut items = Vec::new();
    let mut cursor = filter.cursor.clone();
    loop {
        let page = deps.table.query(base.clone().limit(limit as u32).after(cursor.take())).await?;
        for item in page.items {
            let s: Session = from_item(item)?;
            let in_tab = match filter.tab {
                Tab::Others => !access.owns(&s) && access.can_act(&s),
                _ => access.can_read(&s),
            };
            let wanted = in_tab
                && filter.channel_id.as_ref().is_none_or(|c| *c == s.channel_id)
                && filter.team_id.as_ref().is_none_or(|t| *t == s.team_id)
                && filter.agent_id.as_ref().is_none_or(|a| s.owner_id.as_ref() == Some(a))
                && (!filter.unread || s.unread > 0)
                && filter.tag.as_ref().is_none_or(|t| s.tags.contains(t));
            if wanted {
                items.push(s);
            }
        }
        cursor = page.cursor;
        if items.len() >= limit || cursor.is_none() {
            break;
        }
    }
    Ok(SessionPage { items, next_cursor: cursor })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnreadCounts {
    /// Sessions waiting in the caller's queues.
    pub pending: u32,
    /// The caller's sessions in progress.
    pub mine: u32,
    /// The caller's sessions in progress with unread messages.
    pub mine_unread: u32,
}

pub async fn counts(deps: &Deps, caller: &Caller) -> ServiceResult<UnreadCounts> {
    let mut counts = UnreadCounts { pending: 0, mine: 0, mine_unread: 0 };
    let mut cursor = None;
    loop {
        let page = list(
            deps,
            caller,
            SessionFilter {
                tab: Tab::Pending,
                channel_id: None,
                team_id: None,
                agent_id: None,
                unread: false,
                tag: None,
                cursor,
                limit: Some(100),
            },
        )
        .await?;
        counts.pending += page.items.len() as u32;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let mut cursor = None;
    loop {
        let page = list(
            deps,
            caller,
            SessionFilter {
                tab: Tab::Mine,
                channel_id: None,
                team_id: None,
                agent_id: None,
                unread: false,
                tag: None,
                cursor,
                limit: Some(100),
            },
        )
        .await?;
        counts.mine += page.items.len() as u32;
        counts.mine_unread += page.items.iter().filter(|s| s.unread > 0).count() as u32;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(counts)
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Session> {
    readable(deps, &Access::of(deps, caller).await?, id).await
}

/// Takes a pending session: it becomes the caller's, in progress. Returns it and whether
/// read receipts should now go out (they do only on assuming).
pub async fn assume(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Session> {
    let access = Access::of(deps, caller).await?;
    let mut s = readable(deps, &access, id).await?;
    if s.status != SessionStatus::Pending {
        return Err(ServiceError::conflict("only a pending session can be assumed"));
    }
    if !access.can_assume(&s) {
        return Err(ServiceError::forbidden("only members of the session's team may assume it"));
    }
    s.status = SessionStatus::InProgress;
    s.owner_id = Some(caller.user_id.clone());
    s.designated_to = None;
    s.routing_seq += 1;
    s.unread = 0;
    // People first: a flow answering the session stops here (see `flows::runs`).
    s.stop_bot();
    s.last_activity_at = deps.clock.now();
    let assumed = DomainEvent::SessionAssumed {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        channel_id: s.channel_id.clone(),
        contact_id: s.contact_id.clone(),
        last_inbound_provider_id: s.last_inbound_provider_id.clone(),
        agent_id: caller.user_id.clone(),
        seq: s.routing_seq,
    };
    // The assume stands whatever its reactions do (a read receipt is best effort).
    save_and_publish(deps, &mut s, vec![], vec![assumed]).await?;
    Ok(s)
}

/// Owner → back to the team's queue, no owner.
pub async fn return_to_queue(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Session> {
    let access = Access::of(deps, caller).await?;
    let mut s = actionable(deps, &access, id).await?;
    if s.status != SessionStatus::InProgress {
        return Err(ServiceError::conflict("only a session in progress can return to the queue"));
    }
    s.status = SessionStatus::Pending;
    s.owner_id = None;
    s.last_activity_at = deps.clock.now();
    save(deps, &mut s, vec![]).await?;
    Ok(s)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Completion {
    pub classification: Option<Classification>,
    /// Overrides the default (`reopen_12h`) for this session.
    pub archive_policy: Option<ArchivePolicy>,
}

pub async fn complete(deps: &Deps, caller: &Caller, id: &str, input: Completion) -> ServiceResult<Session> {
    let access = Access::of(deps, caller).await?;
    let mut s = actionable(deps, &access, id).await?;
    if s.status == SessionStatus::Completed {
        return Err(ServiceError::conflict("the session is already completed"));
    }
    if let Some(c) = &input.classification {
        reasons::check(deps, &caller.account_id, c).await?;
    }
    let by = s.owner_id.clone().unwrap_or_else(|| caller.user_id.clone());
    close(deps, &mut s, Some(by), input).await?;
    Ok(s)
}

/// Changes a completed session's classification: only who completed it may.
pub async fn reclassify(deps: &Deps, caller: &Caller, id: &str, c: Classification) -> ServiceResult<Session> {
    let access = Access::of(deps, caller).await?;
    let mut s = readable(deps, &access, id).await?;
    if s.status != SessionStatus::Completed {
        return Err(ServiceError::conflict("only a completed session has a classification to change"));
    }
    if s.completed_by.as_deref() != Some(caller.user_id.as_str()) {
        return Err(ServiceError::forbidden("only who completed the session may change its classification"));
    }
    reasons::check(deps, &caller.account_id, &c).await?;
    s.classification = Some(c);
    save(deps, &mut s, vec![]).await?;
    Ok(s)
}

/// A new session opened by a reply to a campaign: it waits in the campaign's team and is
/// marked as the campaign's. Only a session nobody took yet is moved; a repeated call
/// changes nothing.
pub(crate) async fn attribute_to_campaign(
    deps: &Deps,
    account: &str,
    id: &str,
    team: &str,
    campaign: &str,
    bot: Option<&str>,
) -> ServiceResult<()> {
    for _ in 0..3 {
        let mut s = load(deps, account, id).await?;
        if s.campaign_id.is_some() || s.status != SessionStatus::Pending || s.owner_id.is_some() {
            return Ok(());
        }
        s.team_id = team.to_owned();
        s.campaign_id = Some(campaign.to_owned());
        s.requested_flow = bot.map(str::to_owned);
        match save(deps, &mut s, vec![]).await {
            Ok(()) => return Ok(()),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the session kept changing"))
}

/// Completion by the system (keep-alive): the owner, if any, is who handled it.
pub async fn complete_by_system(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    for _ in 0..3 {
        let mut s = load(deps, account, id).await?;
        if s.status == SessionStatus::Completed {
            return Ok(());
        }
        let by = s.owner_id.clone();
        match close(deps, &mut s, by, Completion::default()).await {
            Ok(()) => return Ok(()),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the session kept changing"))
}

async fn close(deps: &Deps, s: &mut Session, by: Option<String>, input: Completion) -> ServiceResult<()> {
    let now = deps.clock.now();
    s.status = SessionStatus::Completed;
    s.stop_bot();
    s.completed_at = Some(now);
    s.completed_by = by;
    s.designated_to = None;
    s.routing_seq += 1;
    s.archive_policy = Some(input.archive_policy.unwrap_or_default());
    s.classification = input.classification;
    s.last_activity_at = now;
    let last = keys::last_session(&s.account_id, &s.channel_id, &s.contact_id);
    let extra = vec![
        TransactItem::Delete {
            key: keys::open_session(&s.account_id, &s.channel_id, &s.contact_id),
            condition: Some(Condition::equals("session_id", attr::s(&s.id))),
        },
        TransactItem::Put {
            item: Item::from([
                ("pk".to_owned(), attr::s(last.pk)),
                ("sk".to_owned(), attr::s(last.sk)),
                ("session_id".to_owned(), attr::s(&s.id)),
            ]),
            condition: None,
        },
    ];
    let completed = DomainEvent::SessionCompleted {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        at: Some(now),
    };
    // The completion stands even if a reaction (the CSAT survey) fails.
    save_and_publish(deps, s, extra, vec![completed]).await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransferTo {
    /// A team: the session goes back to `pending` in that team's queue.
    pub team_id: Option<String>,
    /// A user: the session becomes theirs. If they are not in the session's team, `team_id`
    /// names which of their teams receives it.
    pub user_id: Option<String>,
}

pub async fn transfer(deps: &Deps, caller: &Caller, id: &str, to: TransferTo) -> ServiceResult<Session> {
    let access = Access::of(deps, caller).await?;
    let mut s = actionable(deps, &access, id).await?;
    if s.status == SessionStatus::Completed {
        return Err(ServiceError::conflict("a completed session cannot be transferred; restart it first"));
    }
    let from_team = s.team_id.clone();
    match (to.user_id, to.team_id) {
        (None, None) => return Err(ServiceError::invalid("name a team_id, a user_id, or both")),
        (None, Some(team)) => {
            teams::get(deps, caller, &team).await?;
            s.team_id = team;
            s.status = SessionStatus::Pending;
            s.owner_id = None;
        }
        (Some(user), team) => {
            let (target, _) = crate::accounts::users::load_active(deps, &caller.account_id, &user).await?;
            let their = teams::teams_of(deps, &caller.account_id, &target.id).await?;
            let in_team = |t: &str| their.iter().any(|m| m.team_id == t);
            let destination = match team {
                Some(t) if in_team(&t) => t,
                Some(_) => return Err(ServiceError::invalid("the user is not in that team")),
                None if in_team(&s.team_id) => s.team_id.clone(),
                None => {
                    return Err(ServiceError::invalid(
                        "the user is not in the session's team: name which of their teams receives it (team_id)",
                    ));
                }
            };
            s.team_id = destination;
            s.status = SessionStatus::InProgress;
            s.owner_id = Some(target.id);
        }
    }
    s.last_activity_at = deps.clock.now();
    s.stop_bot();
    let transferred = DomainEvent::SessionTransferred {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        from_team,
        to_team: s.team_id.clone(),
        to_agent: s.owner_id.clone(),
        by: caller.user_id.clone(),
        version: s.version + 1,
        at: s.last_activity_at,
    };
    save_and_publish(deps, &mut s, vec![], vec![transferred]).await?;
    Ok(s)
}

/// A session started from the agent's side (*contato ativo*), not yet stored: see
/// `messages::start`, which composes the template before anything is written.
pub(crate) async fn new_active(
    deps: &Deps,
    caller: &Caller,
    channel: &str,
    contact: &str,
    team: &str,
) -> ServiceResult<Session> {
    new_session(deps, &caller.account_id, channel, contact, team, Some(caller.user_id.clone())).await
}

/// Stores a session built by [`new_active`].
pub(crate) async fn store_active(deps: &Deps, s: &Session) -> ServiceResult<()> {
    create(deps, s).await
}

/// Reopens a completed session for the caller (the restart template goes with it).
pub(crate) async fn reopen_for(deps: &Deps, caller: &Caller, s: &mut Session) -> ServiceResult<()> {
    if s.status != SessionStatus::Completed {
        return Err(ServiceError::conflict("only a completed session can be restarted"));
    }
    s.status = SessionStatus::InProgress;
    s.owner_id = Some(caller.user_id.clone());
    s.completed_at = None;
    s.last_activity_at = deps.clock.now();
    s.reopened_at = Some(s.last_activity_at);
    let pointer = TransactItem::Put { item: open_pointer(s), condition: Some(Condition::NotExists) };
    save(deps, s, vec![pointer]).await.map_err(|e| match e {
        ServiceError::Conflict(_) => {
            ServiceError::conflict("the contact already has an open session on this channel")
        }
        other => other,
    })
}

/// What may be sent on the session now: its channel kind's window rule (see
/// [`super::kinds`]) at the customer's last message.
pub async fn window(deps: &Deps, s: &Session) -> ServiceResult<super::kinds::Window> {
    let kind = super::channels::load(deps, &s.account_id, &s.channel_id).await?.channel.kind;
    Ok(super::kinds::window(kind, s.last_inbound_at, deps.clock.now()))
}

/// Sets a session's tags (whoever may act on it): ids of the account's tags, checked, with
/// the tag index items in the session's own transaction.
pub async fn set_tags(deps: &Deps, caller: &Caller, id: &str, ids: &[String]) -> ServiceResult<Session> {
    let access = Access::of(deps, caller).await?;
    let wanted = tags::validate(deps, &caller.account_id, ids).await?;
    for _ in 0..3 {
        let mut s = actionable(deps, &access, id).await?;
        let before = std::mem::replace(&mut s.tags, wanted.clone());
        let index = tags::index_changes(Tagged::Session, &s.account_id, &s.id, &before, &s.tags);
        let (version, now) = (s.version + 1, deps.clock.now());
        let changed = tags::changed(Tagged::Session, &s.account_id, &s.id, version, &before, &s.tags, now);
        match save_and_publish(deps, &mut s, index, changed.into_iter().collect()).await {
            Ok(()) => return Ok(s),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the session kept changing; retry"))
}

/// Takes `tag` off one session, saved with its index in one transaction; `false` when the
/// session is gone or no longer carries it (see `super::tagging`).
pub(crate) async fn untag(deps: &Deps, account: &str, id: &str, tag: &str) -> ServiceResult<bool> {
    for _ in 0..5 {
        let mut s = match load(deps, account, id).await {
            Ok(s) if s.tags.iter().any(|t| t == tag) => s,
            Ok(_) | Err(ServiceError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let before = s.tags.clone();
        s.tags.retain(|t| t != tag);
        let index = tags::index_changes(Tagged::Session, account, id, &before, &s.tags);
        let (version, now) = (s.version + 1, deps.clock.now());
        let changed = tags::changed(Tagged::Session, account, id, version, &before, &s.tags, now);
        match save_and_publish(deps, &mut s, index, changed.into_iter().collect()).await {
            Ok(()) => return Ok(true),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the session kept changing; retry"))
}
