//! Where conversations meet flows: a customer's message goes to the session's running
//! flow, or starts one (a test code, a keyword, the channel's flow for business hours or
//! for out of hours); a completed session may start the channel's completion flow; a
//! person taking the session ends its run.

use super::runs::{self, Trigger, TriggerKind};
use super::store;
use crate::conversations::model::SessionStatus;
use crate::conversations::{messages, sessions};
use crate::deps::{Deps, Interceptor, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::{CustomerMessage, DomainEvent};
use crate::jobs::{self, FlowInput, FlowJob};
use crate::keys;
use crate::ports::table::attr;
use crate::time::business_hours;

/// Gives customer messages to flows. Registered before routing: a session a flow takes
/// waits for the flow's hand-over before it is routed.
pub struct FlowTriggers;

#[async_trait::async_trait]
impl Reaction for FlowTriggers {
    fn name(&self) -> &'static str {
        "flows.triggers"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        match event {
            DomainEvent::MessageReceived { account_id, session_id, message_id, new_session, at, .. } => {
                on_message(deps, account_id, session_id, message_id, *new_session, *at).await
            }
            DomainEvent::SessionCompleted { account_id, session_id, .. } => {
                on_completion(deps, account_id, session_id).await
            }
            DomainEvent::SessionAssumed { account_id, session_id, .. } => {
                // The assume cleared the session's run; mark the run ended for the record.
                for run in runs::active_of(deps, account_id, session_id).await? {
                    runs::end_quietly(deps, account_id, session_id, &run, "an agent assumed the session")
                        .await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

async fn on_message(
    deps: &Deps,
    account: &str,
    session_id: &str,
    message_id: &str,
    new_session: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    let s = sessions::load(deps, account, session_id).await?;
    if let Some(run) = &s.bot_run {
        return runs::feed_message(deps, &s, run, message_id).await;
    }
    // A person has it, or it was routed already (waiting in a queue): no bot starts.
    let free = s.status == SessionStatus::Pending && s.owner_id.is_none() && s.routing_seq == 0;
    if !free {
        return Ok(());
    }
    let text = match messages::load(deps, account, message_id).await {
        Ok(m) => m.text.unwrap_or_default(),
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let triggers = store::triggers_of(deps, account, &s.channel_id).await?;
    let mut pick: Option<(String, Trigger, bool)> = None;
    // A campaign's chatbot answers the replies to it (the session was attributed before).
    if let Some(flow) = &s.requested_flow {
        pick =
            Some((flow.clone(), Trigger { kind: TriggerKind::Campaign, by: s.campaign_id.clone() }, false));
    }
    if pick.is_none()
        && let Some(code) = text.trim().strip_prefix('#')
        && !code.is_empty()
        && code.len() <= 40
        && let Some(flow) = store::by_test_code(deps, account, code.trim()).await?
    {
        pick = Some((flow.id, Trigger { kind: TriggerKind::Test, by: None }, true));
    }
    if pick.is_none()
        && let Some(k) = triggers
            .keywords
            .iter()
            .find(|k| keyword_matches(&text, &k.text, k.matching == store::KeywordMatch::Contains))
    {
        pick = Some((
            k.flow_id.clone(),
            Trigger { kind: TriggerKind::Keyword, by: Some(k.text.clone()) },
            false,
        ));
    }
    if pick.is_none() && new_session {
        let open = business_hours::effective(deps, account, Some(&s.channel_id))
            .await?
            .is_none_or(|h| h.is_open(at));
        let (flow, kind) = if open {
            (&triggers.business_hours_flow, TriggerKind::BusinessHours)
        } else {
            (&triggers.out_of_hours_flow, TriggerKind::OutOfHours)
        };
        if let Some(f) = flow {
            pick = Some((f.clone(), Trigger { kind, by: None }, false));
        }
    }
    let Some((flow, trigger, draft)) = pick else { return Ok(()) };
    match runs::begin(deps, &s, &flow, trigger, draft, Some(message_id)).await {
        Ok(_) => Ok(()),
        // Unpublished or deleted since the trigger was set: the session is routed as usual.
        Err(ServiceError::Invalid(_) | ServiceError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether a customer's text triggers `keyword` (case and accents aside).
fn keyword_matches(text: &str, keyword: &str, contains: bool) -> bool {
    let (t, k) = (super::engine::folded(text), super::engine::folded(keyword));
    if contains { t.contains(&k) } else { t == k }
}

/// The channel's completion flow runs on the completed session (it is not reopened).
async fn on_completion(deps: &Deps, account: &str, session_id: &str) -> ServiceResult<()> {
    let s = sessions::load(deps, account, session_id).await?;
    if s.status != SessionStatus::Completed || s.bot_run.is_some() {
        return Ok(());
    }
    let triggers = store::triggers_of(deps, account, &s.channel_id).await?;
    let Some(flow) = triggers.on_completion_flow else { return Ok(()) };
    // Once per session: a redelivered completion finds the run it started.
    if runs::any_of(deps, account, session_id, TriggerKind::Completion).await? {
        return Ok(());
    }
    match runs::begin(deps, &s, &flow, Trigger { kind: TriggerKind::Completion, by: None }, false, None).await
    {
        Ok(_) | Err(ServiceError::Invalid(_) | ServiceError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A completion flow's question is answered on the completed session: the customer's
/// reply goes to the run and never opens a new session (as a CSAT answer does).
pub struct CompletionAnswers;

#[async_trait::async_trait]
impl Interceptor for CompletionAnswers {
    fn name(&self) -> &'static str {
        "flows.completion_answers"
    }

    async fn take(&self, deps: &Deps, m: &CustomerMessage) -> ServiceResult<bool> {
        let key = keys::flow_waiting(&m.account_id, &m.channel_id, &m.contact_id);
        let Some(pointer) = deps.table.get(&key).await? else { return Ok(false) };
        let (Some(session), Some(run_id)) =
            (attr::get_s(&pointer, "session_id"), attr::get_s(&pointer, "run_id"))
        else {
            return Ok(false);
        };
        let Some(run) = runs::load(deps, &m.account_id, session, run_id).await? else { return Ok(false) };
        let job = FlowJob {
            account_id: m.account_id.clone(),
            session_id: session.to_owned(),
            run_id: run_id.to_owned(),
            input: FlowInput::Answer {
                provider_id: m.provider_id.clone(),
                text: m.text.clone().unwrap_or_default(),
                reply_id: crate::events::reply_id(&m.content),
            },
        };
        // A redelivery of an answer already applied is taken again (and changes nothing).
        let applied = run.applied.contains(&job.input_id());
        if !applied && (run.state.ended.is_some() || !runs::asks(&run)) {
            return Ok(false);
        }
        jobs::enqueue_flow(deps, &job).await?;
        Ok(true)
    }
}
