//! Live updates: a client that was away reads what it missed, in order; only what the
//! caller may see reaches them.

use crate::routing::customer;
use crate::stack::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures::StreamExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// An open Server-Sent Events stream of the API.
struct Sse {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Sse {
    async fn open(stack: &Stack, token: &str, last_event_id: Option<u64>) -> Sse {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/v1/live/stream")
            .header("authorization", format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = stack.api.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Sse { body: response.into_body().into_data_stream(), buffer: String::new() }
    }

    /// The next event: (id, event name, data); keep-alive comments skipped.
    async fn next(&mut self) -> (u64, String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_owned()))
                };
                let (Some(id), Some(event), Some(data)) = (field("id:"), field("event:"), field("data:"))
                else {
                    continue;
                };
                return (id.parse().unwrap(), event, serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), self.body.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream stays open")
                .unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test]
async fn a_client_away_for_30_seconds_while_100_messages_arrive_gets_every_one_in_order_on_reconnect() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let mut stream = Sse::open(&stack, &t.token, None).await;
    stack.deliver(&customer(1, "oi", stack.now())).await;
    stack.drain().await;
    // The first message: its contact, its session, the message itself.
    let mut seen = Vec::new();
    while seen.last().is_none_or(|(_, kind, _): &(u64, String, Value)| kind != "message.received") {
        seen.push(stream.next().await);
    }
    let kinds: Vec<&str> = seen.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["contact.created", "session.created", "message.received"]);
    let last = seen.last().unwrap().0;
    drop(stream);

    // Away for 30 s while 100 more messages arrive.
    for n in 0..100 {
        stack.advance(chrono::Duration::milliseconds(300)).await;
        stack.deliver(&customer(1, &format!("mensagem {n}"), stack.now())).await;
        stack.drain().await;
    }
    let mut stream = Sse::open(&stack, &t.token, Some(last)).await;
    let mut back = Vec::new();
    for _ in 0..100 {
        back.push(stream.next().await);
    }
    assert!(back.iter().all(|(_, kind, _)| kind == "message.received"), "{back:?}");
    let seqs: Vec<u64> = back.iter().map(|(seq, _, _)| *seq).collect();
    assert_eq!(seqs, (last + 1..=last + 100).collect::<Vec<_>>(), "every one, in order");
    // In the order they were stored: the session's messages, oldest first.
    let session = seen[1].2["data"]["session_id"].as_str().unwrap().to_owned();
    let mut stored: Vec<String> = stack
        .all_messages(&t.token, &session)
        .await
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    stored.reverse();
    let told: Vec<String> =
        back.iter().map(|(_, _, e)| e["data"]["message_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(told, stored[1..]);

    // The same through the plain read, from the same place.
    let (status, page) = stack.call(Method::GET, &format!("/v1/live?after={last}"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["events"].as_array().unwrap().len(), 100);
    assert_eq!(page["last_seq"], last + 100);
    assert_eq!(page["reload"], false);
}

#[tokio::test]
async fn an_agent_of_team_a_hears_nothing_of_team_b_and_a_client_behind_the_retention_is_told_to_reload() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    // Team B (the default team: new sessions wait there) and Ana, an agent of team A only.
    let (_, team_a) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "A"}))).await;
    let team_a = team_a["id"].as_str().unwrap().to_owned();
    let (ana, ana_token) = stack.user(&t, "ana@acme.example", "agent").await;
    stack
        .call(
            Method::PUT,
            &format!("/v1/teams/{team_a}/members/{ana}"),
            &t.token,
            Some(json!({"member": true})),
        )
        .await;
    let (_, start) = stack.call(Method::GET, "/v1/live", &ana_token, None).await;
    let from = start["last_seq"].as_u64().unwrap();

    // A customer writes; the session waits in team B; the admin answers and completes it.
    stack.deliver(&customer(7, "oi", stack.now())).await;
    stack.settle().await;
    let session = stack.sessions(&t.token, "pending").await[0]["id"].as_str().unwrap().to_owned();
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    stack.send_text(&t, &session, "Olá!").await;
    stack.settle().await;
    let (_, admin) = stack.call(Method::GET, &format!("/v1/live?after={from}"), &t.token, None).await;
    assert!(admin["events"].as_array().unwrap().len() >= 4, "{admin}");
    let (status, ana_page) =
        stack.call(Method::GET, &format!("/v1/live?after={from}"), &ana_token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ana_page["events"], json!([]), "nothing of team B reaches team A: {ana_page}");
    assert_eq!(ana_page["last_seq"], admin["last_seq"], "but she moves past it");

    // Transferred to team A: now her team's queue has it, and she hears it.
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/transfer"),
            &t.token,
            Some(json!({"team_id": team_a})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.settle().await;
    let after = ana_page["last_seq"].as_u64().unwrap();
    let (_, ana_page) = stack.call(Method::GET, &format!("/v1/live?after={after}"), &ana_token, None).await;
    let kinds: Vec<&str> =
        ana_page["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["session.transferred"], "{ana_page}");

    // A day later, the events she missed are gone: she is told to reload.
    stack.advance(atende_core::live::RETENTION + chrono::Duration::minutes(1)).await;
    stack.deliver(&customer(8, "bom dia", stack.now())).await;
    stack.settle().await;
    let token = stack.login("admin@acme.example", "a good password").await;
    let (_, stale) = stack.call(Method::GET, &format!("/v1/live?after={after}"), &token, None).await;
    assert_eq!(stale["reload"], true, "{stale}");
    assert_eq!(stale["events"], json!([]));
    let (_, fresh) =
        stack.call(Method::GET, &format!("/v1/live?after={}", stale["last_seq"]), &token, None).await;
    assert_eq!(fresh["reload"], false);
}

#[tokio::test]
async fn the_member_a_session_is_offered_to_hears_it_live_and_the_other_members_do_not() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = crate::routing::distributing_team(&stack, &t, None).await;
    let (ana, ana_token) = team.members["ana"].clone();
    let duda_token = team.members["duda"].1.clone();
    let (_, start) = stack.call(Method::GET, "/v1/live", &ana_token, None).await;
    let from = start["last_seq"].as_u64().unwrap();

    stack.deliver(&customer(3, "oi", stack.now())).await;
    stack.settle().await;
    assert_eq!(
        crate::routing::designated(&stack, &t, &crate::routing::newest_pending(&stack, &t).await).await,
        Some(ana.clone())
    );
    let (_, ana_page) = stack.call(Method::GET, &format!("/v1/live?after={from}"), &ana_token, None).await;
    let routed: Vec<&Value> =
        ana_page["events"].as_array().unwrap().iter().filter(|e| e["type"] == "session.routed").collect();
    assert_eq!(routed.len(), 1, "{ana_page}");
    assert_eq!(routed[0]["data"]["offered_to"], ana.as_str());
    let (_, duda_page) = stack.call(Method::GET, &format!("/v1/live?after={from}"), &duda_token, None).await;
    assert!(
        duda_page["events"].as_array().unwrap().iter().all(|e| e["type"] != "session.routed"),
        "offered to Ana only: {duda_page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_appended_concurrently_all_reach_a_stream_in_sequence() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let mut stream = Sse::open(&stack, &t.token, None).await;
    // 60 customers at once, applied by 4 inbound consumers racing for the sequence.
    let stack = &stack;
    let deliveries = (0..60).map(|n| {
        let payload = customer(100 + n, "oi", stack.now());
        async move { stack.deliver(&payload).await }
    });
    futures::future::join_all(deliveries).await;
    let drains = (0..4).map(|_| stack.drain_function("inbound"));
    futures::future::join_all(drains).await;
    stack.drain().await;
    let mut seqs = Vec::new();
    let mut received = 0;
    while received < 60 {
        let (seq, kind, _) = stream.next().await;
        seqs.push(seq);
        received += usize::from(kind == "message.received");
    }
    let expected: Vec<u64> = (seqs[0]..seqs[0] + seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "no sequence skipped, none twice");
}
