//! Outbound webhooks: signed as the Standard Webhooks library verifies, one delivery per
//! endpoint however often an event is published, retried on schedule with the same id,
//! disabled by a 410, replayed on demand, never sent to an internal address.

use crate::stack::*;
use atende_providers::outbound_http::GuardedHttp;
use atende_providers::standard_webhooks::{StandardWebhooks, sign};
use atende_testkit::fake_receiver::FakeReceiver;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A stack whose webhooks may reach `receiver` (on loopback) and in which
/// `crm.intranet.example` resolves to 10.1.2.3.
async fn stack_for(receiver: &FakeReceiver) -> Stack {
    let allow = vec![receiver.addr];
    let hosts = HashMap::from([("crm.intranet.example".to_owned(), vec!["10.1.2.3".parse().unwrap()])]);
    Stack::with_deps(move |deps| {
        deps.webhooks = Arc::new(StandardWebhooks::new(GuardedHttp::with_hosts(allow, hosts)));
    })
    .await
}

/// A new endpoint: (id, secret).
async fn endpoint(stack: &Stack, t: &Tenant, url: &str, types: &[&str]) -> (String, String) {
    let (status, body) = stack
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            &t.token,
            Some(json!({"url": url, "event_types": types})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["secret"].as_str().unwrap().starts_with("whsec_"));
    (body["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
}

/// Each case `{secret, headers, body}` through the `standardwebhooks` package: its verdicts.
fn verify_with_the_library(cases: &[Value]) -> Vec<Value> {
    use std::io::Write;
    let python = std::env::var("ATENDE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = atende_testkit::fixtures::repo_root().join("tools/verify_standard_webhooks.py");
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut input = child.stdin.take().unwrap();
    for case in cases {
        writeln!(input, "{case}").unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the verifier needs `pip install standardwebhooks` (scripts/test does it)");
    let verdicts: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(verdicts.len(), cases.len(), "one verdict per case");
    verdicts
}

/// A real session of the fixture customer (opened by the message `wamid`), and the domain
/// event of its completion (published by hand, as a redelivered job would).
async fn completion(stack: &Stack, t: &Tenant, wamid: &str) -> atende_core::events::DomainEvent {
    stack.deliver(&text_from_customer(wamid, "oi", stack.now())).await;
    stack.drain().await;
    let (_, sessions) = stack.call(Method::GET, "/v1/sessions?tab=pending", &t.token, None).await;
    let session = sessions["items"][0]["id"].as_str().unwrap_or_else(|| panic!("{sessions}")).to_owned();
    assert_eq!(stack.complete_for_good(t, &session).await.0, StatusCode::OK);
    stack.drain().await;
    atende_core::events::DomainEvent::SessionCompleted {
        account_id: t.account.clone(),
        session_id: session,
        at: Some(stack.now()),
    }
}

fn case(secret: &str, headers: Value, body: &str) -> Value {
    json!({"secret": secret, "headers": headers, "body": body})
}

#[tokio::test]
async fn every_delivery_verifies_with_the_standard_webhooks_library_and_a_tampered_body_or_a_ten_minute_old_timestamp_does_not()
 {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (_, secret) = endpoint(&stack, &t, &receiver.url("crm"), &[]).await;
    let session = stack.assumed_session(&t, "wamid.one").await;
    stack.deliver(&text_from_customer("wamid.two", "tudo bem?", stack.now())).await;
    assert_eq!(stack.complete_for_good(&t, &session).await.0, StatusCode::OK);
    stack.settle().await;

    let got = receiver.at("crm");
    let types: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    for expected in ["message.received", "session.created", "session.assigned", "session.completed"] {
        assert!(types.iter().any(|t| t == expected), "{expected} in {types:?}");
    }
    assert_eq!(types.iter().filter(|t| *t == "message.received").count(), 2);
    let ids: BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), got.len(), "one delivery per event");
    let body = got[0].json();
    assert!(body["timestamp"].is_string() && body["data"].is_object(), "{{type, timestamp, data}}: {body}");
    assert!(!got.iter().any(|r| r.body.contains("tudo bem")), "ids and facts, never a message body");

    // The reference library verifies every delivery…
    let verdicts =
        verify_with_the_library(&got.iter().map(|r| case(&secret, r.headers(), &r.body)).collect::<Vec<_>>());
    assert!(verdicts.iter().all(|v| v["ok"] == true), "{verdicts:?}");
    // …and refuses a tampered body, a timestamp ten minutes old (signed correctly) and a
    // wrong secret.
    let r = &got[0];
    let tampered = r.body.replace("\"data\"", "\"dat4\"");
    let old = stack.now().timestamp() - 600;
    let old_headers = json!({
        "webhook-id": r.id, "webhook-timestamp": old.to_string(),
        "webhook-signature": sign(&atende_core::secret::Secret::new(secret.clone()), &r.id, old, &r.body),
    });
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let verdicts = verify_with_the_library(&[
        case(&secret, r.headers(), &tampered),
        case(&secret, old_headers, &r.body),
        case(other, r.headers(), &r.body),
    ]);
    assert!(verdicts.iter().all(|v| v["ok"] == false), "{verdicts:?}");
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_for_the_grace_then_only_the_new_one() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (id, old) = endpoint(&stack, &t, &receiver.url("crm"), &["message.received"]).await;
    let (status, rotated) =
        stack.call(Method::POST, &format!("/v1/webhook-endpoints/{id}/rotate-secret"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let (_, listed) = stack.call(Method::GET, "/v1/webhook-endpoints", &t.token, None).await;
    assert!(!listed.to_string().contains("whsec_"), "secrets are never listed: {listed}");
    stack.deliver(&text_from_customer("wamid.1", "oi", stack.now())).await;
    stack.settle().await;
    let first = receiver.at("crm").pop().unwrap();
    assert_eq!(first.signature.split(' ').count(), 2, "two signatures during the grace");
    let verdicts = verify_with_the_library(&[
        case(&old, first.headers(), &first.body),
        case(&new, first.headers(), &first.body),
    ]);
    assert!(verdicts.iter().all(|v| v["ok"] == true), "{verdicts:?}");
    // A day later only the new secret signs (checked by our signer: the library's clock
    // would call that timestamp a day in the future).
    stack.advance(chrono::Duration::hours(25)).await;
    stack.deliver(&text_from_customer("wamid.2", "oi de novo", stack.now())).await;
    stack.settle().await;
    let later = receiver.at("crm").pop().unwrap();
    let secret = atende_core::secret::Secret::new(new);
    assert_eq!(later.signature, sign(&secret, &later.id, later.timestamp.parse().unwrap(), &later.body));
}

#[tokio::test]
async fn a_redelivered_domain_event_makes_one_delivery_per_endpoint() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    endpoint(&stack, &t, &receiver.url("a"), &["session.completed"]).await;
    endpoint(&stack, &t, &receiver.url("b"), &["session.completed"]).await;
    endpoint(&stack, &t, &receiver.url("c"), &["message.received"]).await;
    let completed = completion(&stack, &t, "wamid.ev1").await;
    for _ in 0..3 {
        stack.ctx.deps.publish(std::slice::from_ref(&completed)).await.unwrap();
        stack.settle().await;
    }
    assert_eq!(receiver.at("a").len(), 1);
    assert_eq!(receiver.at("b").len(), 1);
    assert!(
        receiver.at("c").iter().all(|r| r.json()["type"] == "message.received"),
        "c takes no session.completed"
    );
    assert_eq!(receiver.at("a")[0].id, receiver.at("b")[0].id, "one event, one id");
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_on_schedule_with_the_same_id_retry_after_honoured_and_a_410_disables_it()
 {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (id, _) = endpoint(&stack, &t, &receiver.url("crm"), &["session.completed"]).await;
    receiver.answer("crm", &[(500, None), (503, Some(600)), (500, None)]);
    let event = completion(&stack, &t, "wamid.ev2").await;
    stack.ctx.deps.publish(&[event]).await.unwrap();
    stack.drain().await;
    assert_eq!(receiver.at("crm").len(), 1, "the first attempt");
    stack.advance(chrono::Duration::seconds(4)).await;
    stack.drain().await;
    assert_eq!(receiver.at("crm").len(), 1, "not before 5 s");
    stack.advance(chrono::Duration::seconds(1)).await;
    stack.drain().await;
    assert_eq!(receiver.at("crm").len(), 2, "the retry after 5 s (answered 503, Retry-After 600)");
    stack.advance(chrono::Duration::minutes(5)).await;
    stack.drain().await;
    assert_eq!(receiver.at("crm").len(), 2, "the 503 asked for 10 minutes, longer than the schedule's 5");
    stack.advance(chrono::Duration::minutes(5)).await;
    stack.drain().await;
    assert_eq!(receiver.at("crm").len(), 3);
    // The next wait (30 minutes) is a timer: the scheduler's tick puts it back on the queue.
    stack.advance(chrono::Duration::minutes(30)).await;
    stack.tick().await;
    stack.drain().await;
    let got = receiver.at("crm");
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.id == got[0].id), "the same webhook-id on every attempt");
    assert_eq!(got[3].status, 204);
    let (_, log) =
        stack.call(Method::GET, &format!("/v1/webhook-endpoints/{id}/deliveries"), &t.token, None).await;
    let delivery = &log["items"][0];
    assert_eq!(delivery["status"], "delivered");
    let statuses: Vec<u64> =
        delivery["log"].as_array().unwrap().iter().map(|a| a["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [500, 503, 500, 204]);
    assert_eq!(delivery["log"][1]["excerpt"], "busy");

    // A 410 disables the endpoint at once, says why, and tells the admins (audit log).
    receiver.answer("crm", &[(410, None)]);
    let again = completion(&stack, &t, "wamid.ev3").await;
    stack.ctx.deps.publish(&[again]).await.unwrap();
    stack.settle().await;
    let (_, e) = stack.call(Method::GET, &format!("/v1/webhook-endpoints/{id}"), &t.token, None).await;
    assert_eq!(
        (e["enabled"].as_bool(), e["disabled_reason"].as_str()),
        (Some(false), Some("the endpoint answered 410 Gone"))
    );
    let (_, audit) =
        stack.call(Method::GET, "/v1/audit?action=webhook_endpoint.disabled", &t.token, None).await;
    assert_eq!(audit["items"][0]["target_id"], id.as_str());
    let before = receiver.at("crm").len();
    let third = completion(&stack, &t, "wamid.ev4").await;
    stack.ctx.deps.publish(&[third]).await.unwrap();
    stack.settle().await;
    assert_eq!(receiver.at("crm").len(), before, "a disabled endpoint gets nothing");
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (id, _) = endpoint(&stack, &t, &receiver.url("down"), &["session.completed"]).await;
    receiver.answer("down", &[(500, None); 200]);
    // An event a day; each delivery's retries (timers) fire as the days pass.
    let mut t = t;
    for day in 0..6 {
        if day == 5 {
            let (_, e) =
                stack.call(Method::GET, &format!("/v1/webhook-endpoints/{id}"), &t.token, None).await;
            assert_eq!(e["enabled"], true, "failing for four days is not enough: {e}");
        }
        completion(&stack, &t, &format!("wamid.{day}")).await;
        for _ in 0..24 {
            stack.advance(chrono::Duration::hours(1)).await;
            stack.tick().await;
            stack.drain().await;
        }
        t.token = stack.login("admin@acme.example", "a good password").await;
    }
    let (_, e) = stack.call(Method::GET, &format!("/v1/webhook-endpoints/{id}"), &t.token, None).await;
    assert_eq!(e["enabled"], false, "{e}");
    assert_eq!(e["disabled_reason"], "every delivery failed for five days");
}

#[tokio::test]
async fn replay_sends_one_event_or_everything_since_a_time_again_with_the_same_ids() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (id, _) = endpoint(&stack, &t, &receiver.url("crm"), &["session.completed"]).await;
    let start = stack.now();
    for n in 0..3 {
        let event = completion(&stack, &t, &format!("wamid.{}", n)).await;
        stack.ctx.deps.publish(&[event]).await.unwrap();
        stack.settle().await;
        stack.advance(chrono::Duration::minutes(1)).await;
    }
    let first: Vec<String> = receiver.at("crm").iter().map(|r| r.id.clone()).collect();
    assert_eq!(first.len(), 3);
    let path = format!("/v1/webhook-endpoints/{id}/replay");
    let (status, one) = stack.call(Method::POST, &path, &t.token, Some(json!({"event_id": first[1]}))).await;
    assert_eq!((status, one["deliveries"].as_u64()), (StatusCode::ACCEPTED, Some(1)));
    stack.settle().await;
    assert_eq!(receiver.at("crm").last().unwrap().id, first[1]);
    let since = (start + chrono::Duration::seconds(30)).to_rfc3339();
    let (_, some) = stack.call(Method::POST, &path, &t.token, Some(json!({"since": since}))).await;
    assert_eq!(some["deliveries"], 2);
    stack.settle().await;
    let replayed: Vec<String> = receiver.at("crm")[4..].iter().map(|r| r.id.clone()).collect();
    assert_eq!(replayed.iter().collect::<BTreeSet<_>>(), first[1..].iter().collect::<BTreeSet<_>>());
    let (status, body) = stack.call(Method::POST, &path, &t.token, Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn internal_targets_are_refused_when_saved_and_a_name_resolving_to_10_x_when_delivering() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "ftp://example.com/x",
    ] {
        let (status, body) =
            stack.call(Method::POST, "/v1/webhook-endpoints", &t.token, Some(json!({"url": url}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
    }
    // A name is checked at each delivery, on the addresses it resolves to.
    let (id, _) = endpoint(&stack, &t, "http://crm.intranet.example/hook", &["session.completed"]).await;
    let event = completion(&stack, &t, "wamid.ev7").await;
    stack.ctx.deps.publish(&[event]).await.unwrap();
    stack.drain().await;
    let (_, log) =
        stack.call(Method::GET, &format!("/v1/webhook-endpoints/{id}/deliveries"), &t.token, None).await;
    let attempt = &log["items"][0]["log"][0];
    assert_eq!(attempt["status"], Value::Null, "no request was made: {attempt}");
    assert!(attempt["excerpt"].as_str().unwrap().contains("non-public address (10.1.2.3)"), "{attempt}");
    assert_eq!(log["items"][0]["status"], "pending", "retried later (the name may change)");
}

#[tokio::test]
async fn contacts_tags_transfers_replies_statuses_and_completions_reach_an_endpoint_once_each() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let every: Vec<&str> = atende_core::webhooks::EVENT_TYPES.to_vec();
    endpoint(&stack, &t, &receiver.url("all"), &every).await;
    let (ana, _) = stack.user(&t, "ana@acme.example", "agent").await;
    stack
        .call(
            Method::PUT,
            &format!("/v1/teams/{}/members/{ana}", t.default_team),
            &t.token,
            Some(json!({"member": true})),
        )
        .await;
    let (_, tag) = stack.call(Method::POST, "/v1/tags", &t.token, Some(json!({"name": "vip"}))).await;
    let tag = tag["id"].as_str().unwrap().to_owned();

    // A contact made by hand, then tagged.
    let (_, contact) =
        stack.call(Method::POST, "/v1/contacts", &t.token, Some(json!({"phone": "+5511912345678"}))).await;
    let contact = contact["id"].as_str().unwrap().to_owned();
    let (status, body) = stack
        .call(Method::PATCH, &format!("/v1/contacts/{contact}"), &t.token, Some(json!({"tags": [tag]})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A conversation: assumed, answered (the answer read), transferred to Ana, completed.
    let session = stack.assumed_session(&t, "wamid.hooks1").await;
    stack.send_text(&t, &session, "Olá!").await;
    stack.settle().await;
    let wamid = stack.messages(&t.token, &session).await[0]["provider_id"].as_str().unwrap().to_owned();
    stack.deliver(&status_payload("delivered", &wamid)).await;
    stack.deliver(&status_payload("read", &wamid)).await;
    stack.deliver(&status_payload("read", &wamid)).await; // Meta repeats itself
    stack.settle().await;
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/transfer"),
            &t.token,
            Some(json!({"user_id": ana})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stack.complete_for_good(&t, &session).await.0, StatusCode::OK);
    // The hand-made contact is erased (LGPD): its last event.
    let (status, body) =
        stack.call(Method::POST, &format!("/v1/contacts/{contact}/erasure"), &t.token, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    stack.settle().await;

    let got: Vec<Value> = receiver.at("all").iter().map(|r| r.json()).collect();
    let of = |kind: &str| got.iter().filter(|e| e["type"] == kind).cloned().collect::<Vec<_>>();
    let created = of("contact.created");
    assert!(created.iter().any(|e| e["data"]["contact_id"] == contact.as_str()), "{got:?}");
    assert_eq!(of("tag.added").len(), 1, "{got:?}");
    assert_eq!(of("tag.added")[0]["data"], json!({"tag_id": tag, "target": "contact", "target_id": contact}));
    assert!(of("contact.updated").iter().any(|e| e["data"]["contact_id"] == contact.as_str()));
    let transferred = of("session.transferred");
    assert_eq!(transferred.len(), 1, "{got:?}");
    assert_eq!(transferred[0]["data"]["to_agent_id"], ana.as_str());
    assert_eq!(transferred[0]["data"]["by"], t.admin.as_str());
    let replies = of("message.created");
    assert_eq!(replies.len(), 1, "{got:?}");
    assert_eq!(replies[0]["data"]["session_id"], session.as_str());
    let statuses: BTreeSet<String> = of("message.status_changed")
        .iter()
        .map(|e| e["data"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["sent".into(), "delivered".into(), "read".into()]), "{got:?}");
    assert_eq!(of("message.status_changed").len(), 3, "the repeated read is one event");
    assert_eq!(of("session.completed").len(), 1);
    assert_eq!(of("contact.erased").len(), 1, "{got:?}");
    assert_eq!(of("contact.erased")[0]["data"]["contact_id"], contact.as_str());
    assert_eq!(of("session.assigned").len(), 1);
    // Every delivery is a distinct event.
    let ids: BTreeSet<String> = receiver.at("all").iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), got.len());
}

#[tokio::test]
async fn events_committed_with_a_change_are_published_by_their_timer_when_the_caller_never_got_to() {
    let receiver = FakeReceiver::start().await;
    let stack = stack_for(&receiver).await;
    let t = stack.tenant("Acme").await;
    endpoint(&stack, &t, &receiver.url("a"), &["contact.updated"]).await;
    // A change's transaction committed with its events; then the process died before it
    // published them (nothing released them).
    let deps = &stack.ctx.deps;
    let event = atende_core::events::DomainEvent::ContactChanged {
        account_id: t.account.clone(),
        contact_id: "c1".into(),
        change: atende_core::events::ContactChange::Updated,
        at: stack.now(),
    };
    let (write, _lost) = atende_core::outbox::stage(deps, vec![event]).unwrap();
    deps.table.transact(vec![write]).await.unwrap();
    stack.settle().await;
    assert!(receiver.at("a").is_empty(), "not before its time");
    stack.advance(atende_core::outbox::RESCUE_AFTER + chrono::Duration::seconds(1)).await;
    stack.settle().await;
    let got = receiver.at("a");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["contact_id"], "c1");
}
