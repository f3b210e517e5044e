//! Flow runs: one per session at a time. Each input (the start, a customer's message, a
//! timer) is applied once: the engine's new state, the bot's messages and the session's
//! changes are written in one transaction, conditional on the run's version and on the
//! session still being the bot's; the input's id goes into the run, so a redelivery finds
//! it applied and only repeats what follows the commit (queueing the messages — each
//! deduplicated by its id, sent once by `send` — tags, fields, timers, routing: all
//! idempotent). A crash before the commit leaves nothing; after it, the redelivery
//! finishes the job. Nothing the bot says is sent twice or skipped.
//!
//! People first: an agent assuming, transferring or sending clears the session's
//! `bot_run`; the run's next input finds it gone and ends, and `send` drops a bot message
//! whose run no longer holds the session.

use super::engine::{self, Effect, Ending, Facts, Input, Outgoing, Pause, RunState};
use super::model::{Content, Definition};
use super::store;
use crate::accounts::Caller;
use crate::conversations::model::{
    AuthorKind, Contact, FlowRef, Media, Message, MessageKind, MessageStatus, Session, SessionStatus,
};
use crate::conversations::{contacts, messages, sessions};
use crate::crm::fields;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{self, CampaignJob, FlowInput, FlowJob, RoutingJob};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, HttpRequest, Index, Query, TransactItem};
use crate::record::{from_item, query_all, to_item};
use crate::time::{business_hours, timers};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Input ids a run remembers (older ones are long past any redelivery).
const REMEMBERED: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub account_id: String,
    pub session_id: String,
    pub channel_id: String,
    pub contact_id: String,
    pub flow_id: String,
    pub trigger: Trigger,
    /// Test mode: the draft the run started with (it runs instead of a published version).
    pub draft: Option<Definition>,
    pub state: RunState,
    /// Ids of the inputs applied, oldest first.
    pub applied: Vec<String>,
    /// What follows the last input's commit (repeated when that input is redelivered).
    pub after: Vec<After>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// Who or what started a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Trigger {
    pub kind: TriggerKind,
    /// The user, campaign, sequence or keyword behind it.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    BusinessHours,
    OutOfHours,
    Keyword,
    /// A `#code` message: the draft, for that contact only.
    Test,
    /// Started on the session through the API (an agent, or an integrator's token).
    Agent,
    Campaign,
    Sequence,
    Completion,
}

/// What follows an input's commit: each idempotent, repeated on redelivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum After {
    Send {
        message_ids: Vec<String>,
    },
    AddTag {
        tag_id: String,
    },
    RemoveTag {
        tag_id: String,
    },
    SetField {
        field: String,
        value: String,
    },
    Enrol {
        sequence_id: String,
    },
    Unenrol {
        sequence_id: String,
    },
    Arm {
        seq: u32,
        due_ms: i64,
    },
    /// Give the session to routing (it waited for the bot).
    Route,
    Complete,
}

/// A run as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    pub flow_id: String,
    /// The version it runs (0: a draft in test mode).
    pub version: u32,
    pub trigger: Trigger,
    pub active: bool,
    /// The node it waits at.
    pub node: Option<String>,
    /// How it ended: `{"kind": "finished" | "transferred" | "completed" | "stopped", ...}`
    /// (`stopped` carries the `reason`).
    #[schema(value_type = Option<Object>)]
    pub ended: Option<Value>,
    /// Values the flow collected (`answer`, variables).
    #[schema(value_type = Object)]
    pub variables: Value,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StartFlow {
    pub flow_id: String,
}

