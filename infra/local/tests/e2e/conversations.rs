//! Whole conversations: WhatsApp in, agents, WhatsApp out, statuses back.

use crate::stack::*;
use atende_testkit::fake_graph::Fault;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn a_customer_writes_an_agent_assumes_and_answers_and_every_status_comes_back(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;

    assert_eq!(stack.deliver(&fixture("message.json", "text")).await, StatusCode::OK);
    stack.settle().await;
    let pending = stack.sessions(&t.token, "pending").await;
    assert_eq!(pending.len(), 1);
    let session = id(&pending[0]);
    assert_eq!(pending[0]["team_id"], t.default_team.as_str(), "new sessions wait in the default team");
    assert_eq!(pending[0]["status"], "pending");
    let inbound = stack.messages(&t.token, &session).await;
    assert_eq!(inbound[0]["text"], "Body Text");
    assert_eq!(inbound[0]["direction"], "in");
    assert!(stack.graph.read_receipts().is_empty(), "no read receipt before someone assumes");

    let (status, assumed) =
        stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{assumed}");
    assert_eq!(assumed["owner_id"], t.admin.as_str());
    stack.settle().await;
    let receipts = stack.graph.read_receipts();
    assert_eq!(receipts.len(), 1);
    assert_eq!(
        receipts[0].body,
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.xyzxyz"})
    );

    let (status, sent) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "Olá! Como posso ajudar?"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["status"], "queued");
    stack.settle().await;
    let sends = stack.graph.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].phone_number_id, FIXTURE_PHONE_ID);
    assert_eq!(sends[0].authorization, "Bearer test-token");
    assert_eq!(
        sends[0].body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": FIXTURE_WA_ID,
               "type": "text", "text": {"preview_url": false, "body": "Olá! Como posso ajudar?"}})
    );
    let out = &stack.messages(&t.token, &session).await[0];
    assert_eq!(out["status"], "sent");
    let wamid = out["provider_id"].as_str().unwrap().to_owned();

    // Out of order: read arrives before delivered; delivered must not pull it back.
    for kind in ["read", "delivered", "sent"] {
        assert_eq!(stack.deliver(&status_payload(kind, &wamid)).await, StatusCode::OK);
        stack.settle().await;
    }
    let out = &stack.messages(&t.token, &session).await[0];
    assert_eq!(out["status"], "read");
    assert!(out["read_at"].is_string());

    // A second answer whose `delivered` never comes: sent → read.
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "Mais algo?"})),
        )
        .await;
    stack.settle().await;
    let second = stack.messages(&t.token, &session).await[0].clone();
    let wamid2 = second["provider_id"].as_str().unwrap().to_owned();
    stack.deliver(&status_payload("read", &wamid2)).await;
    stack.settle().await;
    assert_eq!(stack.messages(&t.token, &session).await[0]["status"], "read");
}

/// The pywa fixtures reuse one wamid for many example payloads; each gets its own here, so
/// each stands for one distinct real message.
fn storm_events(outbound_a: &str, outbound_b: &str) -> (Vec<Value>, usize) {
    let mut events = Vec::new();
    let mut stored = 0;
    for file in ["message.json", "callback_button.json", "callback_selection.json", "system.json"] {
        for (name, mut payload) in fixture_cases(file) {
            let m = first_event(&mut payload, "messages");
            m["id"] = json!(format!("wamid.{file}.{name}"));
            if m["type"] != "reaction" {
                stored += 1;
            }
            events.push(payload);
        }
    }
    for (name, payload) in fixture_cases("message_status.json") {
        if name == "group" {
            continue;
        }
        let mut a = payload.clone();
        first_event(&mut a, "statuses")["id"] = json!(outbound_b);
        events.push(a);
        if name != "failed" {
            let mut b = payload;
            first_event(&mut b, "statuses")["id"] = json!(outbound_a);
            events.push(b);
        }
    }
    (events, stored)
}

