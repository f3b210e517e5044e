//! Outbound webhooks (PRODUCT.md §13), following the Standard Webhooks specification:
//! an account's endpoints receive its events as `{type, timestamp, data}`, signed with the
//! endpoint's `whsec_` secret (the wire format is the [`crate::ports::WebhookSender`]
//! adapter's).
//!
//! From a domain event to a delivery, each step idempotent:
//! 1. [`PublishToEndpoints`], a reaction, maps the domain event to an [`OutEvent`] whose id
//!    derives from what happened (a redelivered domain event gives the same id) and, when
//!    some enabled endpoint of the account takes its type, puts `Publish` on the `webhooks`
//!    queue.
//! 2. `Publish` ([`delivery::publish`]) stores the event once (its body is fixed then) and
//!    creates one delivery per endpoint taking it (a conditional put: one per endpoint
//!    however often it runs), each started by a `Deliver` job.
//! 3. `Deliver` ([`delivery::attempt`]) claims the delivery, sends one attempt, logs it and
//!    decides: 2xx delivered; 410 disables the endpoint; otherwise the next retry of
//!    [`delivery::RETRIES`] (a 429's or 503's `Retry-After` when longer), failed after the
//!    last; an endpoint failing for [`delivery::DISABLE_AFTER`] is disabled. A crash after
//!    the call sends the same event again with the same `webhook-id` (receivers dedupe).

pub mod delivery;
pub mod endpoints;
pub mod model;

pub use model::{Attempt, Delivery, DeliveryStatus, Endpoint, OutEvent};

use crate::deps::{Deps, Reaction};
use crate::error::ServiceResult;
use crate::events::DomainEvent;
use crate::jobs::{WebhookJob, enqueue_webhook};
use serde_json::json;
use sha2::Digest;

/// Every event type an endpoint may take.
pub const EVENT_TYPES: &[&str] = &[
    "message.received",
    "session.created",
    "session.assigned",
    "session.completed",
    "template.status_changed",
    "channel.quality_changed",
];

/// An event id derived from what happened: `evt_` and 32 hex digits.
fn event_id(event_type: &str, identity: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{event_type}|{identity}").as_bytes());
    format!("evt_{}", &hex::encode(digest)[..32])
}

fn out(
    event_type: &str,
    identity: &str,
    timestamp: chrono::DateTime<chrono::Utc>,
    data: serde_json::Value,
) -> OutEvent {
    OutEvent { id: event_id(event_type, identity), event_type: event_type.to_owned(), timestamp, data }
}

/// The outbound events of a domain event (with its account), at `now` when the domain
/// event carries no time of its own.
pub fn outbound(event: &DomainEvent, now: chrono::DateTime<chrono::Utc>) -> Option<(String, Vec<OutEvent>)> {
    let (account, events) = match event {
        DomainEvent::MessageReceived {
            account_id,
            channel_id,
            contact_id,
            session_id,
            message_id,
            new_session,
            at,
            ..
        } => {
            let ids = json!({
                "session_id": session_id, "message_id": message_id,
                "contact_id": contact_id, "channel_id": channel_id,
            });
            let mut events = vec![out("message.received", message_id, *at, ids)];
            if *new_session {
                let data =
                    json!({"session_id": session_id, "contact_id": contact_id, "channel_id": channel_id});
                events.push(out("session.created", session_id, *at, data));
            }
            (account_id, events)
        }
        DomainEvent::SessionAssumed {
            account_id, session_id, channel_id, contact_id, agent_id, seq, ..
        } => {
            let data = json!({
                "session_id": session_id, "agent_id": agent_id,
                "contact_id": contact_id, "channel_id": channel_id,
            });
            (account_id, vec![out("session.assigned", &format!("{session_id}|{seq}"), now, data)])
        }
        DomainEvent::SessionCompleted { account_id, session_id, at } => {
            let at = at.unwrap_or(now);
            let identity = format!("{session_id}|{}", at.timestamp_millis());
            (account_id, vec![out("session.completed", &identity, at, json!({"session_id": session_id}))])
        }
        DomainEvent::TemplateStatusChanged { account_id, template_id, status, reason } => {
            let data = json!({"template_id": template_id, "status": status, "reason": reason});
            // Meta sends each change once; a repeat of the same status is the same event.
            (account_id, vec![out("template.status_changed", &format!("{template_id}|{status}"), now, data)])
        }
        DomainEvent::PhoneQualityChanged { account_id, channel_id, event, current_limit } => {
            let data = json!({"channel_id": channel_id, "event": event, "current_limit": current_limit});
            let identity = format!("{channel_id}|{event}|{}", now.timestamp() / 60);
            (account_id, vec![out("channel.quality_changed", &identity, now, data)])
        }
        DomainEvent::DeliveryStatus { .. } | DomainEvent::AgentReplied { .. } => return None,
    };
    Some((account.clone(), events))
}

/// The reaction: a domain event some endpoint of its account takes goes on the `webhooks`
/// queue (nothing at all for accounts without endpoints: one cached read).
pub struct PublishToEndpoints;

#[async_trait::async_trait]
impl Reaction for PublishToEndpoints {
    fn name(&self) -> &'static str {
        "webhooks.publish"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let Some((account, events)) = outbound(event, deps.clock.now()) else { return Ok(()) };
        let subscriptions = endpoints::subscriptions(deps, &account).await?;
        for event in events.into_iter().filter(|e| subscriptions.wants(&e.event_type)) {
            let job = WebhookJob::Publish { account_id: account.clone(), event };
            enqueue_webhook(deps, &job, std::time::Duration::ZERO).await?;
        }
        Ok(())
    }
}
