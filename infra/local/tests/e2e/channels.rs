//! Every channel kind through the same conversation: WhatsApp Cloud, Messenger, Instagram
//! and Telegram, each spoken to in its own wire format by the fake Graph API and the fake
//! Bot API. Nothing here but the payloads knows a kind: the product's code is the same.

use crate::stack::*;
use atende_testkit::fake_telegram::Fault as TelegramFault;
use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    WhatsappCloud,
    Messenger,
    Instagram,
    Telegram,
}

const ALL: [Kind; 4] = [Kind::WhatsappCloud, Kind::Messenger, Kind::Instagram, Kind::Telegram];
const PAGE_ID: &str = "104857600123456";
const IG_ID: &str = "17841400000000001";
const PSID: &str = "7001002003004005";
const TG_CHAT: i64 = 555_000_111;

/// A connected channel of one kind, and how its customer is spoken for.
struct Line {
    kind: Kind,
    channel: String,
    /// Telegram's secret token (what `setWebhook` was given).
    secret: Option<String>,
}

async fn connect(stack: &Stack, t: &Tenant, kind: Kind) -> Line {
    let body = match kind {
        Kind::WhatsappCloud => {
            return Line { kind, channel: stack.cloud_channel(t, FIXTURE_PHONE_ID).await, secret: None };
        }
        Kind::Messenger => {
            json!({"kind": "messenger", "name": "Página", "page_id": PAGE_ID, "access_token": "page-token"})
        }
        Kind::Instagram => {
            json!({"kind": "instagram", "name": "Insta", "page_id": IG_ID, "access_token": "page-token"})
        }
        Kind::Telegram => json!({"kind": "telegram", "name": "Bot", "bot_token": "123456:ABC-secret",
            "webhook_base_url": "https://atende.example.com", "agents_can_start": true}),
    };
    let (status, channel) = stack.call(Method::POST, "/v1/channels", &t.token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    let rate = if kind == Kind::Telegram { 30 } else { 80 };
    assert_eq!(channel["rate_limit_per_second"], rate, "the kind's own pace: {channel}");
    let channel = channel["id"].as_str().unwrap().to_owned();
    let secret = (kind == Kind::Telegram).then(|| {
        let set = stack.telegram.calls().into_iter().rev().find(|c| c.method == "setWebhook").unwrap();
        assert_eq!(set.body["url"], format!("https://atende.example.com/webhooks/telegram/{channel}"));
        set.body["secret_token"].as_str().unwrap().to_owned()
    });
    Line { kind, channel, secret }
}

/// The "Loja" admin's session, after days on the clock outlived the last one.
async fn logged_in_again(stack: &Stack, t: Tenant) -> Tenant {
    Tenant { token: stack.login("admin@loja.example", "a good password").await, ..t }
}

fn millis(stack: &Stack) -> i64 {
    stack.now().timestamp_millis()
}

fn direct_payload(kind: Kind, stack: &Stack, event: Value) -> Value {
    let (object, entry) = if kind == Kind::Instagram { ("instagram", IG_ID) } else { ("page", PAGE_ID) };
    let mut event = event;
    event["sender"] = json!({"id": PSID});
    event["recipient"] = json!({"id": entry});
    event["timestamp"] = json!(millis(stack));
    json!({"object": object, "entry": [{"id": entry, "time": millis(stack), "messaging": [event]}]})
}

fn telegram_update(update_id: i64, message_id: i64, text: &str, stack: &Stack) -> Value {
    json!({"update_id": update_id, "message": {"message_id": message_id, "date": stack.now().timestamp(),
        "from": {"id": TG_CHAT, "is_bot": false, "first_name": "Ana", "last_name": "Lima", "language_code": "pt-br"},
        "chat": {"id": TG_CHAT, "type": "private", "first_name": "Ana"}, "text": text}})
}

/// Posts `payload` as the kind's provider would, correctly authenticated.
async fn post(stack: &Stack, line: &Line, payload: &Value) -> StatusCode {
    let body = payload.to_string();
    let (path, headers) = match line.kind {
        Kind::WhatsappCloud => {
            ("/webhooks/whatsapp".to_owned(), vec![("x-hub-signature-256", sign(body.as_bytes()))])
        }
        Kind::Messenger => {
            ("/webhooks/messenger".to_owned(), vec![("x-hub-signature-256", sign(body.as_bytes()))])
        }
        Kind::Instagram => {
            ("/webhooks/instagram".to_owned(), vec![("x-hub-signature-256", sign(body.as_bytes()))])
        }
        Kind::Telegram => (
            format!("/webhooks/telegram/{}", line.channel),
            vec![("x-telegram-bot-api-secret-token", line.secret.clone().unwrap())],
        ),
    };
    stack.post_to(&path, &headers, body.as_bytes()).await.0
}

/// The customer writes `text` (the `n`th message of theirs).
async fn customer_writes(stack: &Stack, line: &Line, n: i64, text: &str) -> StatusCode {
    let payload = match line.kind {
        Kind::WhatsappCloud => text_from_customer(&format!("wamid.customer.{n}"), text, stack.now()),
        Kind::Messenger | Kind::Instagram => direct_payload(
            line.kind,
            stack,
            json!({"message": {"mid": format!("m_{:?}_{n}", line.kind), "text": text}}),
        ),
        Kind::Telegram => telegram_update(9000 + n, 40 + n, text, stack),
    };
    post(stack, line, &payload).await
}

/// What the provider received from us, in order: (recipient, text, whole body).
fn sent(stack: &Stack, kind: Kind) -> Vec<(String, String, Value)> {
    match kind {
        Kind::Telegram => stack
            .telegram
            .sends()
            .into_iter()
            .map(|c| {
                (
                    c.body["chat_id"].to_string().trim_matches('"').to_owned(),
                    c.body["text"].as_str().unwrap_or_default().to_owned(),
                    c.body,
                )
            })
            .collect(),
        _ => stack
            .graph
            .sends()
            .into_iter()
            .filter(|r| !r.wamid.is_empty())
            .map(|r| {
                let b = r.body;
                let to =
                    b["to"].as_str().or_else(|| b["recipient"]["id"].as_str()).unwrap_or_default().to_owned();
                let text = b["text"]["body"]
                    .as_str()
                    .or_else(|| b["message"]["text"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                (to, text, b)
            })
            .collect(),
    }
}

/// The customer's device reports our message `provider_id` delivered, then read, the way
/// the kind does (Telegram has no receipts for bots: nothing).
async fn receipts(stack: &Stack, line: &Line, provider_id: &str) {
    let payloads = match line.kind {
        Kind::WhatsappCloud => {
            vec![status_payload("delivered", provider_id), status_payload("read", provider_id)]
        }
        Kind::Messenger => vec![
            direct_payload(
                line.kind,
                stack,
                json!({"delivery": {"mids": [provider_id], "watermark": millis(stack)}}),
            ),
            direct_payload(line.kind, stack, json!({"read": {"watermark": millis(stack)}})),
        ],
        Kind::Instagram => vec![direct_payload(line.kind, stack, json!({"read": {"mid": provider_id}}))],
        Kind::Telegram => vec![],
    };
    for payload in payloads {
        assert_eq!(post(stack, line, &payload).await, StatusCode::OK);
        stack.settle().await;
    }
}

async fn the_main_conversation_runs_on_every_channel_kind(stack: Stack) {
    for kind in ALL {
        let t = stack.tenant(&format!("Loja{kind:?}")).await;
        let line = connect(&stack, &t, kind).await;

        assert_eq!(customer_writes(&stack, &line, 1, "Oi, quero ajuda").await, StatusCode::OK, "{kind:?}");
        stack.settle().await;
        let pending = stack.sessions(&t.token, "pending").await;
        assert_eq!(pending.len(), 1, "{kind:?}: one session waits");
        let session = pending[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(pending[0]["channel_id"], line.channel.as_str());
        let inbound = stack.messages(&t.token, &session).await;
        assert_eq!(
            (inbound[0]["text"].as_str(), inbound[0]["direction"].as_str()),
            (Some("Oi, quero ajuda"), Some("in"))
        );
        let (_, contact) = stack
            .call(
                Method::GET,
                &format!("/v1/contacts/{}", pending[0]["contact_id"].as_str().unwrap()),
                &t.token,
                None,
            )
            .await;
        match kind {
            Kind::Telegram => {
                assert_eq!(contact["identities"]["telegram"], TG_CHAT.to_string());
                assert_eq!(contact["name"], "Ana Lima", "the name Telegram gives");
            }
            Kind::Messenger | Kind::Instagram => {
                assert_eq!(contact["identities"][format!("{kind:?}").to_lowercase()], PSID)
            }
            Kind::WhatsappCloud => assert_eq!(contact["wa_id"], FIXTURE_WA_ID),
        }

        let (_, read) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
        assert_eq!(read["window"], "open", "{kind:?}: {read}");
        let (status, assumed) =
            stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {assumed}");
        let (status, reply) = stack.send_text(&t, &session, "Olá! Como posso ajudar?").await;
        assert_eq!(status, StatusCode::CREATED, "{kind:?}: {reply}");
        stack.settle().await;
        let (to, text, body) = sent(&stack, kind).pop().expect("the reply reached the provider");
        let expected_to = match kind {
            Kind::WhatsappCloud => FIXTURE_WA_ID.to_owned(),
            Kind::Messenger | Kind::Instagram => PSID.to_owned(),
            Kind::Telegram => TG_CHAT.to_string(),
        };
        assert_eq!(to, expected_to, "{kind:?}");
        assert!(text.ends_with("Olá! Como posso ajudar?"), "{kind:?}: {text}");
        if matches!(kind, Kind::Messenger | Kind::Instagram) {
            assert_eq!(body["messaging_type"], "RESPONSE", "inside 24 h no tag: {body}");
        }
        let out = stack.messages(&t.token, &session).await[0].clone();
        assert_eq!(out["status"], "sent", "{kind:?}");
        let provider_id = out["provider_id"].as_str().unwrap().to_owned();

        receipts(&stack, &line, &provider_id).await;
        let out = stack.messages(&t.token, &session).await[0].clone();
        let expected = if kind == Kind::Telegram { "sent" } else { "read" };
        assert_eq!(out["status"], expected, "{kind:?}: {out}");

        let (status, done) = stack.complete_for_good(&t, &session).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {done}");
        assert_eq!(done["status"], "completed");
    }
}

async fn redelivered_telegram_updates_and_messenger_events_are_applied_once(stack: Stack) {
    let t = stack.tenant("Loja").await;
    for kind in [Kind::Telegram, Kind::Messenger] {
        let line = connect(&stack, &t, kind).await;
        for _ in 0..3 {
            assert_eq!(customer_writes(&stack, &line, 7, "uma vez só").await, StatusCode::OK);
        }
        stack.settle().await;
        // And once more after everything was applied (past the queue's deduplication).
        stack.advance(Duration::minutes(6)).await;
        assert_eq!(customer_writes(&stack, &line, 7, "uma vez só").await, StatusCode::OK);
        stack.settle().await;
    }
    let sessions = stack.sessions(&t.token, "pending").await;
    assert_eq!(sessions.len(), 2, "one session per channel");
    for s in sessions {
        let messages = stack.messages(&t.token, s["id"].as_str().unwrap()).await;
        assert_eq!(messages.len(), 1, "each message stored once: {messages:?}");
    }
}

async fn wrong_signatures_and_secret_tokens_are_401_and_store_nothing(stack: Stack) {
    let t = stack.tenant("Loja").await;
    let messenger = connect(&stack, &t, Kind::Messenger).await;
    let telegram = connect(&stack, &t, Kind::Telegram).await;
    let payload =
        direct_payload(Kind::Messenger, &stack, json!({"message": {"mid": "m_forged", "text": "x"}}))
            .to_string();
    let forged = atende_providers::whatsapp::signature::sign(b"another secret", payload.as_bytes());
    for headers in [vec![], vec![("x-hub-signature-256", forged)]] {
        let (status, body) = stack.post_to("/webhooks/messenger", &headers, payload.as_bytes()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "unauthorized");
    }
    let update = telegram_update(1, 1, "x", &stack).to_string();
    let path = format!("/webhooks/telegram/{}", telegram.channel);
    for headers in [vec![], vec![("x-telegram-bot-api-secret-token", "wrong".to_owned())]] {
        let (status, body) = stack.post_to(&path, &headers, update.as_bytes()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Another channel's id (a Messenger one has no secret token) is no way in either.
    let other = format!("/webhooks/telegram/{}", messenger.channel);
    let secret = telegram.secret.clone().unwrap();
    let (status, _) =
        stack.post_to(&other, &[("x-telegram-bot-api-secret-token", secret)], update.as_bytes()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    stack.settle().await;
    assert!(stack.sessions(&t.token, "pending").await.is_empty(), "nothing stored");
    let (_, contacts) = stack.call(Method::GET, "/v1/contacts", &t.token, None).await;
    assert_eq!(contacts["items"].as_array().map(Vec::len), Some(0), "{contacts}");
    // Moving the bot to another address keeps its secret token; a Meta channel has none.
    let path = format!("/v1/channels/{}", telegram.channel);
    let (status, body) = stack
        .call(Method::PATCH, &path, &t.token, Some(json!({"webhook_base_url": "https://novo.example.com"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set = stack.telegram.calls().into_iter().rev().find(|c| c.method == "setWebhook").unwrap();
    assert_eq!(set.body["url"], format!("https://novo.example.com/webhooks/telegram/{}", telegram.channel));
    assert_eq!(set.body["secret_token"].as_str(), telegram.secret.as_deref());
    let path = format!("/v1/channels/{}", messenger.channel);
    let (status, body) = stack
        .call(Method::PATCH, &path, &t.token, Some(json!({"webhook_base_url": "https://novo.example.com"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // The secret token and the tokens never come back.
    let (_, channels) = stack.call(Method::GET, "/v1/channels", &t.token, None).await;
    let text = channels.to_string();
    assert!(
        !text.contains("ABC-secret")
            && !text.contains("page-token")
            && !text.contains(telegram.secret.as_deref().unwrap())
    );
}

async fn an_instagram_answer_3_days_later_goes_out_as_a_human_agent_and_8_days_later_is_refused(
    stack: Stack,
) {
    let t = stack.tenant("Loja").await;
    let line = connect(&stack, &t, Kind::Instagram).await;
    customer_writes(&stack, &line, 1, "Oi").await;
    let session = stack.assume_pending(&t).await;

    stack.advance(Duration::days(3)).await;
    let t = logged_in_again(&stack, t).await;
    let (_, read) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    assert_eq!(read["window"], "human_agent", "{read}");
    let (status, m) = stack.send_text(&t, &session, "Desculpe a demora!").await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    stack.settle().await;
    let (_, _, body) = sent(&stack, Kind::Instagram).pop().unwrap();
    assert_eq!(
        (body["messaging_type"].as_str(), body["tag"].as_str()),
        (Some("MESSAGE_TAG"), Some("HUMAN_AGENT")),
        "{body}"
    );
    assert_eq!(stack.messages(&t.token, &session).await[0]["status"], "sent");

    stack.advance(Duration::days(5)).await;
    let t = logged_in_again(&stack, t).await;
    let (_, read) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    assert_eq!(read["window"], "closed", "{read}");
    let (status, refused) = stack.send_text(&t, &session, "Ainda aí?").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("7 days"), "{refused}");
    assert_eq!(sent(&stack, Kind::Instagram).len(), 1, "nothing more went out");
    // Nor is there a template to restart with.
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "template", "template_id": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("no templates"), "{body}");
}

async fn meta_direct_channels_refuse_business_starts_and_campaigns_and_telegram_starts_with_text(
    stack: Stack,
) {
    let t = stack.tenant("Loja").await;
    let messenger = connect(&stack, &t, Kind::Messenger).await;
    stack
        .call(
            Method::PATCH,
            &format!("/v1/channels/{}", messenger.channel),
            &t.token,
            Some(json!({"agents_can_start": true})),
        )
        .await;
    let (status, body) = stack
        .call(
            Method::POST,
            "/v1/sessions",
            &t.token,
            Some(json!({"phone": "+5511987654321", "channel_id": messenger.channel,
            "team_id": t.default_team, "text": "Oi"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("never let a business write first"), "{body}");
    let campaign = json!({"name": "Black Friday", "channel_id": messenger.channel, "team_id": t.default_team,
        "template_id": "any", "audience": {"kind": "tags", "tag_ids": []}});
    let (status, body) = stack.call(Method::POST, "/v1/campaigns", &t.token, Some(campaign)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("never let a business write first"), "{body}");

    // Telegram: the bot writes first to someone who started it, with text (no templates).
    let telegram = connect(&stack, &t, Kind::Telegram).await;
    customer_writes(&stack, &telegram, 1, "/start").await;
    stack.settle().await;
    let s = stack.sessions(&t.token, "pending").await[0].clone();
    let contact = s["contact_id"].as_str().unwrap().to_owned();
    stack
        .call(Method::POST, &format!("/v1/sessions/{}/assume", s["id"].as_str().unwrap()), &t.token, None)
        .await;
    stack.complete_for_good(&t, s["id"].as_str().unwrap()).await;
    stack.advance(Duration::days(30)).await;
    let t = logged_in_again(&stack, t).await;
    let (status, started) = stack
        .call(
            Method::POST,
            "/v1/sessions",
            &t.token,
            Some(json!({"contact_id": contact, "channel_id": telegram.channel,
            "team_id": t.default_team, "text": "Seu pedido chegou!"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    stack.settle().await;
    assert_eq!(sent(&stack, Kind::Telegram).pop().unwrap().1, "Seu pedido chegou!");
}

async fn telegram_slowdowns_are_waited_out_and_a_blocked_bot_fails_with_the_reason(stack: Stack) {
    let t = stack.tenant("Loja").await;
    let line = connect(&stack, &t, Kind::Telegram).await;
    customer_writes(&stack, &line, 1, "Oi").await;
    let session = stack.assume_pending(&t).await;

    stack.telegram.fail_next([TelegramFault::TooMany(3)]);
    let before = stack.now();
    stack.send_text(&t, &session, "Primeira").await;
    stack.settle().await;
    assert_eq!(sent(&stack, Kind::Telegram).len(), 1, "sent once, after the 429");
    let out = stack.messages(&t.token, &session).await[0].clone();
    assert_eq!(out["status"], "sent");
    let sent_at = chrono::DateTime::parse_from_rfc3339(out["sent_at"].as_str().unwrap()).unwrap();
    // Within 100 ms: on moto the queue's delay runs on moto's own milliseconds.
    let waited = sent_at.with_timezone(&chrono::Utc) - before;
    assert!(
        waited >= Duration::milliseconds(2900),
        "Telegram's retry_after (3 s) was waited out: {waited} {out}"
    );

    stack.telegram.fail_next([TelegramFault::Blocked]);
    stack.send_text(&t, &session, "Segunda").await;
    stack.settle().await;
    let failed = stack.messages(&t.token, &session).await[0].clone();
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"]["reason"].as_str().unwrap().contains("blocked the bot"), "{failed}");
}

async fn media_from_messenger_and_telegram_is_fetched_into_the_blob_store(stack: Stack) {
    let t = stack.tenant("Loja").await;
    let messenger = connect(&stack, &t, Kind::Messenger).await;
    stack.graph.add_media("att-1", b"\x89PNG fake", "image/png");
    let url = format!("{}/cdn/att-1", stack.graph.base_url);
    let payload = direct_payload(
        Kind::Messenger,
        &stack,
        json!({"message": {"mid": "m_photo", "attachments": [{"type": "image", "payload": {"url": url}}]}}),
    );
    assert_eq!(post(&stack, &messenger, &payload).await, StatusCode::OK);

    let telegram = connect(&stack, &t, Kind::Telegram).await;
    stack.telegram.add_file("voice-1", b"OggS fake voice", "oga");
    let update = json!({"update_id": 77, "message": {"message_id": 5, "date": stack.now().timestamp(),
        "from": {"id": TG_CHAT, "first_name": "Ana"}, "chat": {"id": TG_CHAT, "type": "private"},
        "voice": {"file_id": "voice-1", "file_unique_id": "u1", "duration": 2}}});
    assert_eq!(post(&stack, &telegram, &update).await, StatusCode::OK);
    stack.settle().await;

    let mut found = Vec::new();
    for s in stack.sessions(&t.token, "pending").await {
        found.push(stack.messages(&t.token, s["id"].as_str().unwrap()).await[0].clone());
    }
    found.sort_by_key(|m| m["kind"].as_str().unwrap().to_owned());
    let expected =
        [("image", "image/png", &b"\x89PNG fake"[..]), ("voice", "audio/ogg", &b"OggS fake voice"[..])];
    assert_eq!(found.len(), 2);
    for (m, (kind, mime, bytes)) in found.iter().zip(expected) {
        assert_eq!(m["kind"], kind, "{m}");
        assert_eq!(m["media"]["mime_type"], mime, "{m}");
        assert!(m["media"]["fetch_error"].is_null(), "{m}");
        let key = m["media"]["blob_key"].as_str().unwrap();
        assert_eq!(stack.ctx.deps.blob.get(key).await.unwrap().unwrap().bytes, bytes);
    }
}

fn documented(file: &str) -> Vec<(String, Value)> {
    let path = atende_testkit::fixtures::shared_fixture(file);
    let all: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter().collect()
}

async fn every_documented_messenger_instagram_and_telegram_payload_is_accepted_and_none_is_lost(
    stack: Stack,
) {
    let t = stack.tenant("Loja").await;
    // Messages (and kept-raw events) each fixture must leave stored: echoes, reactions,
    // deliveries and reads are not messages of their own.
    let expected = [
        ("messenger/events.json", Kind::Messenger, 7),
        ("instagram/events.json", Kind::Instagram, 4),
        ("telegram/updates.json", Kind::Telegram, 9),
    ];
    for (file, kind, messages) in expected {
        let line = connect(&stack, &t, kind).await;
        let mut stored = 0;
        // In the order a person acts: the reaction after the message it reacts to.
        let mut payloads = documented(file);
        payloads.sort_by_key(|(name, _)| name == "reaction");
        for (name, payload) in payloads {
            assert_eq!(post(&stack, &line, &payload).await, StatusCode::OK, "{file} {name}");
            stack.settle().await;
        }
        for s in stack.sessions(&t.token, "pending").await {
            if s["channel_id"] == line.channel.as_str() {
                stored += stack.all_messages(&t.token, s["id"].as_str().unwrap()).await.len();
            }
        }
        assert_eq!(stored, messages, "{file}: every message stored once");
    }
    let mut reacted = 0;
    for s in stack.sessions(&t.token, "pending").await {
        for m in stack.all_messages(&t.token, s["id"].as_str().unwrap()).await {
            reacted += m["reactions"].as_array().map_or(0, Vec::len);
        }
    }
    assert_eq!(reacted, 2, "the Messenger and Instagram reactions attached to their messages");
}

async fn telegram_voice_notes_are_transcribed_and_files_go_out_by_link_on_telegram_and_messenger(
    stack: Stack,
) {
    let t = stack.tenant("Loja").await;
    let (status, account) = stack
        .call(Method::PATCH, "/v1/account", &t.token, Some(json!({"transcription_enabled": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    let telegram = connect(&stack, &t, Kind::Telegram).await;
    let messenger = connect(&stack, &t, Kind::Messenger).await;
    stack.telegram.add_file("voice-2", &atende_testkit::audio::ogg_opus(3), "oga");
    let voice = json!({"update_id": 88, "message": {"message_id": 9, "date": stack.now().timestamp(),
        "from": {"id": TG_CHAT, "first_name": "Ana"}, "chat": {"id": TG_CHAT, "type": "private"},
        "voice": {"file_id": "voice-2", "file_unique_id": "u2", "duration": 3, "mime_type": "audio/ogg"}}});
    assert_eq!(post(&stack, &telegram, &voice).await, StatusCode::OK);
    assert_eq!(customer_writes(&stack, &messenger, 1, "Oi").await, StatusCode::OK);
    stack.settle().await;

    let key = stack.upload(&t, &[0x89, b'P', b'N', b'G'], "image/png").await;
    for s in stack.sessions(&t.token, "pending").await {
        let id = s["id"].as_str().unwrap().to_owned();
        if s["channel_id"] == telegram.channel.as_str() {
            let note = stack.messages(&t.token, &id).await[0].clone();
            assert_eq!(note["transcription"]["status"], "done", "{note}");
            assert_eq!(note["transcription"]["text"], atende_testkit::fake_stt::TEXT);
        }
        stack.call(Method::POST, &format!("/v1/sessions/{id}/assume"), &t.token, None).await;
        let (status, m) = stack
            .call(
                Method::POST,
                &format!("/v1/sessions/{id}/messages"),
                &t.token,
                Some(json!({"type": "media", "kind": "image", "blob_key": key, "caption": "o boleto"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
    }
    stack.settle().await;
    let photo = stack.telegram.sends().pop().unwrap();
    assert_eq!(photo.method, "sendPhoto");
    assert_eq!(photo.body["caption"], "o boleto");
    assert!(photo.body["photo"].as_str().unwrap().contains(&key), "a link Telegram fetches: {}", photo.body);
    let (_, _, attachment) = sent(&stack, Kind::Messenger).pop().unwrap();
    assert_eq!(attachment["message"]["attachment"]["type"], "image", "{attachment}");
    assert!(attachment["message"]["attachment"]["payload"]["url"].as_str().unwrap().contains(&key));
}

async fn a_messenger_channel_with_its_own_app_takes_only_deliveries_signed_with_its_secret(stack: Stack) {
    let t = stack.tenant("Loja").await;
    let body = json!({"kind": "messenger", "name": "Outra página", "page_id": PAGE_ID, "access_token": "page-token",
        "app_secret": "its-own-secret"});
    let (status, channel) = stack.call(Method::POST, "/v1/channels", &t.token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    let path = format!("/webhooks/messenger/{}", channel["id"].as_str().unwrap());
    let payload =
        direct_payload(Kind::Messenger, &stack, json!({"message": {"mid": "m_own_app", "text": "oi"}}))
            .to_string();
    let deployment = sign(payload.as_bytes());
    let (status, _) = stack.post_to(&path, &[("x-hub-signature-256", deployment)], payload.as_bytes()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the deployment's secret is not this channel's");
    let own = atende_providers::whatsapp::signature::sign(b"its-own-secret", payload.as_bytes());
    let (status, _) = stack.post_to(&path, &[("x-hub-signature-256", own)], payload.as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    stack.settle().await;
    let pending = stack.sessions(&t.token, "pending").await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["channel_id"], channel["id"]);
}

crate::on_both_backends!(
    every_documented_messenger_instagram_and_telegram_payload_is_accepted_and_none_is_lost,
    the_main_conversation_runs_on_every_channel_kind,
    redelivered_telegram_updates_and_messenger_events_are_applied_once,
    wrong_signatures_and_secret_tokens_are_401_and_store_nothing,
    an_instagram_answer_3_days_later_goes_out_as_a_human_agent_and_8_days_later_is_refused,
    meta_direct_channels_refuse_business_starts_and_campaigns_and_telegram_starts_with_text,
    telegram_slowdowns_are_waited_out_and_a_blocked_bot_fails_with_the_reason,
    media_from_messenger_and_telegram_is_fetched_into_the_blob_store,
    telegram_voice_notes_are_transcribed_and_files_go_out_by_link_on_telegram_and_messenger,
    a_messenger_channel_with_its_own_app_takes_only_deliveries_signed_with_its_secret,
);
