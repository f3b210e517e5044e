//! The `atende` binary killed (SIGKILL) in the middle of payments and of transcriptions,
//! then started again on the same data directory: each payment has one charge at Asaas and
//! its link sent once (or failed with a reason), every Asaas event, delivered twice and
//! across the kill, applied once; every voice note ends transcribed, none stays
//! `processing`, and a note done before the kill is never sent to the provider again;
//! every outbound webhook reaches its endpoint (a repeat only with the same `webhook-id`).

use crate::binary::{
    Server, call_api, deliver_meta, eventually, eventually_within, from_customer, get_json, killable_with,
    login, spawn_with, wait_healthy,
};
use crate::stack::{FIXTURE_PHONE_ID, first_event, fixture, text_from_customer};
use atende_testkit::fake_asaas::{API_KEY, FakeAsaas};
use atende_testkit::fake_graph::FakeGraph;
use atende_testkit::fake_stt::{self, FakeStt};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const WEBHOOK_TOKEN: &str = "kill-test-asaas-webhook-token-0123456789";

fn customer(n: usize) -> String {
    format!("55119{:08}", 40_000_000 + n)
}

/// Kills the process (SIGKILL).
fn kill(server: &mut Server) {
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

/// Starts the process again on the same data and settings.
async fn restart(server: &mut Server, start: impl Fn() -> std::process::Child) {
    server.child = start();
    wait_healthy(server).await;
}

/// The pending sessions, once there are `count` of them.
async fn pending(http: &reqwest::Client, base: &str, token: &str, count: usize) -> Vec<Value> {
    eventually("every session open", || async {
        let page = get_json(http, format!("{base}/v1/sessions?tab=pending&limit=100"), token).await?;
        let items = page["items"].as_array()?.clone();
        (items.len() == count).then_some(items)
    })
    .await
}

async fn channel(http: &reqwest::Client, base: &str, token: &str) {
    let (status, channel) = call_api(
        http,
        base,
        token,
        reqwest::Method::POST,
        "/v1/channels",
        Some(json!({"kind": "whatsapp_cloud", "name": "Main", "phone_number_id": FIXTURE_PHONE_ID,
            "access_token": "tok", "rate_limit_per_second": 1000})),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
}

fn events_in(p: &Value, event: &str) -> usize {
    p["history"].as_array().into_iter().flatten().filter(|h| h["event"] == event).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_mid_payments_each_has_one_charge_its_link_once_and_every_event_applied_once() {
    const PAYMENTS: usize = 60;
    let graph = FakeGraph::start().await;
    let asaas = FakeAsaas::start().await;
    // A slow Asaas, so the kill lands while charges are being made.
    asaas.set_delay(Duration::from_millis(150));
    let settings =
        [("ATENDE_ASAAS_URL", asaas.base_url.clone()), ("ATENDE_ASAAS_TIMEOUT_MS", "10000".to_owned())];
    let (dir, port, mut server, token) = killable_with(&graph.base_url, &settings).await;
    let start = || spawn_with(dir.path(), port, &graph.base_url, &settings);
    let http = reqwest::Client::new();
    let base = server.base.clone();
    let call = |method: reqwest::Method, path: String, body: Option<Value>, token: String| {
        let (http, base) = (http.clone(), base.clone());
        async move { call_api(&http, &base, &token, method, &path, body).await }
    };
    channel(&http, &base, &token).await;
    let (status, body) = call(
        reqwest::Method::PUT,
        "/v1/payment-settings".into(),
        Some(json!({"enabled": true, "environment": "sandbox", "api_key": API_KEY, "webhook_token": WEBHOOK_TOKEN})),
        token.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for n in 0..PAYMENTS {
        let payload = text_from_customer("x", "oi, quero pagar", chrono::Utc::now());
        deliver_meta(&http, &base, &from_customer(payload, &customer(n), &format!("wamid.pk{n}"))).await;
    }
    let sessions = pending(&http, &base, &token, PAYMENTS).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    let mut ids = Vec::new();
    for (n, s) in sessions.iter().enumerate() {
        let session = s["id"].as_str().unwrap();
        let (status, body) =
            call(reqwest::Method::POST, format!("/v1/sessions/{session}/assume"), None, token.clone()).await;
        assert_eq!(status, 200, "{body}");
        let (status, p) = call(
            reqwest::Method::POST,
            format!("/v1/sessions/{session}/payments"),
            Some(json!({"amount_cents": 1_000 + n, "method": if n % 2 == 0 { "pix" } else { "boleto" },
                "description": "Mensalidade", "due_date": due, "payer_name": "Maria Souza",
                "payer_document": "529.982.247-25"})),
            token.clone(),
        )
        .await;
        assert_eq!(status, 201, "{p}");
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    eventually("a third of the links sent", || async { (graph.sends().len() >= PAYMENTS / 3).then_some(()) })
        .await;
    kill(&mut server);
    let at_kill = graph.sends().len();
    assert!(at_kill < PAYMENTS, "the kill landed mid-way: {at_kill} links out");
    restart(&mut server, start).await;
    let token = login(&base, "ana@acme.example").await;

    // Every payment ends with its charge and its link message settled.
    let settled =
        |m: &Value| ["sent", "delivered", "read", "failed"].contains(&m["status"].as_str().unwrap_or(""));
    // A charge attempt cut by the kill holds its payment for its lease (4 calls × the 10 s
    // timeout + 10 s); a send cut by it is failed when its 60 s claim expires; a machine
    // busy with other tests may add a retry's backoff: up to four minutes.
    let settle = Duration::from_secs(240);
    let payments: Vec<(Value, Value)> =
        eventually_within("every payment charged and its link settled", settle, || async {
            let list = get_json(&http, format!("{base}/v1/payments"), &token).await?;
            let items = list["items"].as_array()?.clone();
            if items.len() != PAYMENTS || items.iter().any(|p| events_in(p, "link_sent") == 0) {
                return None;
            }
            let mut out = Vec::new();
            for p in items {
                let messages = get_json(
                    &http,
                    format!("{base}/v1/sessions/{}/messages?limit=20", p["session_id"].as_str()?),
                    &token,
                )
                .await?;
                let link = messages["items"].as_array()?.iter().find(|m| m["id"] == p["message_id"])?.clone();
                if !settled(&link) {
                    return None;
                }
                out.push((p, link));
            }
            Some(out)
        })
        .await;
    let charges = asaas.payments();
    let references: HashSet<&str> = charges.iter().filter_map(|c| c["externalReference"].as_str()).collect();
    assert_eq!(charges.len(), PAYMENTS, "one charge per payment at Asaas");
    assert_eq!(references, ids.iter().map(String::as_str).collect::<HashSet<_>>());
    let mut cut = 0;
    for (p, link) in &payments {
        assert_eq!(p["status"], "pending", "{p}");
        assert_eq!(events_in(p, "charge_created"), 1, "{p}");
        assert_eq!(events_in(p, "link_sent"), 1, "{p}");
        let url = p["invoice_url"].as_str().unwrap();
        let reached = graph.sends().iter().filter(|s| s.body.to_string().contains(url)).count();
        if link["status"] == "failed" {
            // A send cut by the kill is failed with its reason, never sent again.
            assert!(reached <= 1, "{url} reached Meta {reached} times");
            assert!(link["error"]["reason"].as_str().is_some_and(|r| r.len() > 10), "{link}");
            cut += 1;
        } else {
            assert_eq!(reached, 1, "{url} reached Meta {reached} times");
        }
    }
    assert!(cut <= PAYMENTS / 10, "only sends in flight at the kill may fail: {cut}");

    // Asaas: every charge paid; each event delivered twice, shuffled, retried until
    // answered 200 (as Asaas does), with a kill in the middle.
    for c in &charges {
        asaas.pay(c["id"].as_str().unwrap());
    }
    let mut events = asaas.take_events();
    events.extend(events.clone());
    atende_testkit::shuffle(&mut events, 0x05EE_D0FA_5AA5);
    let total = events.len();
    let account = get_json(&http, format!("{base}/v1/account"), &token).await.unwrap();
    let url = format!("{base}/webhooks/asaas/{}", account["id"].as_str().unwrap());
    let posted = Arc::new(AtomicUsize::new(0));
    let poster = {
        let (http, posted) = (http.clone(), posted.clone());
        tokio::spawn(async move {
            for e in events {
                loop {
                    let sent =
                        http.post(&url).header("asaas-access-token", WEBHOOK_TOKEN).json(&e).send().await;
                    if sent.is_ok_and(|r| r.status() == 200) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                posted.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    eventually("a third of the events posted", || async {
        (posted.load(Ordering::SeqCst) >= total / 3).then_some(())
    })
    .await;
    kill(&mut server);
    assert!(posted.load(Ordering::SeqCst) < total, "the kill landed mid-way through the events");
    restart(&mut server, start).await;
    poster.await.unwrap();
    let token = login(&base, "ana@acme.example").await;
    let items: Vec<Value> = eventually("every payment received", || async {
        let list = get_json(&http, format!("{base}/v1/payments"), &token).await?;
        let items = list["items"].as_array()?.clone();
        items.iter().all(|p| p["status"] == "received").then_some(items)
    })
    .await;
    for p in &items {
        assert_eq!(events_in(p, "PAYMENT_RECEIVED"), 1, "{p}");
        assert!(events_in(p, "PAYMENT_CREATED") <= 1, "{p}");
        let notes = get_json(
            &http,
            format!("{base}/v1/sessions/{}/notes", p["session_id"].as_str().unwrap()),
            &token,
        )
        .await
        .unwrap();
        let received = notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["text"].to_string().contains("recebido"))
            .count();
        assert_eq!(received, 1, "one note tells the agent: {notes}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_mid_transcriptions_every_voice_note_ends_done_and_none_done_is_sent_again() {
    const NOTES: usize = 100;
    let graph = FakeGraph::start().await;
    let stt = FakeStt::start().await;
    // A slow provider, so the kill lands while notes are being transcribed.
    stt.set_delay(Duration::from_secs(1));
    let settings = [
        ("ATENDE_TRANSCRIPTION_URL", stt.base_url.clone()),
        ("ATENDE_TRANSCRIPTION_KEY", fake_stt::KEY.to_owned()),
        ("ATENDE_TRANSCRIPTION_TIMEOUT_MS", "5000".to_owned()),
    ];
    let (dir, port, mut server, token) = killable_with(&graph.base_url, &settings).await;
    let start = || spawn_with(dir.path(), port, &graph.base_url, &settings);
    let http = reqwest::Client::new();
    let base = server.base.clone();
    channel(&http, &base, &token).await;
    let (status, account) = call_api(
        &http,
        &base,
        &token,
        reqwest::Method::PATCH,
        "/v1/account",
        Some(json!({"transcription_enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{account}");
    // Note n lasts n + 1 seconds: its file's size tells the provider's calls apart.
    let mut size_of = HashMap::new();
    for n in 0..NOTES {
        let audio = atende_testkit::audio::ogg_opus(n as u32 + 1);
        size_of.insert(format!("wamid.vk{n}"), audio.len());
        graph.add_media(&format!("{}", 8_000_000 + n), &audio, "audio/ogg; codecs=opus");
    }
    assert_eq!(size_of.values().collect::<HashSet<_>>().len(), NOTES, "every file differs in size");
    let deliveries: Vec<_> = (0..NOTES)
        .map(|n| {
            let mut payload =
                from_customer(fixture("message.json", "voice"), &customer(n), &format!("wamid.vk{n}"));
            first_event(&mut payload, "messages")["audio"]["id"] = json!(format!("{}", 8_000_000 + n));
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move { deliver_meta(&http, &base, &payload).await })
        })
        .collect();
    for d in deliveries {
        d.await.unwrap();
    }
    // Each note's transcription, by provider message id.
    let notes = |token: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let page = get_json(&http, format!("{base}/v1/sessions?tab=pending&limit=100"), &token).await?;
            let mut out = HashMap::new();
            for s in page["items"].as_array()? {
                let messages = get_json(
                    &http,
                    format!("{base}/v1/sessions/{}/messages?limit=20", s["id"].as_str()?),
                    &token,
                )
                .await?;
                for m in messages["items"].as_array()? {
                    if let Some(id) = m["provider_id"].as_str() {
                        out.insert(id.to_owned(), m["transcription"].clone());
                    }
                }
            }
            Some(out)
        }
    };
    eventually("a fifth of the notes transcribed", || async {
        (stt.answered().len() >= NOTES / 5).then_some(())
    })
    .await;
    // What was done just before the kill: none of these may reach the provider again.
    let done_before: HashSet<String> = notes(token.clone())
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, t)| t["status"] == "done")
        .map(|(id, _)| id)
        .collect();
    kill(&mut server);
    let calls_at_kill = stt.calls() as usize;
    assert!(done_before.len() < NOTES, "the kill landed mid-way: {} done", done_before.len());
    restart(&mut server, start).await;
    let token = login(&base, "ana@acme.example").await;
    let after = eventually("every note transcribed", || async {
        let all = notes(token.clone()).await?;
        (all.len() == NOTES && all.values().all(|t| t["status"] == "done")).then_some(all)
    })
    .await;
    assert!(after.values().all(|t| t["text"] == fake_stt::TEXT));
    let files = stt.files();
    for id in &done_before {
        let calls = files.iter().filter(|size| **size == size_of[id]).count();
        assert_eq!(calls, 1, "{id} was done before the kill, yet sent to the provider {calls} times");
    }
    // Only the notes called but not done at the kill may have been called again.
    let total = stt.calls() as usize;
    assert!(
        total <= NOTES + (calls_at_kill - done_before.len()),
        "{total} provider calls for {NOTES} notes ({calls_at_kill} at the kill, {} done then)",
        done_before.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_mid_webhook_deliveries_every_event_reaches_its_endpoint_with_one_id_each() {
    const MESSAGES: usize = 150;
    let graph = FakeGraph::start().await;
    let receiver = atende_testkit::fake_receiver::FakeReceiver::start().await;
    // A slow integrator, so the kill lands while deliveries are under way.
    receiver.set_delay(Duration::from_millis(40));
    let settings = [("ATENDE_HTTP_ALLOW", receiver.addr.to_string())];
    let (dir, port, mut server, token) = killable_with(&graph.base_url, &settings).await;
    let start = || spawn_with(dir.path(), port, &graph.base_url, &settings);
    let http = reqwest::Client::new();
    let base = server.base.clone();
    channel(&http, &base, &token).await;
    let (status, endpoint) = call_api(
        &http,
        &base,
        &token,
        reqwest::Method::POST,
        "/v1/webhook-endpoints",
        Some(json!({"url": receiver.url("crm"), "event_types": ["message.received"]})),
    )
    .await;
    assert_eq!(status, 201, "{endpoint}");
    let deliveries: Vec<_> = (0..MESSAGES)
        .map(|n| {
            let payload =
                from_customer(fixture("message.json", "text"), &customer(n), &format!("wamid.wh{n}"));
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move { deliver_meta(&http, &base, &payload).await })
        })
        .collect();
    for d in deliveries {
        d.await.unwrap();
    }
    eventually("a fifth of the events delivered", || async {
        (receiver.at("crm").len() >= MESSAGES / 5).then_some(())
    })
    .await;
    kill(&mut server);
    let at_kill = receiver.at("crm").len();
    assert!(at_kill < MESSAGES, "the kill landed mid-way: {at_kill} delivered");
    restart(&mut server, start).await;
    // In-flight jobs come back after their visibility timeout (two minutes) and claims.
    let got = eventually_within("every event delivered", Duration::from_secs(360), || async {
        let got = receiver.at("crm");
        let messages: HashSet<String> = got
            .iter()
            .map(|r| r.json()["data"]["message_id"].as_str().unwrap_or_default().to_owned())
            .collect();
        (messages.len() == MESSAGES).then_some(got)
    })
    .await;
    // One webhook-id per message, the same on every copy; and one message per id.
    let mut id_of: HashMap<String, String> = HashMap::new();
    for r in &got {
        let message = r.json()["data"]["message_id"].as_str().unwrap().to_owned();
        let id = id_of.entry(message.clone()).or_insert_with(|| r.id.clone());
        assert_eq!(*id, r.id, "message {message} came with two ids");
    }
    assert_eq!(id_of.values().collect::<HashSet<_>>().len(), MESSAGES);
    // At most the attempts in flight at the kill repeat: 4 consumers × batches of 5.
    assert!(
        got.len() - MESSAGES <= 20,
        "repeats only for attempts cut by the kill: {}",
        got.len() - MESSAGES
    );
}
