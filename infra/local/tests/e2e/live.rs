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
    let (team_a, ana_token) = team_a_with_ana(&stack, &t).await;
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
    transfer_to_team(&stack, &t, &session, &team_a).await;
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

/// The admin transfers `session` to `team`; its consequences settle.
async fn transfer_to_team(stack: &Stack, t: &Tenant, session: &str, team: &str) {
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/transfer"),
            &t.token,
            Some(json!({"team_id": team})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.settle().await;
}

/// Team A and Ana, an agent of team A only: its id and her token.
async fn team_a_with_ana(stack: &Stack, t: &Tenant) -> (String, String) {
    let (_, team_a) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "A"}))).await;
    let team_a = team_a["id"].as_str().unwrap().to_owned();
    let (ana, ana_token) = stack.user(t, "ana@acme.example", "agent").await;
    stack
        .call(
            Method::PUT,
            &format!("/v1/teams/{team_a}/members/{ana}"),
            &t.token,
            Some(json!({"member": true})),
        )
        .await;
    (team_a, ana_token)
}

/// API Gateway's event for a WebSocket route.
fn socket_event(route: &str, connection: &str, ticket: Option<&str>) -> Value {
    json!({
        "requestContext": {"routeKey": route, "connectionId": connection, "eventType": route.trim_start_matches('$').to_uppercase()},
        "queryStringParameters": ticket.map(|t| json!({"ticket": t})),
    })
}

/// The table stream's records of the live events after `after` (what `push` is fed on AWS).
async fn stream_records(stack: &Stack, token: &str, account: &str, after: u64) -> (Value, u64) {
    let (_, page) = stack.call(Method::GET, &format!("/v1/live?after={after}"), token, None).await;
    let last = page["last_seq"].as_u64().unwrap();
    let records: Vec<Value> = (after + 1..=last)
        .map(|seq| {
            json!({"eventName": "INSERT", "dynamodb": {
                "Keys": {"pk": {"S": format!("LIVE#{account}")}, "sk": {"S": format!("{seq:020}")}},
                "SequenceNumber": format!("sn-{seq}")}})
        })
        .collect();
    (json!({"Records": records}), last)
}

async fn ticket(stack: &Stack, token: &str) -> String {
    let (status, body) = stack.call(Method::POST, "/v1/live/ticket", token, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["url"], Value::Null, "no WebSocket API here: the SSE stream serves live updates");
    body["ticket"].as_str().unwrap().to_owned()
}

async fn on_aws_websockets_each_connection_gets_what_its_user_may_see_and_gone_ones_are_forgotten(
    stack: Stack,
) {
    use atende_aws::{ApiGatewaySockets, AwsConnection, Clients};
    let sockets = atende_testkit::fake_sockets::FakeSockets::start().await;
    let clients = Clients::connect(&AwsConnection {
        endpoint: None,
        region: Some("us-east-1".into()),
        dummy_credentials: true,
        lambda_environment: false,
    })
    .await;
    // The real management client, pointed at the fake API Gateway.
    let poster = ApiGatewaySockets::new(&clients.config, &sockets.base_url);
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (team_a, ana_token) = team_a_with_ana(&stack, &t).await;

    // Connect: a ticket opens one connection, once; a forged or stale one opens none.
    let connect = |connection: &'static str, ticket: String| {
        let ctx = stack.ctx.clone();
        async move { atende_live::on_socket(&ctx, &socket_event("$connect", connection, Some(&ticket))).await }
    };
    let ana_ticket = ticket(&stack, &ana_token).await;
    assert_eq!(connect("ana-1", ana_ticket.clone()).await["statusCode"], 200);
    assert_eq!(connect("thief", ana_ticket).await["statusCode"], 401, "a ticket opens one connection");
    assert_eq!(connect("forged", "0".repeat(32)).await["statusCode"], 401);
    let late = ticket(&stack, &t.token).await;
    stack.advance(chrono::Duration::minutes(2)).await;
    assert_eq!(connect("late", late).await["statusCode"], 401, "a ticket lives a minute");
    assert_eq!(connect("admin-1", ticket(&stack, &t.token).await).await["statusCode"], 200);
    assert_eq!(connect("admin-2", ticket(&stack, &t.token).await).await["statusCode"], 200);
    let ping = atende_live::on_socket(&stack.ctx, &json!({"requestContext": {"routeKey": "$default", "connectionId": "ana-1"}, "body": "{\"action\":\"ping\"}"})).await;
    assert_eq!(ping["statusCode"], 200);

    // A customer writes: the session waits in the default team, not Ana's.
    let (_, start) = stack.call(Method::GET, "/v1/live", &t.token, None).await;
    let from = start["last_seq"].as_u64().unwrap();
    sockets.leave("admin-2");
    stack.deliver(&customer(7, "oi", stack.now())).await;
    stack.settle().await;
    let (records, last) = stream_records(&stack, &t.token, &t.account, from).await;
    let answer = atende_live::on_stream(&stack.ctx, &poster, &records).await;
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    let seqs = |posts: Vec<Value>| posts.iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>();
    assert_eq!(
        seqs(sockets.posts("admin-1")),
        (from + 1..=last).collect::<Vec<_>>(),
        "the admin sees all, in order"
    );
    assert!(sockets.posts("admin-1").iter().any(|e| e["type"] == "message.received"));
    assert_eq!(sockets.posts("ana-1"), Vec::<Value>::new(), "nothing of another team reaches Ana");

    // Transferred to team A: Ana hears it. The gone connection was forgotten: no post to it.
    let session = stack.sessions(&t.token, "pending").await[0]["id"].as_str().unwrap().to_owned();
    transfer_to_team(&stack, &t, &session, &team_a).await;
    // API Gateway failing past the client's retries (three attempts).
    for _ in 0..3 {
        sockets.fail_next(500);
    }
    let (records, last_2) = stream_records(&stack, &t.token, &t.account, last).await;
    // The batch names the record to retry from; retried, it goes.
    let answer = atende_live::on_stream(&stack.ctx, &poster, &records).await;
    assert_eq!(answer["batchItemFailures"][0]["itemIdentifier"], format!("sn-{}", last + 1), "{answer}");
    let answer = atende_live::on_stream(&stack.ctx, &poster, &records).await;
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    // The connections the failed run did reach get the event again: a client drops a
    // repeat by its sequence.
    let mut kinds: Vec<(u64, Value)> =
        sockets.posts("ana-1").iter().map(|e| (e["seq"].as_u64().unwrap(), e["type"].clone())).collect();
    kinds.dedup();
    assert_eq!(kinds, [(last + 1, json!("session.transferred"))]);
    assert_eq!(sockets.posts("admin-2"), Vec::<Value>::new());
    assert!(seqs(sockets.posts("admin-1")).ends_with(&[last_2]));

    // Disconnected: nothing more reaches Ana's connection.
    let bye = atende_live::on_socket(&stack.ctx, &socket_event("$disconnect", "ana-1", None)).await;
    assert_eq!(bye["statusCode"], 200);
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    stack.settle().await;
    let (records, _) = stream_records(&stack, &t.token, &t.account, last_2).await;
    let before = sockets.posts("ana-1").len();
    atende_live::on_stream(&stack.ctx, &poster, &records).await;
    assert_eq!(sockets.posts("ana-1").len(), before, "a closed connection gets nothing");
}

