//! `webhooks-out`: customers' messages become `message.received` events delivered to three
//! endpoints, one of which fails half of all requests (the first attempt of every event;
//! each gets through on its retry 5 s later): deliveries per second, none lost, no `webhook-id` twice at the healthy
//! receivers, and the delay from an event to its first delivery (p50/p99).

use crate::harness;
use crate::openloop;
use crate::report::{latencies, ms, publish};
use anyhow::ensure;
use atende_testkit::fake_receiver::FakeReceiver;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 1_000;
const ENDPOINTS: [&str; 3] = ["erp", "crm", "flaky"];

pub async fn run(count: usize, rate: f64) -> anyhow::Result<()> {
    let receiver = FakeReceiver::start().await;
    receiver.fail_first("flaky");
    let allow = receiver.addr;
    let p = harness::start_configured(1000, move |s| s.http_allow = vec![allow], |c, e| (c, e)).await?;
    let http = reqwest::Client::new();
    for path in ENDPOINTS {
        let r = http
            .post(format!("{}/v1/webhook-endpoints", p.base))
            .bearer_auth(&p.token)
            .json(&json!({"url": receiver.url(path), "event_types": ["message.received"]}))
            .send()
            .await?;
        ensure!(r.status().is_success(), "creating an endpoint answered {}", r.status());
    }
    let url = format!("{}/webhooks/whatsapp", p.base);
    let bodies = (0..count)
        .map(|n| harness::text(&format!("wamid.wh.{n}"), &harness::wa(n % CUSTOMERS), "oi"))
        .collect();
    let started = Instant::now();
    openloop::post_at_rate(&http, &url, bodies, rate).await?;
    let sent = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = ENDPOINTS.iter().map(|e| receiver.delivered(e)).collect::<Vec<_>>();
        if done.iter().all(|d| *d >= count) {
            break;
        }
        ensure!(Instant::now() < deadline, "deliveries stalled at {done:?} of {count}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = receiver.received();
    let last = all.iter().filter(|r| r.status < 300).map(|r| r.arrived).max().unwrap_or_default();
    let first = all.iter().map(|r| r.arrived).min().unwrap_or_default();
    let mut report = Vec::new();
    let mut delays = Vec::new();
    for path in ENDPOINTS {
        let got: Vec<_> = all.iter().filter(|r| r.path == path).collect();
        let delivered: HashSet<&str> = got.iter().filter(|r| r.status < 300).map(|r| r.id.as_str()).collect();
        let ok_copies = got.iter().filter(|r| r.status < 300).count();
        ensure!(delivered.len() == count, "{path}: {} of {count} events delivered", delivered.len());
        let duplicates = ok_copies - delivered.len();
        if path != "flaky" {
            ensure!(duplicates == 0, "{path}: {duplicates} webhook-ids delivered twice");
            for r in &got {
                let at: chrono::DateTime<chrono::Utc> =
                    r.json()["timestamp"].as_str().unwrap_or_default().parse()?;
                delays.push((r.arrived - at).to_std().unwrap_or_default());
            }
        }
        report.push((path, delivered.len(), duplicates));
    }
    let successful: usize = report.iter().map(|r| r.1).sum();
    let span = (last - first).to_std().unwrap_or_default();
    let per_second = successful as f64 / span.as_secs_f64();
    let delay = latencies(delays);
    p.running.stop().await?;
    publish(
        "webhooks-out",
        &[
            (
                "events",
                format!(
                    "{count} customer messages at {rate:.0}/s (posted in {:.1} s) → message.received",
                    sent.as_secs_f64()
                ),
            ),
            ("endpoints", "erp and crm healthy; flaky fails the first attempt of every event, half its requests (retried 5 s later)".into()),
            (
                "delivered",
                format!("{successful} deliveries in {:.1} s: {per_second:.0}/s; 0 lost", span.as_secs_f64()),
            ),
            ("duplicates at healthy receivers", "0 webhook-ids twice".into()),
            (
                "event → first delivery (healthy)",
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                    ms(delay.p50),
                    ms(delay.p99),
                    ms(delay.max)
                ),
            ),
        ],
        json!({"count": count, "rate": rate, "deliveries": successful, "seconds": span.as_secs_f64(),
               "deliveries_per_second": per_second, "lost": 0, "duplicates_healthy": 0,
               "first_delivery_ms": {"p50": ms(delay.p50), "p99": ms(delay.p99), "max": ms(delay.max)}}),
    )
}