async fn every_fixture_delivered_three_times_shuffled_by_16_senders_is_applied_once(stack: Stack) {
    use rand::seq::SliceRandom;
    let stack = std::sync::Arc::new(stack);
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    // Two answers of ours for the status fixtures to talk about.
    let session = stack.assumed_session(&t, "wamid.opening").await;
    for text in ["a", "b"] {
        stack
            .call(
                Method::POST,
                &format!("/v1/sessions/{session}/messages"),
                &t.token,
                Some(json!({"type": "text", "text": text})),
            )
            .await;
    }
    stack.settle().await;
    let outs: Vec<Value> =
        stack.messages(&t.token, &session).await.into_iter().filter(|m| m["direction"] == "out").collect();
    let (b, a) = (
        outs[0]["provider_id"].as_str().unwrap().to_owned(),
        outs[1]["provider_id"].as_str().unwrap().to_owned(),
    );

    let (events, distinct) = storm_events(&a, &b);
    let mut deliveries: Vec<Value> = events.iter().flat_map(|e| [e.clone(), e.clone(), e.clone()]).collect();
    deliveries.shuffle(&mut rand::thread_rng());
    let chunks: Vec<Vec<Value>> =
        deliveries.chunks(deliveries.len().div_ceil(16)).map(<[Value]>::to_vec).collect();
    let mut senders = Vec::new();
    for chunk in chunks {
        let stack = stack.clone();
        senders.push(tokio::spawn(async move {
            for payload in chunk {
                assert_eq!(stack.deliver(&payload).await, StatusCode::OK);
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    stack.settle().await;
    // Meta retries for hours, past the queue's 5-minute deduplication window: the
    // application's own idempotency must hold on its own.
    stack.advance(chrono::Duration::minutes(6)).await;
    for payload in &events {
        assert_eq!(stack.deliver(payload).await, StatusCode::OK);
    }
    stack.settle().await;
    let token = stack.login("admin@acme.example", "a good password").await;
    let t = Tenant { token, ..t };

    let all = stack.all_messages(&t.token, &session).await;
    let inbound: Vec<&Value> = all.iter().filter(|m| m["direction"] == "in").collect();
    assert_eq!(inbound.len(), distinct + 1, "each message stored once (+ the opening one)");
    let mut ids: Vec<&str> = inbound.iter().map(|m| m["provider_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), inbound.len(), "no message stored twice");
    let by = |w: &str| all.iter().find(|m| m["provider_id"] == w).unwrap().clone();
    assert_eq!(by(&a)["status"], "read", "sent, delivered, read, played in any order end read");
    assert_eq!(by(&b)["status"], "failed", "failed wins");
    assert_eq!(by(&b)["error"]["code"], 130472);
    assert!(by(&b)["error"]["reason"].as_str().unwrap().contains("marketing template"));
    let kinds: std::collections::BTreeSet<&str> =
        inbound.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    for kind in [
        "text",
        "image",
        "video",
        "document",
        "audio",
        "voice",
        "sticker",
        "location",
        "contacts",
        "order",
        "unsupported",
        "interactive_reply",
        "button_reply",
        "system",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    let reply = by("wamid.message.json.reply");
    assert_eq!(reply["reply_to"], "wamid.xyzxyz==");
    assert_eq!(by("wamid.message.json.forwarded")["forwarded"], true);
    assert_eq!(by("wamid.message.json.referral")["referral"]["ctwa_clid"], "CTWA_CLID");
    let unsupported = by("wamid.message.json.interactive_message_with_err");
    assert_eq!(unsupported["kind"], "unsupported");
    assert!(unsupported["content"].is_object(), "the raw payload is kept");
}

async fn bad_webhooks_are_refused_and_store_nothing_and_the_service_keeps_serving(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let body = fixture("message.json", "text").to_string();
    let (status, error) = stack.post_webhook(body.as_bytes(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(error["error"], "unauthorized");
    let (status, _) = stack.post_webhook(body.as_bytes(), Some("sha256=00ff".into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let forged = atende_providers::whatsapp::signature::sign(b"another secret", body.as_bytes());
    assert_eq!(stack.post_webhook(body.as_bytes(), Some(forged)).await.0, StatusCode::UNAUTHORIZED);
    assert!(stack.queue_is_empty("inbound").await, "nothing enqueued");

    let huge = vec![b' '; 1024 * 1024 + 1];
    let (status, error) = stack.post_webhook(&huge, Some(sign(&huge))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    let broken = b"{\"entry\": [";
    let (status, error) = stack.post_webhook(broken, Some(sign(broken))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"], "invalid_request");
    stack.settle().await;
    assert!(stack.sessions(&t.token, "pending").await.is_empty());

    assert_eq!(stack.deliver(&fixture("message.json", "text")).await, StatusCode::OK, "still serving");
    stack.settle().await;
    assert_eq!(stack.sessions(&t.token, "pending").await.len(), 1);
}

async fn meta_verify_handshake_echoes_the_challenge_only_for_the_right_token(stack: Stack) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let ask = |token: &str| {
        Request::builder()
            .uri(format!(
                "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
            ))
            .body(Body::empty())
            .unwrap()
    };
    let ok = stack.webhook.clone().oneshot(ask(VERIFY_TOKEN)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(axum::body::to_bytes(ok.into_body(), 100).await.unwrap().as_ref(), b"1158201444");
    assert_eq!(stack.webhook.clone().oneshot(ask("wrong")).await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn outside_the_window_free_text_waits_and_goes_out_in_order_when_the_customer_writes(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.first").await;
    stack.settle().await;
    stack.advance(chrono::Duration::hours(25)).await;
    let token = stack.login("admin@acme.example", "a good password").await;
    for text in ["primeira", "segunda"] {
        let (status, m) = stack
            .call(
                Method::POST,
                &format!("/v1/sessions/{session}/messages"),
                &token,
                Some(json!({"type": "text", "text": text})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(m["status"], "waiting_reply");
    }
    stack.settle().await;
    assert!(stack.graph.sends().is_empty(), "nothing goes out while the window is closed");

    stack.deliver(&text_from_customer("wamid.second", "voltei", stack.now())).await;
    stack.settle().await;
    let bodies: Vec<String> =
        stack.graph.sends().iter().map(|r| r.body["text"]["body"].as_str().unwrap().to_owned()).collect();
    assert_eq!(bodies, vec!["primeira", "segunda"]);
    let statuses: Vec<Value> = stack
        .messages(&token, &session)
        .await
        .iter()
        .filter(|m| m["direction"] == "out")
        .map(|m| m["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("sent"), json!("sent")]);
}

async fn a_permanent_meta_error_fails_at_once_and_transient_ones_are_retried_until_sent_once(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.in").await;

    stack.graph.fail_next([Fault::Meta { code: 131026, status: 400 }]);
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "x"})),
        )
        .await;
    stack.settle().await;
    let failed = stack.messages(&t.token, &session).await[0].clone();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], 131026);
    assert!(failed["error"]["reason"].as_str().unwrap().contains("could not deliver"));
    let stored = |m: &Value| {
        let (deps, account, id) = (&stack.ctx.deps, t.account.clone(), m["id"].as_str().unwrap().to_owned());
        async move { atende_core::conversations::messages::load(deps, &account, &id).await.unwrap() }
    };
    assert_eq!(stored(&failed).await.attempts, 1, "no retry");
    assert!(stack.graph.sends().is_empty());

    stack.graph.fail_next([
        Fault::Meta { code: 130429, status: 400 },
        Fault::Http(500),
        Fault::Stall(std::time::Duration::from_millis(800)),
    ]);
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "y"})),
        )
        .await;
    stack.settle().await;
    let sent = stack.messages(&t.token, &session).await[0].clone();
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(stored(&sent).await.attempts, 4);
    assert_eq!(stack.graph.sends().len(), 1, "sent exactly once");
}

async fn an_active_start_sends_the_template_and_the_reply_lands_in_the_same_session(stack: Stack) {
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, template) = stack
        .call(Method::POST, "/v1/templates", &t.token, Some(json!({"channel_id": channel, "name": "boas_vindas", "language": "pt_BR", "category": "utility", "body": "Olá {{1}}, tudo bem?"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    assert_eq!(template["status"], "pending");
    let (status, _) = stack
        .call(Method::POST, "/v1/sessions", &t.token, Some(json!({"phone": "+972 98 765 4321", "channel_id": channel, "team_id": t.default_team, "template_id": id(&template), "parameters": ["Ana"]})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unapproved template cannot start a session");

    // Meta approves it.
    let approval = json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "time": 1, "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_id": 1, "message_template_name": "boas_vindas", "message_template_language": "pt_BR", "reason": "NONE"}}]}]});
    assert_eq!(stack.deliver(&approval).await, StatusCode::OK);
    stack.settle().await;
    let (_, template) =
        stack.call(Method::GET, &format!("/v1/templates/{}", id(&template)), &t.token, None).await;
    assert_eq!(template["status"], "approved");

    let (status, started) = stack
        .call(Method::POST, "/v1/sessions", &t.token, Some(json!({"phone": "+972 98 765 4321", "channel_id": channel, "team_id": t.default_team, "template_id": id(&template), "parameters": ["Ana"]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["session"]["status"], "in_progress");
    assert_eq!(started["message"]["text"], "Olá Ana, tudo bem?");
    stack.settle().await;
    assert_eq!(
        stack.graph.sends()[0].body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": FIXTURE_WA_ID, "type": "template",
               "template": {"name": "boas_vindas", "language": {"policy": "deterministic", "code": "pt_BR"},
                            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}})
    );
    let session = started["session"]["id"].as_str().unwrap();
    stack.deliver(&text_from_customer("wamid.reply", "tudo ótimo", stack.now())).await;
    stack.settle().await;
    let messages = stack.messages(&t.token, session).await;
    assert_eq!(messages[0]["text"], "tudo ótimo", "the reply lands in the started session");
    assert!(stack.sessions(&t.token, "pending").await.is_empty(), "no second session");
}

async fn agents_act_only_on_their_own_sessions_unless_they_supervise_and_restricted_agents_see_only_theirs(
    stack: Stack,
) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (ana, ana_token) = stack.user(&t, "ana@acme.example", "agent").await;
    let (bia, bia_token) = stack.user(&t, "bia@acme.example", "agent").await;
    let (sup, sup_token) = stack.user(&t, "sup@acme.example", "agent").await;
    let (rita, rita_token) = stack.user(&t, "rita@acme.example", "restricted_agent").await;
    for (user, roles) in [
        (&ana, json!({"member": true})),
        (&bia, json!({"member": true})),
        (&sup, json!({"member": false, "supervisor": true})),
        (&rita, json!({"member": true})),
    ] {
        let (s, b) = stack
            .call(Method::PUT, &format!("/v1/teams/{}/members/{user}", t.default_team), &t.token, Some(roles))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    stack.deliver(&text_from_customer("wamid.c1", "oi", stack.now())).await;
    let mut other = text_from_customer("wamid.c2", "olá", stack.now());
    first_event(&mut other, "messages")["from"] = json!("5511987654321");
    other["entry"][0]["changes"][0]["value"]["contacts"] =
        json!([{"profile": {"name": "Outra"}, "wa_id": "5511987654321"}]);
    stack.deliver(&other).await;
    stack.settle().await;
    let pending = stack.sessions(&ana_token, "pending").await;
    assert_eq!(pending.len(), 2, "members see their team's queue");
    let (s1, s2) = (id(&pending[0]), id(&pending[1]));
    assert_eq!(
        stack.call(Method::POST, &format!("/v1/sessions/{s1}/assume"), &ana_token, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        stack.call(Method::POST, &format!("/v1/sessions/{s2}/assume"), &rita_token, None).await.0,
        StatusCode::OK
    );

    let text = Some(json!({"type": "text", "text": "intruso"}));
    let (status, _) =
        stack.call(Method::POST, &format!("/v1/sessions/{s1}/messages"), &bia_token, text.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another member's session is not theirs to see");
    assert_eq!(
        stack.call(Method::POST, &format!("/v1/sessions/{s1}/complete"), &bia_token, Some(json!({}))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stack
            .call(
                Method::POST,
                &format!("/v1/sessions/{s1}/messages"),
                &sup_token,
                Some(json!({"type": "text", "text": "supervisor aqui"}))
            )
            .await
            .0,
        StatusCode::CREATED
    );
    let others: Vec<String> = stack.sessions(&sup_token, "others").await.iter().map(id).collect();
    assert_eq!(others.len(), 2, "supervisors see every session of the team");
    assert!(stack.sessions(&bia_token, "others").await.is_empty());
    let rita_mine: Vec<String> = stack.sessions(&rita_token, "mine").await.iter().map(id).collect();
    assert_eq!(rita_mine, vec![s2.clone()]);
    assert_eq!(
        stack.call(Method::GET, &format!("/v1/sessions/{s1}"), &rita_token, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stack.call(Method::GET, "/v1/contacts", &rita_token, None).await.0,
        StatusCode::FORBIDDEN,
        "no contact base for restricted agents"
    );

    let (status, done) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{s1}/complete"),
            &ana_token,
            Some(json!({"classification": {"category": "won", "amount_cents": 1500}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(
        stack.sessions(&rita_token, "completed").await.is_empty(),
        "restricted agents see only their own completed sessions"
    );
    assert_eq!(stack.sessions(&bia_token, "completed").await.len(), 1, "the team's rule is `all`");
}

async fn the_send_delay_holds_a_message_which_can_be_cancelled_meanwhile(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, _) =
        stack.call(Method::PATCH, "/v1/account", &t.token, Some(json!({"send_delay_seconds": 10}))).await;
    assert_eq!(status, StatusCode::OK);
    stack.deliver(&text_from_customer("wamid.in", "oi", stack.now())).await;
    stack.drain().await;
    let session = id(&stack.sessions(&t.token, "pending").await[0]);
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    let (_, keep) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "fica"})),
        )
        .await;
    let (_, oops) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "ops"})),
        )
        .await;
    stack.drain().await;
    assert!(stack.graph.sends().is_empty(), "nothing before the delay");
    let (status, cancelled) =
        stack.call(Method::POST, &format!("/v1/messages/{}/cancel", id(&oops)), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    stack.settle().await;
    let bodies: Vec<Value> = stack.graph.sends().iter().map(|r| r.body["text"]["body"].clone()).collect();
    assert_eq!(bodies, vec![json!("fica")]);
    let (status, _) =
        stack.call(Method::POST, &format!("/v1/messages/{}/cancel", id(&keep)), &t.token, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "too late once sent");
}

async fn inbound_media_is_fetched_into_the_blob_store(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    stack.graph.add_media("65463453", b"\xff\xd8jpeg bytes", "image/jpeg");
    stack.deliver(&fixture("message.json", "image")).await;
    stack.drain().await;
    let session = id(&stack.sessions(&t.token, "pending").await[0]);
    let image = stack.messages(&t.token, &session).await[0].clone();
    assert_eq!(image["kind"], "image");
    let key = image["media"]["blob_key"].as_str().unwrap();
    let blob = stack.ctx.deps.blob.get(key).await.unwrap().unwrap();
    assert_eq!(blob.bytes, b"\xff\xd8jpeg bytes");
    assert_eq!(blob.content_type, "image/jpeg");
}

async fn pacing_never_lets_more_than_the_rate_through_in_any_one_second_window(stack: Stack) {
    use atende_core::conversations::delivery::{Lane, Slot, take_slot};
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    for (rate, seconds) in [(80u32, 3i64), (1000, 1)] {
        let mut sends: Vec<i64> = Vec::new();
        let start = stack.now();
        let end = start + chrono::Duration::seconds(seconds);
        // A millisecond at a time, with everyone trying as hard as they can: each sender
        // takes the slot it is given and sends at its time.
        while stack.now() < end {
            while let Slot::At(at) =
                take_slot(&stack.ctx.deps, &t.account, &channel, rate, Lane::Interactive).await.unwrap()
            {
                sends.push(at.timestamp_micros());
            }
            // No queue is involved: only the domain's clock moves.
            stack.clock.advance(chrono::Duration::milliseconds(1));
        }
        sends.sort_unstable();
        let mut busiest = 0;
        let mut first = 0;
        for (last, &at) in sends.iter().enumerate() {
            while at - sends[first] >= 1_000_000 {
                first += 1;
            }
            busiest = busiest.max(last + 1 - first);
        }
        assert!(busiest <= rate as usize, "{busiest} sends in one second at {rate}/s");
        // Even spacing: the slots of the period are used, at ≥ 97 % of the limit.
        let within = sends.iter().filter(|&&at| at < end.timestamp_micros()).count();
        let used = within as f64 / (seconds as f64 * f64::from(rate));
        assert!(used >= 0.97, "the rate is used, not just respected: {:.1} % at {rate}/s", used * 100.0);
        // The next rate starts on a fresh second.
        stack.clock.advance(chrono::Duration::seconds(2));
    }
}

async fn a_message_within_12h_reopens_the_session_for_its_agent_and_new_session_starts_afresh(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.1").await;
    stack.call(Method::POST, &format!("/v1/sessions/{session}/complete"), &t.token, Some(json!({}))).await;
    stack.advance(chrono::Duration::hours(11)).await;
    stack.deliver(&text_from_customer("wamid.2", "esqueci uma coisa", stack.now())).await;
    stack.settle().await;
    let mine = stack.sessions(&t.token, "mine").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(id(&mine[0]), session, "the same session, back with its agent");
    assert_eq!(mine[0]["owner_id"], t.admin.as_str());

    stack.complete_for_good(&t, &session).await;
    stack.deliver(&text_from_customer("wamid.3", "outra dúvida", stack.now())).await;
    stack.settle().await;
    let pending = stack.sessions(&t.token, "pending").await;
    assert_eq!(pending.len(), 1);
    assert_ne!(id(&pending[0]), session, "a new session after new_session");
}

async fn media_goes_out_by_link_and_the_agents_display_name_signs_text(stack: Stack) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    stack.call(Method::PATCH, "/v1/me", &t.token, Some(json!({"display_name": "Ana"}))).await;
    let session = stack.assumed_session(&t, "wamid.1").await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/uploads")
        .header("authorization", format!("Bearer {}", t.token))
        .header("content-type", "image/png")
        .body(Body::from(vec![0x89u8, b'P', b'N', b'G']))
        .unwrap();
    let response = stack.api.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let upload: Value =
        serde_json::from_slice(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap())
            .unwrap();
    let (status, m) = stack
        .call(Method::POST, &format!("/v1/sessions/{session}/messages"), &t.token,
            Some(json!({"type": "media", "kind": "image", "blob_key": upload["blob_key"], "caption": "o boleto"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "Segue."})),
        )
        .await;
    stack.settle().await;
    let sends = stack.graph.sends();
    assert_eq!(sends[0].body["type"], "image");
    assert_eq!(sends[0].body["image"]["caption"], "o boleto");
    // A presigned link to the upload: the local server's on embedded storage, S3's on AWS.
    let link = sends[0].body["image"]["link"].as_str().unwrap();
    assert!(link.contains(upload["blob_key"].as_str().unwrap()), "{link}");
    assert_eq!(sends[1].body["text"]["body"], "*Ana:*\nSegue.");
}

/// PUTs `bytes` as `content_type` to a grant of `POST /v1/uploads/presign`.
async fn put_to(grant: &Value, bytes: Vec<u8>, content_type: &str) -> reqwest::StatusCode {
    let mut request = reqwest::Client::new().put(grant["url"].as_str().unwrap()).body(bytes);
    for (name, value) in grant["headers"].as_object().unwrap() {
        let value = if name == "content-type" { content_type } else { value.as_str().unwrap() };
        request = request.header(name.as_str(), value);
    }
    request.send().await.unwrap().status()
}

async fn a_file_uploaded_straight_to_storage_is_checked_before_its_link_and_again_when_sent(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.1").await;
    let presign = |body: Value| stack.call(Method::POST, "/v1/uploads/presign", &t.token, Some(body));

    // Refused before any link: a type WhatsApp does not deliver, a size over the type's limit.
    let (status, body) = presign(json!({"content_type": "application/x-msdownload", "size": 10})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = presign(json!({"content_type": "image/png", "size": 6 * 1024 * 1024})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("at most"), "{body}");
    // A 20 MB document: beyond what a request to the API may carry, fine straight to storage.
    let (status, big) = presign(
        json!({"filename": "contrato.pdf", "content_type": "application/pdf", "size": 20 * 1024 * 1024}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{big}");
    assert_eq!(big["method"], "PUT");

    let pdf = b"%PDF-1.4 segunda via".to_vec();
    let (_, grant) =
        presign(json!({"filename": "boleto.pdf", "content_type": "application/pdf", "size": pdf.len()}))
            .await;
    if !stack.runs_on_moto() {
        // The link holds its type and size: anything else is refused by storage (S3 checks
        // the signed headers; moto's S3 checks no signature).
        assert!(!put_to(&grant, pdf.clone(), "image/png").await.is_success());
        assert!(!put_to(&big, b"tiny".to_vec(), "application/pdf").await.is_success());
    }
    assert!(put_to(&grant, pdf.clone(), "application/pdf").await.is_success());

    let (status, m) = stack
        .call(Method::POST, &format!("/v1/sessions/{session}/messages"), &t.token,
            Some(json!({"type": "media", "kind": "document", "blob_key": grant["blob_key"], "filename": "boleto.pdf"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["media"]["mime_type"], "application/pdf");
    // Checked again when used: a key never uploaded is not found, another account's too.
    let (status, _) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "media", "kind": "document", "blob_key": big["blob_key"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The message's file, for whoever may read the session.
    let (status, link) =
        stack.call(Method::GET, &format!("/v1/messages/{}/media", id(&m)), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let served = reqwest::get(link["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let other = stack.tenant("Other").await;
    let (status, _) =
        stack.call(Method::GET, &format!("/v1/messages/{}/media", id(&m)), &other.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A contacts file, uploaded the same way, then imported.
    let csv = "nome;telefone\nMaria;+55 11 98765-4321\n".as_bytes().to_vec();
    let (_, grant) = presign(json!({"content_type": "text/csv", "size": csv.len()})).await;
    assert!(put_to(&grant, csv, "text/csv").await.is_success());
    let (status, import) = stack
        .call(
            Method::POST,
            "/v1/contact-imports/from-upload",
            &t.token,
            Some(json!({"blob_key": grant["blob_key"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{import}");
    assert_eq!(import["total_rows"], 1);
}

async fn transfer_follows_the_team_choice_rule_and_return_and_restart_work(stack: Stack) {
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (ana, ana_token) = stack.user(&t, "ana@acme.example", "agent").await;
    let (_, sales) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Vendas"}))).await;
    let sales = id(&sales);
    stack
        .call(
            Method::PUT,
            &format!("/v1/teams/{sales}/members/{ana}"),
            &t.token,
            Some(json!({"member": true})),
        )
        .await;
    let session = stack.assumed_session(&t, "wamid.1").await;

    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/transfer"),
            &t.token,
            Some(json!({"user_id": ana})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ana is not in the default team: the caller must name her team: {body}"
    );
    let (status, moved) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/transfer"),
            &t.token,
            Some(json!({"user_id": ana, "team_id": sales})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(
        (moved["owner_id"].as_str(), moved["team_id"].as_str(), moved["status"].as_str()),
        (Some(ana.as_str()), Some(sales.as_str()), Some("in_progress"))
    );
    let (status, back) =
        stack.call(Method::POST, &format!("/v1/sessions/{session}/return"), &ana_token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((back["status"].as_str(), back["owner_id"].as_str()), (Some("pending"), None));
    let (_, to_team) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/transfer"),
            &t.token,
            Some(json!({"team_id": t.default_team})),
        )
        .await;
    assert_eq!(to_team["team_id"], t.default_team.as_str());
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    stack.complete_for_good(&t, &session).await;

    let (_, tpl) = stack
        .call(Method::POST, "/v1/templates", &t.token, Some(json!({"channel_id": channel, "name": "retomar", "language": "pt_BR", "category": "utility", "body": "Podemos continuar?"})))
        .await;
    let approval = json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "retomar", "message_template_language": "pt_BR"}}]}]});
    stack.deliver(&approval).await;
    stack.settle().await;
    let (status, restarted) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/restart"),
            &t.token,
            Some(json!({"template_id": id(&tpl)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{restarted}");
    assert_eq!(restarted["session"]["status"], "in_progress");
    stack.settle().await;
    assert_eq!(stack.graph.sends().last().unwrap().body["template"]["name"], "retomar");
}

async fn notes_are_editable_by_their_author_for_two_hours_and_admins_delete_any(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (ana, ana_token) = stack.user(&t, "ana@acme.example", "agent").await;
    stack
        .call(
            Method::PUT,
            &format!("/v1/teams/{}/members/{ana}", t.default_team),
            &t.token,
            Some(json!({"member": true})),
        )
        .await;
    stack.deliver(&text_from_customer("wamid.1", "oi", stack.now())).await;
    stack.settle().await;
    let session = id(&stack.sessions(&ana_token, "pending").await[0]);
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &ana_token, None).await;
    let (status, note) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/notes"),
            &ana_token,
            Some(json!({"text": "cliente VIP"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/v1/sessions/{session}/notes/{}", id(&note));
    let (status, edited) =
        stack.call(Method::PATCH, &path, &ana_token, Some(json!({"text": "cliente VIP desde 2020"}))).await;
    assert_eq!((status, edited["text"].as_str()), (StatusCode::OK, Some("cliente VIP desde 2020")));
    assert_eq!(
        stack.call(Method::PATCH, &path, &t.token, Some(json!({"text": "x"}))).await.0,
        StatusCode::FORBIDDEN,
        "only the author edits"
    );
    stack.advance(chrono::Duration::hours(2) + chrono::Duration::seconds(1)).await;
    let ana_token = stack.login("ana@acme.example", "password123").await;
    assert_eq!(
        stack.call(Method::PATCH, &path, &ana_token, Some(json!({"text": "tarde"}))).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(stack.call(Method::DELETE, &path, &ana_token, None).await.0, StatusCode::FORBIDDEN);
    let admin = stack.login("admin@acme.example", "a good password").await;
    assert_eq!(stack.call(Method::DELETE, &path, &admin, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(stack.sessions(&admin, "others").await.len(), 1);
    assert!(
        stack.messages(&admin, &session).await.iter().all(|m| m["text"] != "cliente VIP"),
        "notes are never messages"
    );
}

async fn blocked_contacts_are_ignored_and_archived_ones_come_back(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, contact) = stack
        .call(
            Method::POST,
            "/v1/contacts",
            &t.token,
            Some(json!({"name": "Fulano", "phone": "+972987654321"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    let path = format!("/v1/contacts/{}", id(&contact));
    stack.call(Method::PATCH, &path, &t.token, Some(json!({"status": "blocked"}))).await;
    stack.deliver(&text_from_customer("wamid.1", "spam", stack.now())).await;
    stack.settle().await;
    assert!(
        stack.sessions(&t.token, "pending").await.is_empty(),
        "a blocked contact's message opens nothing"
    );

    stack.call(Method::PATCH, &path, &t.token, Some(json!({"status": "archived"}))).await;
    stack.deliver(&text_from_customer("wamid.2", "voltei", stack.now())).await;
    stack.settle().await;
    assert_eq!(stack.sessions(&t.token, "pending").await.len(), 1);
    let (_, again) = stack.call(Method::GET, &path, &t.token, None).await;
    assert_eq!(again["status"], "active", "an archived contact returns to active when it writes");
    let (_, found) = stack.call(Method::GET, "/v1/contacts?q=fula", &t.token, None).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (_, by_phone) = stack.call(Method::GET, "/v1/contacts?q=%2B972%20987-654-321", &t.token, None).await;
    assert_eq!(by_phone["items"].as_array().unwrap().len(), 1);
}

async fn reactions_attach_to_their_message_and_early_statuses_wait_for_theirs(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (_, channels) = stack.call(Method::GET, "/v1/channels", &t.token, None).await;
    assert!(!channels.to_string().contains("test-token"), "secrets are never returned");
    let session = stack.assumed_session(&t, "wamid.1").await;
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "oi!"})),
        )
        .await;
    stack.settle().await;
    let out = stack.messages(&t.token, &session).await[0].clone();
    let wamid = out["provider_id"].as_str().unwrap().to_owned();

    let mut reaction = fixture("message.json", "reaction");
    first_event(&mut reaction, "messages")["id"] = json!("wamid.reaction.1");
    first_event(&mut reaction, "messages")["reaction"]["message_id"] = json!(wamid);
    stack.deliver(&reaction).await;
    stack.settle().await;
    let messages = stack.messages(&t.token, &session).await;
    assert_eq!(messages.len(), 2, "a reaction is not a message");
    assert_eq!(messages[0]["reactions"][0]["emoji"], "\u{1f62e}");

    // A status for a message the send has not recorded yet is parked, then applied.
    let next = stack.graph.next_message_id();
    stack.deliver(&status_payload("delivered", &next)).await;
    stack.settle().await;
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "mais uma"})),
        )
        .await;
    stack.settle().await;
    let latest = stack.messages(&t.token, &session).await[0].clone();
    assert_eq!(latest["provider_id"], next.as_str());
    assert_eq!(latest["status"], "delivered", "the early status was kept and applied");
}

async fn with_30_percent_of_sends_failing_every_message_ends_sent_once_or_failed_with_its_reason(
    stack: Stack,
) {
    use std::time::Duration;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.in").await;
    stack.graph.fail_randomly(
        0.3,
        vec![
            Fault::Http(500),
            Fault::Meta { code: 130429, status: 400 },
            Fault::Stall(Duration::from_millis(400)),
            Fault::Meta { code: 131026, status: 400 },
        ],
        0x5eed_1234,
    );
    for n in 0..120 {
        let (status, _) = stack
            .call(
                Method::POST,
                &format!("/v1/sessions/{session}/messages"),
                &t.token,
                Some(json!({"type": "text", "text": format!("m{n}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    stack.settle().await;
    let outbound: Vec<Value> = stack
        .all_messages(&t.token, &session)
        .await
        .into_iter()
        .filter(|m| m["direction"] == "out")
        .collect();
    assert_eq!(outbound.len(), 120);
    let mut delivered: Vec<String> =
        stack.graph.sends().iter().map(|r| r.body["text"]["body"].as_str().unwrap().to_owned()).collect();
    let total = delivered.len();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), total, "nothing reached the provider twice");
    let (mut sent, mut failed) = (0, 0);
    for m in &outbound {
        match m["status"].as_str().unwrap() {
            "sent" => {
                sent += 1;
                assert!(delivered.contains(&m["text"].as_str().unwrap().to_owned()), "{m}");
            }
            "failed" => {
                failed += 1;
                assert!(m["error"]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{m}");
                assert!(
                    !delivered.contains(&m["text"].as_str().unwrap().to_owned()),
                    "failed yet delivered: {m}"
                );
            }
            other => panic!("message left {other}: {m}"),
        }
    }
    assert_eq!(sent, total, "every delivery is a sent message and the reverse");
    assert!(failed > 0 && sent > 80, "the mix was exercised: {sent} sent, {failed} failed");
}

async fn two_deliveries_of_the_same_job_at_once_send_the_message_once(stack: Stack) {
    use atende_core::conversations::delivery;
    use atende_core::jobs::OutboundJob;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.in").await;
    stack.settle().await;
    stack.graph.fail_next([
        Fault::Slow(std::time::Duration::from_millis(200)),
        Fault::Slow(std::time::Duration::from_millis(200)),
    ]);
    let (_, m) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "uma vez"})),
        )
        .await;
    // A redelivered job racing the first one (the queue's visibility ran out mid-send).
    let job = OutboundJob::Deliver { account_id: t.account.clone(), message_id: id(&m) };
    let (a, b) =
        tokio::join!(delivery::run(&stack.ctx.deps, job.clone()), delivery::run(&stack.ctx.deps, job));
    assert!(a.is_ok() && b.is_ok());
    stack.settle().await;
    assert_eq!(stack.graph.sends().len(), 1, "sent once");
    assert_eq!(stack.messages(&t.token, &session).await[0]["status"], "sent");
}

crate::on_both_backends!(
    a_customer_writes_an_agent_assumes_and_answers_and_every_status_comes_back,
    every_fixture_delivered_three_times_shuffled_by_16_senders_is_applied_once,
    bad_webhooks_are_refused_and_store_nothing_and_the_service_keeps_serving,
    meta_verify_handshake_echoes_the_challenge_only_for_the_right_token,
    outside_the_window_free_text_waits_and_goes_out_in_order_when_the_customer_writes,
    a_permanent_meta_error_fails_at_once_and_transient_ones_are_retried_until_sent_once,
    an_active_start_sends_the_template_and_the_reply_lands_in_the_same_session,
    agents_act_only_on_their_own_sessions_unless_they_supervise_and_restricted_agents_see_only_theirs,
    the_send_delay_holds_a_message_which_can_be_cancelled_meanwhile,
    inbound_media_is_fetched_into_the_blob_store,
    pacing_never_lets_more_than_the_rate_through_in_any_one_second_window,
    a_message_within_12h_reopens_the_session_for_its_agent_and_new_session_starts_afresh,
    media_goes_out_by_link_and_the_agents_display_name_signs_text,
    a_file_uploaded_straight_to_storage_is_checked_before_its_link_and_again_when_sent,
    transfer_follows_the_team_choice_rule_and_return_and_restart_work,
    notes_are_editable_by_their_author_for_two_hours_and_admins_delete_any,
    blocked_contacts_are_ignored_and_archived_ones_come_back,
    reactions_attach_to_their_message_and_early_statuses_wait_for_theirs,
    with_30_percent_of_sends_failing_every_message_ends_sent_once_or_failed_with_its_reason,
    ; multi_thread
    two_deliveries_of_the_same_job_at_once_send_the_message_once,
);

/// A table that, the first time a message is claimed for sending, lets 30 ms pass (on the
/// manual clock) as a slow claim on a busy machine would, and counts pacing reservations.
struct SlowClaim {
    inner: std::sync::Arc<dyn atende_core::ports::Table>,
    clock: std::sync::Arc<dyn atende_core::ports::Clock>,
    slowed: std::sync::atomic::AtomicBool,
    reservations: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl atende_core::ports::Table for SlowClaim {
    async fn get(
        &self,
        key: &atende_core::ports::Key,
    ) -> Result<Option<atende_core::ports::Item>, atende_core::ports::TableError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: atende_core::ports::Item,
        c: Option<atende_core::ports::Condition>,
    ) -> Result<(), atende_core::ports::TableError> {
        self.inner.put(item, c).await
    }
    async fn update(
        &self,
        key: &atende_core::ports::Key,
        ops: Vec<atende_core::ports::UpdateOp>,
        c: Option<atende_core::ports::Condition>,
    ) -> Result<atende_core::ports::Item, atende_core::ports::TableError> {
        use std::sync::atomic::Ordering;
        let claim = ops.iter().any(|op| {
            matches!(op, atende_core::ports::UpdateOp::Set(name, atende_core::ports::AttributeValue::S(v)) if name == "status" && v == "sending")
        });
        if key.sk.starts_with("RATE#") {
            self.reservations.fetch_add(1, Ordering::SeqCst);
        }
        let updated = self.inner.update(key, ops, c).await?;
        if claim && !self.slowed.swap(true, Ordering::SeqCst) {
            let late = self.clock.now() + chrono::Duration::milliseconds(30);
            self.clock.sleep_until(late).await; // the manual clock moves
        }
        Ok(updated)
    }
    async fn delete(
        &self,
        key: &atende_core::ports::Key,
        c: Option<atende_core::ports::Condition>,
    ) -> Result<(), atende_core::ports::TableError> {
        self.inner.delete(key, c).await
    }
    async fn query(
        &self,
        q: atende_core::ports::Query,
    ) -> Result<atende_core::ports::Page, atende_core::ports::TableError> {
        self.inner.query(q).await
    }
    async fn transact(
        &self,
        items: Vec<atende_core::ports::TransactItem>,
    ) -> Result<(), atende_core::ports::TableError> {
        self.inner.transact(items).await
    }
}

#[tokio::test]
async fn a_send_that_falls_behind_its_pacing_slot_waits_for_a_new_one_instead_of_bunching() {
    let reservations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = reservations.clone();
    let stack = Stack::with_deps(move |deps| {
        deps.table = std::sync::Arc::new(SlowClaim {
            inner: deps.table.clone(),
            clock: deps.clock.clone(),
            slowed: Default::default(),
            reservations: counted,
        });
    })
    .await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.late").await;
    stack.settle().await;
    let before = reservations.load(std::sync::atomic::Ordering::SeqCst);
    let (status, _) = stack.send_text(&t, &session, "atrasada").await;
    assert_eq!(status, StatusCode::CREATED);
    stack.settle().await;
    assert_eq!(stack.graph.sends().len(), 1, "sent, once");
    assert_eq!(
        reservations.load(std::sync::atomic::Ordering::SeqCst) - before,
        2,
        "the slot missed by 30 ms (tolerance 20 ms) was given up and a new one taken"
    );
}
