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
    "message.created",
    "message.status_changed",
    "session.created",
    "session.assigned",
    "session.routed",
    "session.transferred",
    "session.completed",
    "contact.created",
    "contact.updated",
    "contact.erased",
    "tag.added",
    "tag.removed",
    "payment.created",
    "payment.status_changed",
    "campaign.status_changed",
    "csat.answered",
    "template.status_changed",
    "channel.quality_changed",
];

/// An event id derived from what happened: `evt_` and 32 hex digits.
pub(crate) fn event_id(event_type: &str, identity: &str) -> String {
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
            let mut events = Vec::new();
            if *new_session {
                let data =
                    json!({"session_id": session_id, "contact_id": contact_id, "channel_id": channel_id});
                events.push(out("session.created", session_id, *at, data));
            }
            events.push(out("message.received", message_id, *at, ids));
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
        DomainEvent::AgentReplied { account_id, session_id, agent_id, at, message_id } => {
            let message_id = message_id.as_ref()?;
            let data = json!({"session_id": session_id, "message_id": message_id, "agent_id": agent_id});
            (account_id, vec![out("message.created", message_id, *at, data)])
        }
        DomainEvent::MessageStatusChanged { account_id, session_id, message_id, status, at, error_code } => {
            let word = serde_json::to_value(status).ok()?;
            let data = json!({
                "session_id": session_id, "message_id": message_id,
                "status": word, "error_code": error_code,
            });
            let identity = format!("{message_id}|{}", word.as_str().unwrap_or_default());
            (account_id, vec![out("message.status_changed", &identity, *at, data)])
        }
        DomainEvent::SessionTransferred {
            account_id,
            session_id,
            from_team,
            to_team,
            to_agent,
            by,
            version,
            at,
        } => {
            let data = json!({
                "session_id": session_id, "from_team_id": from_team, "to_team_id": to_team,
                "to_agent_id": to_agent, "by": by,
            });
            (account_id, vec![out("session.transferred", &format!("{session_id}|{version}"), *at, data)])
        }
        DomainEvent::SessionRouted { account_id, session_id, team_id, owner_id, offered_to, seq, at } => {
            let data = json!({
                "session_id": session_id, "team_id": team_id,
                "agent_id": owner_id, "offered_to": offered_to,
            });
            (account_id, vec![out("session.routed", &format!("{session_id}|{seq}"), *at, data)])
        }
        DomainEvent::ContactChanged { account_id, contact_id, change, at } => {
            let event_type = format!("contact.{}", change.as_str());
            let identity = format!("{contact_id}|{}", at.timestamp_millis());
            (account_id, vec![out(&event_type, &identity, *at, json!({"contact_id": contact_id}))])
        }
        DomainEvent::TagsChanged { account_id, target, target_id, added, removed, version, at } => {
            let one = |event_type: &str, tag: &String| {
                let data = json!({"tag_id": tag, "target": target, "target_id": target_id});
                out(event_type, &format!("{target}|{target_id}|{tag}|{version}"), *at, data)
            };
            let events = added
                .iter()
                .map(|t| one("tag.added", t))
                .chain(removed.iter().map(|t| one("tag.removed", t)));
            (account_id, events.collect())
        }
        DomainEvent::PaymentChanged {
            account_id, payment_id, session_id, status, amount_cents, at, ..
        } => {
            let event_type = if status == "requested" { "payment.created" } else { "payment.status_changed" };
            let data = json!({
                "payment_id": payment_id, "session_id": session_id,
                "status": status, "amount_cents": amount_cents,
            });
            (account_id, vec![out(event_type, &format!("{payment_id}|{status}"), *at, data)])
        }
        DomainEvent::CampaignChanged { account_id, campaign_id, status, at } => {
            let data = json!({"campaign_id": campaign_id, "status": status});
            let identity = format!("{campaign_id}|{status}|{}", at.timestamp_millis());
            (account_id, vec![out("campaign.status_changed", &identity, *at, data)])
        }
        DomainEvent::CsatAnswered {
            account_id, session_id, team_id, agent_id, score, scale_max, at, ..
        } => {
            let data = json!({
                "session_id": session_id, "team_id": team_id, "agent_id": agent_id,
                "score": score, "scale_max": scale_max,
            });
            (account_id, vec![out("csat.answered", session_id, *at, data)])
        }
        DomainEvent::DeliveryStatus { .. } | DomainEvent::ChatPosted { .. } => return None,
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