crate::on_both_backends!(
    on_aws_websockets_each_connection_gets_what_its_user_may_see_and_gone_ones_are_forgotten
);

#[tokio::test]
async fn the_internal_chat_reaches_its_audience_live_and_no_one_else() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let (_, team) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Suporte"}))).await;
    let team = team["id"].as_str().unwrap().to_owned();
    let (ana, ana_token) = stack.user(&t, "ana@acme.example", "agent").await;
    let (bia, bia_token) = stack.user(&t, "bia@acme.example", "agent").await;
    let (_, caio_token) = stack.user(&t, "caio@acme.example", "agent").await;
    for member in [&ana, &bia] {
        stack
            .call(
                Method::PUT,
                &format!("/v1/teams/{team}/members/{member}"),
                &t.token,
                Some(json!({"member": true})),
            )
            .await;
    }
    let (_, start) = stack.call(Method::GET, "/v1/live", &t.token, None).await;
    let from = start["last_seq"].as_u64().unwrap();
    let post = |token: &str, to: String, text: &str| {
        let (token, text) = (token.to_owned(), text.to_owned());
        let stack = &stack;
        async move {
            stack
                .call(Method::POST, &format!("/v1/chat/{to}/messages"), &token, Some(json!({"text": text})))
                .await
        }
    };
    let (status, m) = post(&ana_token, format!("team:{team}"), "Alguém cobre o plantão de sábado?").await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let (status, _) = post(&ana_token, format!("user:{bia}"), "Bia, pode me ajudar com o pedido 4521?").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(&t.token, "everyone".into(), "Reunião às 17h.").await;
    assert_eq!(status, StatusCode::CREATED);
    // Refused: a team one is not in, oneself, nothing to say, too much to say.
    assert_eq!(post(&caio_token, format!("team:{team}"), "oi").await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&caio_token, "user:nobody".into(), "oi").await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&ana_token, format!("user:{ana}"), "oi").await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&ana_token, "everyone".into(), "  ").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        post(&ana_token, "everyone".into(), &"x".repeat(5000)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let read = |token: &str, conversation: String| {
        let token = token.to_owned();
        let stack = &stack;
        async move { stack.call(Method::GET, &format!("/v1/chat/{conversation}/messages"), &token, None).await }
    };
    let texts = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
    };
    let (_, page) = read(&bia_token, format!("team:{team}")).await;
    assert_eq!(texts(&page), ["Alguém cobre o plantão de sábado?"]);
    let (_, page) = read(&bia_token, format!("user:{ana}")).await;
    assert_eq!(texts(&page), ["Bia, pode me ajudar com o pedido 4521?"], "one conversation for both of them");
    let (status, _) = read(&caio_token, format!("team:{team}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = read(&caio_token, format!("user:{ana}")).await;
    assert_eq!(texts(&page), Vec::<String>::new(), "Caio's conversation with Ana is his own");
    let (_, page) = read(&caio_token, "everyone".into()).await;
    assert_eq!(texts(&page), ["Reunião às 17h."]);

    // Live: each hears exactly the messages of their conversations.
    stack.settle().await;
    let heard = |token: &str| {
        let token = token.to_owned();
        let stack = &stack;
        async move {
            let (_, page) = stack.call(Method::GET, &format!("/v1/live?after={from}"), &token, None).await;
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "chat.message")
                .map(|e| e["data"]["conversation"].as_str().unwrap().split(':').next().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(heard(&bia_token).await, ["team", "dm", "everyone"]);
    assert_eq!(heard(&caio_token).await, ["everyone"]);
    assert_eq!(heard(&t.token).await, ["team", "everyone"], "admins read team chats, not direct ones");
    let (_, list) = stack.call(Method::GET, "/v1/chat", &caio_token, None).await;
    let ids: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"everyone") && ids.contains(&format!("user:{ana}").as_str()), "{list}");
    assert!(!ids.contains(&format!("team:{team}").as_str()), "not his team: {list}");
}
