//! `channels`: the same burst of customer messages through each channel kind's webhook —
//! WhatsApp (signed), Messenger (signed), Telegram (secret token) — into stored messages,
//! on one process with its consumers running: how fast each is acknowledged and how soon
//! every message is stored and visible.

use crate::harness;
use crate::load::{client, hammer_with, unread_total};
use crate::report::{latencies, ms, publish};
use atende_core::conversations::ChannelKind;
use atende_core::conversations::channels::{self, NewChannel};
use atende_core::secret::Secret;
use atende_testkit::fake_telegram::FakeTelegram;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGE_ID: &str = "104857600123456";

/// One kind's burst: its name, webhook URL, credential header and requests.
type Burst = (&'static str, String, &'static str, Vec<Option<(String, String)>>);

fn new_channel(kind: ChannelKind, page_id: Option<&str>, bot_token: Option<&str>) -> NewChannel {
    NewChannel {
        kind,
        name: format!("Bench {}", kind.as_str()),
        phone_number_id: None,
        page_id: page_id.map(str::to_owned),
        bot_token: bot_token.map(Secret::new),
        webhook_base_url: bot_token.map(|_| "https://bench.atende.example".to_owned()),
        waba_id: None,
        app_id: None,
        access_token: page_id.map(|_| Secret::new("bench-page-token")),
        app_secret: None,
        verify_token: None,
        agents_can_start: false,
        rate_limit_per_second: None,
    }
}

fn signed(payload: &Value) -> (String, String) {
    let body = payload.to_string();
    let sig = atende_providers::whatsapp::signature::sign(harness::SECRET.as_bytes(), body.as_bytes());
    (body, sig)
}

pub async fn run(count: usize, contacts: usize, connections: usize) -> anyhow::Result<()> {
    let telegram = FakeTelegram::start().await;
    let url = telegram.base_url.clone();
    let product =
        harness::start_configured(80, move |s| s.providers.telegram_url = url, |c, e| (c, e)).await?;
    let deps = &product.running.ctx.deps;
    channels::create(deps, &product.admin, new_channel(ChannelKind::Messenger, Some(PAGE_ID), None)).await?;
    let bot =
        channels::create(deps, &product.admin, new_channel(ChannelKind::Telegram, None, Some("777:bench")))
            .await?;
    let secret = telegram
        .calls()
        .into_iter()
        .find(|c| c.method == "setWebhook")
        .and_then(|c| c.body["secret_token"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("the bot's webhook was not set"))?;
    let now = chrono::Utc::now();
    let kinds: [Burst; 3] = [
        (
            "whatsapp",
            format!("{}/webhooks/whatsapp", product.base),
            "x-hub-signature-256",
            (0..count).map(|n| Some(harness::text(&format!("wamid.kinds.{n}"), &harness::wa(n % contacts), "oi"))).collect(),
        ),
        (
            "messenger",
            format!("{}/webhooks/messenger", product.base),
            "x-hub-signature-256",
            (0..count)
                .map(|n| {
                    Some(signed(&json!({"object": "page", "entry": [{"id": PAGE_ID, "time": now.timestamp_millis(), "messaging": [
                        {"sender": {"id": format!("{}", 7_000_000 + n % contacts)}, "recipient": {"id": PAGE_ID},
                         "timestamp": now.timestamp_millis(), "message": {"mid": format!("m_bench_{n}"), "text": "oi"}}]}]})))
                })
                .collect(),
        ),
        (
            "telegram",
            format!("{}/webhooks/telegram/{}", product.base, bot.id),
            "x-telegram-bot-api-secret-token",
            (0..count)
                .map(|n| {
                    let chat = 500_000 + (n % contacts) as i64;
                    let update = json!({"update_id": n, "message": {"message_id": n, "date": now.timestamp(),
                        "from": {"id": chat, "first_name": "Cliente"}, "chat": {"id": chat, "type": "private"}, "text": "oi"}});
                    Some((update.to_string(), secret.clone()))
                })
                .collect(),
        ),
    ];
    let http = client(connections);
    let mut rows =
        vec![("messages", format!("{count} per kind from {contacts} senders, {connections} connections"))];
    let mut figures = serde_json::Map::new();
    let mut stored_before = 0u64;
    for (name, url, header, bodies) in kinds {
        let started = Instant::now();
        let (answered, wall) = hammer_with(&http, &url, Arc::new(bodies), connections, header).await?;
        loop {
            if unread_total(&http, &product).await? >= stored_before + count as u64 {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "{name}: not all stored after 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stored_before += count as u64;
        let total = started.elapsed();
        let l = latencies(answered);
        let (ack_rps, stored_rps) = (count as f64 / wall.as_secs_f64(), count as f64 / total.as_secs_f64());
        rows.push((
            name,
            format!(
                "acknowledged {ack_rps:.0} req/s (p50 {:.2} ms, p99 {:.2} ms); all stored and visible after {:.2} s: {stored_rps:.0} messages/s",
                ms(l.p50),
                ms(l.p99),
                total.as_secs_f64()
            ),
        ));
        figures.insert(
            name.to_owned(),
            json!({"ack_rps": ack_rps, "ack_ms": {"p50": ms(l.p50), "p95": ms(l.p95), "p99": ms(l.p99)}, "stored_seconds": total.as_secs_f64(), "stored_per_second": stored_rps}),
        );
    }
    publish(
        "channels",
        &rows,
        json!({"count": count, "contacts": contacts, "connections": connections, "kinds": figures}),
    )?;
    product.running.stop().await
}
