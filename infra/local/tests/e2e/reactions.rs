//! Reactions to domain events: registered beside the features (the inbound use case never
//! names them), published again when a job is redelivered after its commit, and idempotent.

use crate::routing::{customer, designated, distributing_team, newest_pending, system_texts};
use crate::stack::*;
use atende_core::ServiceResult;
use atende_core::deps::{Deps, Reaction, Reactions};
use atende_core::events::{ContactChange, DomainEvent};
use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Records every event it is given.
#[derive(Default)]
struct Recorder(Mutex<Vec<DomainEvent>>);

#[async_trait::async_trait]
impl Reaction for Recorder {
    fn name(&self) -> &'static str {
        "test.recorder"
    }
    async fn on(&self, _: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// Fails the first customer message it sees, as a crash after the commit would.
#[derive(Default)]
struct FailsOnce(AtomicBool);

#[async_trait::async_trait]
impl Reaction for FailsOnce {
    fn name(&self) -> &'static str {
        "test.fails_once"
    }
    async fn on(&self, _: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        if matches!(event, DomainEvent::MessageReceived { .. }) && !self.0.swap(true, Ordering::SeqCst) {
            return Err(atende_core::ServiceError::Internal("the process died here".into()));
        }
        Ok(())
    }
}

/// The product's reactions plus `extra`: what a new feature's registration does.
fn with_extra(extra: Vec<Arc<dyn Reaction>>) -> impl FnOnce(&mut Deps) {
    move |deps: &mut Deps| {
        let mut all: Vec<Arc<dyn Reaction>> = Vec::new();
        all.extend(extra);
        let product = atende_core::features::reactions();
        assert_eq!(
            product.names(),
            [
                "campaigns.replies",
                "flows.triggers",
                "routing.new_session",
                "keep_alive.arm",
                "business_hours.auto_reply",
                "conversations.read_receipt",
                "csat.survey",
                "campaigns.statuses",
                "campaigns.template_hold",
                "campaigns.quality_drop",
                "transcription.queue",
                "reports.counters",
                "live.feed",
                "webhooks.publish",
            ]
        );
        deps.reactions = Arc::new(Reactions::new(all.into_iter().chain(product.into_vec()).collect()));
    }
}

#[tokio::test]
async fn a_new_reaction_sees_each_customer_message_once_without_touching_inbound() {
    let recorder = Arc::new(Recorder::default());
    let stack = Stack::with_deps(with_extra(vec![recorder.clone()])).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    for text in ["oi", "tudo bem?", "preciso de ajuda"] {
        stack.deliver(&customer(1, text, stack.now())).await;
        stack.advance(Duration::seconds(1)).await;
    }
    stack.settle().await;
    let events = recorder.0.lock().unwrap().clone();
    let opened: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::MessageReceived { new_session, .. } => Some(*new_session),
            DomainEvent::ContactChanged { change: ContactChange::Created, .. } => None,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(opened, vec![true, false, false], "one event per message; the first opened the session");
    let created = events.iter().filter(|e| matches!(e, DomainEvent::ContactChanged { .. })).count();
    assert_eq!(created, 1, "the new contact, once");

    let session = newest_pending(&stack, &t).await;
    let (status, _) =
        stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK);
    stack.settle().await;
    let last = recorder.0.lock().unwrap().last().cloned().unwrap();
    assert!(matches!(last, DomainEvent::SessionAssumed { ref session_id, .. } if *session_id == session));
    assert_eq!(stack.graph.read_receipts().len(), 1, "the read receipt is a reaction too");
}

#[tokio::test]
async fn reactions_lost_to_a_crash_after_the_commit_run_on_redelivery_and_take_effect_once() {
    let stack = Stack::with_deps(with_extra(vec![Arc::new(FailsOnce::default())])).await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = distributing_team(&stack, &t, None).await;
    let keep_alive = json!({"idle_minutes": 30, "inactivity_message": "Ainda está aí?", "close_minutes": 10, "closing_message": "Encerrando.", "enabled": true});
    let (status, _) = stack
        .call(Method::PUT, &format!("/v1/channels/{channel}/keep-alive"), &t.token, Some(keep_alive))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The first message's reactions fail after it is stored; the job is redelivered.
    stack.deliver(&customer(1, "oi", stack.now())).await;
    stack.settle().await;
    let first = newest_pending(&stack, &t).await;
    let (_, messages) =
        stack.call(Method::GET, &format!("/v1/sessions/{first}/messages"), &t.token, None).await;
    assert_eq!(messages["items"].as_array().unwrap().len(), 1, "stored once");
    assert_eq!(designated(&stack, &t, &first).await, Some(team.members["ana"].0.clone()), "routed after all");

    // Routing ran once in effect: the next customer gets the next member in turn.
    stack.deliver(&customer(2, "olá", stack.now())).await;
    stack.settle().await;
    let second = newest_pending(&stack, &t).await;
    assert_eq!(designated(&stack, &t, &second).await, Some(team.members["duda"].0.clone()));

    // Keep-alive was armed once: one inactivity message per silent customer.
    stack.pass(Duration::minutes(31)).await;
    assert_eq!(system_texts(&stack), vec!["Ainda está aí?", "Ainda está aí?"]);
}