impl Run {
    fn view(&self) -> RunView {
        RunView {
            id: self.id.clone(),
            flow_id: self.flow_id.clone(),
            version: self.state.version,
            trigger: self.trigger.clone(),
            active: self.state.ended.is_none(),
            node: self.state.node.clone().filter(|_| self.state.ended.is_none()),
            ended: self.state.ended.as_ref().and_then(|e| serde_json::to_value(e).ok()),
            variables: serde_json::to_value(&self.state.vars).unwrap_or(Value::Null),
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }
}

pub async fn load(deps: &Deps, account: &str, session: &str, id: &str) -> ServiceResult<Option<Run>> {
    match deps.table.get(&keys::flow_run(account, session, id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Starts `flow_id` on `session` for `trigger` (its published version, or with `draft`
/// its draft): the session becomes the bot's, in one transaction with the new run. `None`
/// when the session is not free for a bot (a person has it, or a bot already).
pub async fn begin(
    deps: &Deps,
    session: &Session,
    flow_id: &str,
    trigger: Trigger,
    draft: bool,
    by_message: Option<&str>,
) -> ServiceResult<Option<Run>> {
    let account = &session.account_id;
    let (definition, version) = if draft {
        (Some(store::load(deps, account, flow_id).await?.draft), 0)
    } else {
        match store::published(deps, account, flow_id).await? {
            Some(v) => (None, v.version),
            None => return Err(ServiceError::invalid("the flow was never published")),
        }
    };
    let mut s = session.clone();
    if s.bot_run.is_some() {
        return Ok(None);
    }
    let now = deps.clock.now();
    let run = Run {
        id: deps.ids.new_id(),
        account_id: account.clone(),
        session_id: s.id.clone(),
        channel_id: s.channel_id.clone(),
        contact_id: s.contact_id.clone(),
        flow_id: flow_id.to_owned(),
        trigger,
        draft: definition,
        state: RunState { flow_id: flow_id.to_owned(), version, ..RunState::default() },
        // The message that started the run is not also an answer to its first question.
        applied: by_message
            .map(|m| FlowInput::Message { message_id: m.to_owned() }.id())
            .into_iter()
            .collect(),
        after: Vec::new(),
        started_at: now,
        updated_at: now,
        ended_at: None,
        version: 1,
    };
    s.bot_run = Some(run.id.clone());
    let mut writes = vec![TransactItem::Put {
        item: to_item(&keys::flow_run(account, &s.id, &run.id), &run)?,
        condition: Some(Condition::NotExists),
    }];
    if run.trigger.kind == TriggerKind::Completion {
        let key = keys::flow_waiting(account, &s.channel_id, &s.contact_id);
        let pointer = crate::ports::Item::from([
            ("pk".to_owned(), attr::s(key.pk)),
            ("sk".to_owned(), attr::s(key.sk)),
            ("session_id".to_owned(), attr::s(&s.id)),
            ("run_id".to_owned(), attr::s(&run.id)),
            // Kept after the run ends (a redelivered answer is still recognised), then expires.
            ("ttl".to_owned(), attr::n((now + Duration::days(8)).timestamp())),
        ]);
        writes.push(TransactItem::Put { item: pointer, condition: None });
    }
    match sessions::save(deps, &mut s, writes).await {
        Ok(()) => {}
        Err(ServiceError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    kick(deps, &run).await?;
    Ok(Some(run))
}

/// Whether the run waits for the customer's answer.
pub(crate) fn asks(run: &Run) -> bool {
    matches!(run.state.waiting, Some(engine::Waiting::Answer | engine::Waiting::Join))
}

/// Queues the run's start (again: the job is deduplicated and the start applied once).
pub(crate) async fn kick(deps: &Deps, run: &Run) -> ServiceResult<()> {
    jobs::enqueue_flow(deps, &job(run, FlowInput::Start)).await
}

fn job(run: &Run, input: FlowInput) -> FlowJob {
    FlowJob {
        account_id: run.account_id.clone(),
        session_id: run.session_id.clone(),
        run_id: run.id.clone(),
        input,
    }
}

/// Gives a customer's message to the session's run.
pub(crate) async fn feed_message(
    deps: &Deps,
    s: &Session,
    run_id: &str,
    message_id: &str,
) -> ServiceResult<()> {
    let job = FlowJob {
        account_id: s.account_id.clone(),
        session_id: s.id.clone(),
        run_id: run_id.to_owned(),
        input: FlowInput::Message { message_id: message_id.to_owned() },
    };
    jobs::enqueue_flow(deps, &job).await
}

/// The `flows` queue's job: applies one input to its run, once.
pub async fn apply(deps: &Deps, job: &FlowJob) -> ServiceResult<()> {
    let input_id = job.input_id();
    for _ in 0..5 {
        let Some(mut run) = load(deps, &job.account_id, &job.session_id, &job.run_id).await? else {
            return Ok(());
        };
        if run.applied.iter().any(|a| a == &input_id) {
            if run.applied.last() == Some(&input_id) {
                follow_up(deps, &run).await?;
            }
            return Ok(());
        }
        if run.state.ended.is_some() {
            return Ok(());
        }
        let read = run.version;
        let mut session = sessions::load(deps, &job.account_id, &job.session_id).await?;
        let held = session.bot_run.as_deref() == Some(run.id.as_str());
        let mut writes = Vec::new();
        let mut touch_session = false;
        if !held {
            // A person took the conversation (or it was stopped): the run ends, silently.
            run.state.ended = Some(Ending::Stopped { reason: "a person took the conversation".into() });
            run.after = Vec::new();
        } else {
            let outcome = step(deps, &mut run, &session, &job.input).await?;
            run.after = outcome.after;
            writes.extend(
                outcome.messages.iter().map(messages::insert_message).collect::<ServiceResult<Vec<_>>>()?,
            );
            for (k, v) in outcome.metadata {
                session.metadata.insert(k, v);
                touch_session = true;
            }
            if let Some(ending) = &run.state.ended {
                touch_session = true;
                session.bot_run = None;
                match ending {
                    Ending::Transferred { team_id } => {
                        session.team_id = team_id.clone();
                        if session.status == SessionStatus::InProgress {
                            session.status = SessionStatus::Pending;
                            session.owner_id = None;
                        }
                        run.after.push(After::Route);
                    }
                    Ending::Completed => run.after.push(After::Complete),
                    Ending::Finished { handoff: true } | Ending::Stopped { .. } => {
                        run.after.push(After::Route)
                    }
                    Ending::Finished { handoff: false } => {}
                }
                if let Ending::Stopped { reason } = ending {
                    tracing::warn!(run_id = %run.id, session_id = %session.id, reason, "a flow run was stopped");
                }
            }
        }
        let now = deps.clock.now();
        run.applied.push(input_id.clone());
        if run.applied.len() > REMEMBERED {
            run.applied.remove(0);
        }
        run.updated_at = now;
        if run.state.ended.is_some() {
            run.ended_at = Some(now);
        }
        run.version += 1;
        writes.push(TransactItem::Put {
            item: to_item(&keys::flow_run(&run.account_id, &run.session_id, &run.id), &run)?,
            condition: Some(Condition::version_is(read)),
        });
        let result = if touch_session && held {
            sessions::save(deps, &mut session, writes).await
        } else {
            if held {
                writes.push(TransactItem::ConditionCheck {
                    key: keys::session(&session.account_id, &session.id),
                    condition: Condition::equals("bot_run", attr::s(&run.id)),
                });
            }
            deps.table.transact(writes).await.map_err(crate::record::concurrent)
        };
        match result {
            Ok(()) => {
                follow_up(deps, &run).await?;
                return Ok(());
            }
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the run or its session kept changing"))
}

/// What one input produced, before the commit.
struct Outcome {
    messages: Vec<Message>,
    metadata: Vec<(String, String)>,
    after: Vec<After>,
}

/// Runs the engine for one input: gathers the facts, performs the HTTP calls and flow
/// loads it pauses for, and turns its effects into messages and follow-ups.
async fn step(deps: &Deps, run: &mut Run, session: &Session, input: &FlowInput) -> ServiceResult<Outcome> {
    let contact = contacts::load(deps, &run.account_id, &run.contact_id).await?;
    let facts = facts(deps, session, &contact).await?;
    let mut input = match input {
        FlowInput::Start => Input::Start,
        FlowInput::Timer { seq } => Input::Timer { seq: *seq },
        FlowInput::Message { message_id } => {
            let m = messages::load(deps, &run.account_id, message_id).await?;
            Input::Message {
                text: m.text.clone().unwrap_or_default(),
                reply_id: crate::events::reply_id(&m.content),
            }
        }
        FlowInput::Answer { text, reply_id, .. } => {
            Input::Message { text: text.clone(), reply_id: reply_id.clone() }
        }
    };
    let mut definition = definition(deps, run).await?;
    let mut effects = Vec::new();
    loop {
        let turn = engine::step(&definition, &mut run.state, input, &facts);
        effects.extend(turn.effects);
        input = match turn.pause {
            None => break,
            Some(Pause::Http(call)) => {
                let request = HttpRequest {
                    method: call.method,
                    url: call.url,
                    headers: call.headers.into_iter().collect(),
                    body: call.body,
                };
                match deps.http.call(request).await {
                    Ok(r) => Input::Http { status: r.status, body: serde_json::from_slice(&r.body).ok() },
                    Err(e) => {
                        tracing::info!(run_id = %run.id, error = %e, "a flow's HTTP call failed");
                        Input::Http { status: 0, body: None }
                    }
                }
            }
            Some(Pause::LoadFlow) => {
                let Some(jump) = run.state.jump.clone() else { break };
                let loaded = match jump.version {
                    Some(v) => store::version(deps, &run.account_id, &jump.flow_id, v).await.ok(),
                    None => store::published(deps, &run.account_id, &jump.flow_id).await?,
                };
                match loaded {
                    Some(v) => {
                        run.state.flow_id = v.flow_id.clone();
                        run.state.version = v.version;
                        definition = v.definition;
                        Input::Jumped
                    }
                    None if jump.version == Some(0) && jump.flow_id == run.flow_id && run.draft.is_some() => {
                        run.state.flow_id = jump.flow_id.clone();
                        run.state.version = 0;
                        definition = run.draft.clone().unwrap_or(definition);
                        Input::Jumped
                    }
                    None => {
                        run.state.waiting = None;
                        run.state.ended = Some(Ending::Stopped {
                            reason: format!("flow {} has no published version to go to", jump.flow_id),
                        });
                        break;
                    }
                }
            }
        };
    }
    outcome(deps, run, session, effects).await
}

/// The definition the run is on: its draft (test mode) or the published version.
async fn definition(deps: &Deps, run: &Run) -> ServiceResult<Definition> {
    if run.state.version == 0
        && let Some(d) = &run.draft
    {
        return Ok(d.clone());
    }
    Ok(store::version(deps, &run.account_id, &run.state.flow_id, run.state.version).await?.definition)
}

/// The conversation as the engine reads it.
async fn facts(deps: &Deps, s: &Session, contact: &Contact) -> ServiceResult<Facts> {
    let now = deps.clock.now();
    let hours = business_hours::effective(deps, &s.account_id, Some(&s.channel_id)).await?;
    let zone = business_hours::zone(hours.as_ref());
    let mut values = std::collections::BTreeMap::new();
    for name in ["name", "first_name", "phone", "email", "protocol"] {
        if let Some(v) = crate::conversations::variables::value(contact, Some(s), None, name) {
            values.insert(name.to_owned(), v);
        }
    }
    for (k, v) in &contact.custom {
        values.insert(format!("custom.{k}"), fields::display(v));
    }
    for (k, v) in &s.metadata {
        values.insert(format!("session.{k}"), v.clone());
    }
    Ok(Facts {
        local_now: now.with_timezone(&zone).naive_local(),
        business_open: hours.is_none_or(|h| h.is_open(now)),
        tags: contact.tags.iter().cloned().collect(),
        values,
    })
}

/// Turns the engine's effects into the messages to store and what follows the commit.
async fn outcome(deps: &Deps, run: &Run, s: &Session, effects: Vec<Effect>) -> ServiceResult<Outcome> {
    let mut out = Outcome { messages: Vec::new(), metadata: Vec::new(), after: Vec::new() };
    let now = deps.clock.now();
    for effect in effects {
        match effect {
            Effect::Send { node, message } => {
                let flow = FlowRef {
                    run_id: run.id.clone(),
                    flow_id: run.state.flow_id.clone(),
                    version: run.state.version,
                    node,
                };
                if let Some(m) = bot_message(deps, s, flow, message).await? {
                    out.messages.push(m);
                }
            }
            Effect::AddTag(tag_id) => out.after.push(After::AddTag { tag_id }),
            Effect::RemoveTag(tag_id) => out.after.push(After::RemoveTag { tag_id }),
            Effect::SetContactField { field, value } => out.after.push(After::SetField { field, value }),
            Effect::SetSessionMetadata { key, value } => out.metadata.push((key, value)),
            Effect::Enrol(sequence_id) => out.after.push(After::Enrol { sequence_id }),
            Effect::Unenrol(sequence_id) => out.after.push(After::Unenrol { sequence_id }),
            Effect::Arm { seconds, seq } => {
                let due = now + Duration::seconds(i64::from(seconds));
                out.after.push(After::Arm { seq, due_ms: due.timestamp_millis() });
            }
        }
    }
    let ids: Vec<String> =
        out.messages.iter().filter(|m| m.status == MessageStatus::Queued).map(|m| m.id.clone()).collect();
    if !ids.is_empty() {
        out.after.insert(0, After::Send { message_ids: ids });
    }
    Ok(out)
}

/// A bot's message in `s`, not stored: queued, or waiting for the customer when the 24 h
/// window is closed and it is not a template (the rule every sender follows).
async fn bot_message(
    deps: &Deps,
    s: &Session,
    flow: FlowRef,
    out: Outgoing,
) -> ServiceResult<Option<Message>> {
    let mut m = messages::new_message(deps, s, AuthorKind::Bot, None);
    match out {
        Outgoing::Content(c) => fill_content(&mut m, c),
        Outgoing::Template { template_id, parameters } => {
            // An unknown, foreign or unapproved template (deleted or paused since the flow
            // was published) is skipped with a log line, never a stuck run.
            m = match messages::with_template(deps, s, m, &template_id, &parameters).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(run_id = %flow.run_id, node = %flow.node, error = %e, "a flow's template was not sent");
                    return Ok(None);
                }
            };
        }
    }
    m.flow = Some(flow);
    if m.kind != MessageKind::Template && !sessions::window(deps, s).await?.is_open() {
        m.status = MessageStatus::WaitingReply;
    }
    Ok(Some(m))
}

fn fill_content(m: &mut Message, c: Content) {
    if let Some(media) = c.media {
        m.kind = match media.kind.as_str() {
            "image" => MessageKind::Image,
            "video" => MessageKind::Video,
            "audio" => MessageKind::Audio,
            _ => MessageKind::Document,
        };
        m.text = Some(c.text).filter(|t| !t.is_empty());
        m.content = json!({"link": media.url});
        m.media = Some(Media {
            blob_key: None,
            mime_type: None,
            filename: media.filename,
            provider_media_id: None,
            fetch_error: None,
        });
        return;
    }
    m.text = Some(c.text);
    let choice =
        |x: &super::model::Choice| json!({"id": x.id, "title": x.title, "description": x.description});
    if let Some(list) = c.list {
        m.kind = MessageKind::Interactive;
        m.content = json!({"list": {"button": list.button, "rows": list.rows.iter().map(choice).collect::<Vec<_>>()}});
    } else if !c.buttons.is_empty() {
        m.kind = MessageKind::Interactive;
        m.content = json!({"buttons": c.buttons.iter().map(choice).collect::<Vec<_>>()});
    }
}

/// What follows the commit of the run's last input: each step idempotent.
async fn follow_up(deps: &Deps, run: &Run) -> ServiceResult<()> {
    let account = &run.account_id;
    for after in &run.after {
        match after {
            After::Send { message_ids } => {
                // Queued ones only were listed; one already sent is `Done` for `send`.
                let jobs = message_ids
                    .iter()
                    .map(|id| messages::deliver_job(account, &run.channel_id, &run.contact_id, id))
                    .collect();
                deps.queue.send_batch(crate::queues::OUTBOUND, jobs).await?;
            }
            After::AddTag { tag_id } => {
                if crate::crm::tags::load(deps, account, tag_id).await.is_ok() {
                    contacts::modify(deps, account, &run.contact_id, |c| {
                        let add = !c.tags.contains(tag_id);
                        if add {
                            c.tags.push(tag_id.clone());
                        }
                        Ok(add)
                    })
                    .await?;
                }
            }
            After::RemoveTag { tag_id } => {
                contacts::untag(deps, account, &run.contact_id, tag_id).await?;
            }
            After::SetField { field, value } => set_field(deps, run, field, value).await?,
            After::Enrol { sequence_id } => {
                let job = CampaignJob::EnrolContact {
                    account_id: account.clone(),
                    sequence_id: sequence_id.clone(),
                    contact_id: run.contact_id.clone(),
                };
                jobs::enqueue_campaign(deps, &job, std::time::Duration::ZERO).await?;
            }
            After::Unenrol { sequence_id } => {
                let job = CampaignJob::Unenrol {
                    account_id: account.clone(),
                    sequence_id: sequence_id.clone(),
                    contact_id: run.contact_id.clone(),
                };
                jobs::enqueue_campaign(deps, &job, std::time::Duration::ZERO).await?;
            }
            After::Arm { seq, due_ms } => {
                let due = DateTime::from_timestamp_millis(*due_ms).unwrap_or_else(|| deps.clock.now());
                let id = format!("flow:{}:{seq}", run.id);
                let job = job(run, FlowInput::Timer { seq: *seq });
                timers::schedule(deps, &id, due, crate::queues::FLOWS, Some(&run.session_id), &job).await?;
            }
            After::Route => {
                let job = RoutingJob::NewSession {
                    account_id: account.clone(),
                    session_id: run.session_id.clone(),
                };
                jobs::enqueue_routing(deps, &job).await?;
            }
            After::Complete => sessions::complete_by_system(deps, account, &run.session_id).await?,
        }
    }
    Ok(())
}

async fn set_field(deps: &Deps, run: &Run, field: &str, value: &str) -> ServiceResult<()> {
    let account = &run.account_id;
    let value = value.trim().to_owned();
    let custom = match field {
        "name" | "email" => None,
        key => match fields::load(deps, account, key).await {
            Ok(f) => match fields::coerce(&f, &Value::String(value.clone())) {
                Ok(v) => Some(v),
                Err(reason) => {
                    tracing::info!(run_id = %run.id, field = key, reason, "a flow's field value was not valid");
                    return Ok(());
                }
            },
            Err(ServiceError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        },
    };
    let email = if field == "email" { crate::accounts::users::normalize_email(&value).ok() } else { None };
    if field == "email" && email.is_none() {
        return Ok(());
    }
    contacts::modify(deps, account, &run.contact_id, |c| {
        match (field, &custom) {
            ("name", _) if !value.is_empty() => c.name = Some(value.chars().take(120).collect()),
            ("email", _) => c.email = email.clone(),
            (key, Some(v)) => {
                c.custom.insert(key.to_owned(), v.clone());
            }
            _ => return Ok(false),
        }
        Ok(true)
    })
    .await?;
    Ok(())
}

/// Starts a flow on a session from the API (an agent who may act on it, or an
/// integrator's token): the session must be open and no bot on it.
pub async fn start(
    deps: &Deps,
    caller: &Caller,
    session_id: &str,
    input: StartFlow,
) -> ServiceResult<RunView> {
    let access = sessions::Access::of(deps, caller).await?;
    let s = sessions::actionable(deps, &access, session_id).await?;
    if s.status == SessionStatus::Completed {
        return Err(ServiceError::conflict("the session is completed: restart it first"));
    }
    store::load(deps, &caller.account_id, &input.flow_id).await?;
    let trigger = Trigger { kind: TriggerKind::Agent, by: Some(caller.user_id.clone()) };
    match begin(deps, &s, &input.flow_id, trigger, false, None).await? {
        Some(run) => Ok(run.view()),
        None => Err(ServiceError::conflict("a flow already runs in this session")),
    }
}

/// Stops the session's flow (an agent or the API): the session goes on without the bot.
pub async fn stop(deps: &Deps, caller: &Caller, session_id: &str) -> ServiceResult<()> {
    let access = sessions::Access::of(deps, caller).await?;
    let s = sessions::actionable(deps, &access, session_id).await?;
    let Some(run_id) = s.bot_run.clone() else {
        return Err(ServiceError::conflict("no flow runs in this session"));
    };
    let mut s = s;
    s.stop_bot();
    sessions::save(deps, &mut s, vec![]).await?;
    end_quietly(deps, &s.account_id, &s.id, &run_id, "stopped through the API").await
}

/// Marks a run whose session a person took as ended (what its next input would find), and
/// withdraws its messages not yet on their way (`send` would drop them anyway).
pub(crate) async fn end_quietly(
    deps: &Deps,
    account: &str,
    session: &str,
    run_id: &str,
    reason: &str,
) -> ServiceResult<()> {
    for _ in 0..3 {
        let Some(mut run) = load(deps, account, session, run_id).await? else { return Ok(()) };
        if run.state.ended.is_some() {
            return Ok(());
        }
        for after in &run.after {
            if let After::Send { message_ids } = after {
                for id in message_ids {
                    messages::withdraw(deps, account, id).await?;
                }
            }
        }
        let read = run.version;
        run.version += 1;
        run.state.waiting = None;
        run.state.ended = Some(Ending::Stopped { reason: reason.to_owned() });
        run.after = Vec::new();
        run.ended_at = Some(deps.clock.now());
        let item = to_item(&keys::flow_run(account, session, run_id), &run)?;
        match deps.table.put(item, Some(Condition::version_is(read))).await {
            Ok(()) => return Ok(()),
            Err(crate::ports::TableError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn runs_of(deps: &Deps, account: &str, session: &str) -> ServiceResult<Vec<Run>> {
    query_all(deps, Query::partition(Index::Primary, keys::flow_runs_pk(account, session))).await
}

/// Ids of the session's runs not ended.
pub(crate) async fn active_of(deps: &Deps, account: &str, session: &str) -> ServiceResult<Vec<String>> {
    Ok(runs_of(deps, account, session)
        .await?
        .into_iter()
        .filter(|r| r.state.ended.is_none())
        .map(|r| r.id)
        .collect())
}

/// Whether the session had a run started by `kind`.
pub(crate) async fn any_of(
    deps: &Deps,
    account: &str,
    session: &str,
    kind: TriggerKind,
) -> ServiceResult<bool> {
    Ok(runs_of(deps, account, session).await?.iter().any(|r| r.trigger.kind == kind))
}

pub async fn list(deps: &Deps, caller: &Caller, session_id: &str) -> ServiceResult<RunList> {
    let access = sessions::Access::of(deps, caller).await?;
    sessions::readable(deps, &access, session_id).await?;
    let runs = runs_of(deps, &caller.account_id, session_id).await?;
    Ok(RunList { items: runs.iter().rev().map(Run::view).collect() })
}
