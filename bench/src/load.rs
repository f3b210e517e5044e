//! The load scenarios: webhook ingest, end to end, paced sending.

use crate::harness::{self, Product};
use crate::report::{latencies, ms, peak_memory_mib, publish};
use atende_core::conversations::messages::{self, Draft, SendMessage};
use atende_core::conversations::sessions;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap()
}

/// Posts every request with `connections` concurrent workers; returns each latency and
/// the wall time.
async fn hammer(
    http: &reqwest::Client,
    url: &str,
    requests: Arc<Vec<Option<(String, String)>>>,
    connections: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (http, url, requests, next) = (http.clone(), url.to_owned(), requests.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else { return Ok::<_, anyhow::Error>(samples) };
                let t = Instant::now();
                let response = match request {
                    Some((body, sig)) => {
                        http.post(&url)
                            .header("content-type", "application/json")
                            .header("x-hub-signature-256", sig)
                            .body(body.clone())
                            .send()
                            .await?
                    }
                    None => http.get(&url).send().await?,
                };
                let status = response.status();
                let _ = response.bytes().await?;
                anyhow::ensure!(status.is_success(), "{url} answered {status}");
                samples.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    Ok((all, started.elapsed()))
}

pub async fn ingest(count: usize, connections: usize) -> anyhow::Result<()> {
    let product = harness::start(80, |c, e| (c, e)).await?;
    let http = client(connections);
    let bodies: Vec<Option<(String, String)>> = (0..count)
        .map(|n| Some(harness::text(&format!("wamid.ingest.{n}"), &harness::wa(n % 1000), "bench")))
        .collect();
    // Warm the connections and the code paths.
    hammer(&http, &format!("{}/health", product.base), Arc::new(vec![None; connections * 4]), connections)
        .await?;
    let (hooks, hooks_wall) =
        hammer(&http, &format!("{}/webhooks/whatsapp", product.base), Arc::new(bodies), connections).await?;
    let (bare, bare_wall) =
        hammer(&http, &format!("{}/health", product.base), Arc::new(vec![None; count]), connections).await?;
    let (h, b) = (latencies(hooks), latencies(bare));
    let (hook_rps, bare_rps) =
        (count as f64 / hooks_wall.as_secs_f64(), count as f64 / bare_wall.as_secs_f64());
    let peak = peak_memory_mib();
    publish(
        "ingest",
        &[
            ("requests", format!("{count} signed webhooks, {connections} connections")),
            ("webhook throughput", format!("{hook_rps:.0} req/s")),
            (
                "webhook latency",
                format!(
                    "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    ms(h.p50),
                    ms(h.p95),
                    ms(h.p99),
                    ms(h.max)
                ),
            ),
            ("bare 200 throughput", format!("{bare_rps:.0} req/s")),
            (
                "bare 200 latency",
                format!("p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms", ms(b.p50), ms(b.p95), ms(b.p99)),
            ),
            ("webhook / bare", format!("{:.1}%", 100.0 * hook_rps / bare_rps)),
            ("peak memory", format!("{peak:.0} MiB (whole process: runtime + load generator)")),
        ],
        json!({"count": count, "connections": connections, "webhook_rps": hook_rps, "webhook_ms": {"p50": ms(h.p50), "p95": ms(h.p95), "p99": ms(h.p99)},
               "bare_rps": bare_rps, "bare_ms": {"p50": ms(b.p50), "p95": ms(b.p95), "p99": ms(b.p99)}, "ratio": hook_rps / bare_rps, "peak_memory_mib": peak}),
    )?;
    product.running.stop().await
}

async fn unread_total(http: &reqwest::Client, p: &Product) -> anyhow::Result<u64> {
    let mut total = 0;
    let mut path = format!("{}/v1/sessions?tab=pending&limit=100", p.base);
    loop {
        let page: Value = http.get(&path).bearer_auth(&p.token).send().await?.json().await?;
        total += page["items"]
            .as_array()
            .map(|a| a.iter().map(|s| s["unread"].as_u64().unwrap_or(0)).sum::<u64>())
            .unwrap_or(0);
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{}/v1/sessions?tab=pending&limit=100&cursor={c}", p.base),
            None => return Ok(total),
        }
    }
}

pub async fn e2e(count: usize, contacts: usize, connections: usize) -> anyhow::Result<()> {
    let product = harness::start(80, |c, e| (c, e)).await?;
    let http = client(connections);
    let bodies: Vec<Option<(String, String)>> = (0..count)
        .map(|n| Some(harness::text(&format!("wamid.e2e.{n}"), &harness::wa(n % contacts), "hello")))
        .collect();
    let started = Instant::now();
    let (_, post_wall) =
        hammer(&http, &format!("{}/webhooks/whatsapp", product.base), Arc::new(bodies), connections).await?;
    loop {
        if unread_total(&http, &product).await? >= count as u64 {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "not all stored after 10 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed();
    let rate = count as f64 / total.as_secs_f64();
    publish(
        "e2e",
        &[
            ("messages", format!("{count} from {contacts} contacts, {connections} connections")),
            ("all webhooks acknowledged after", format!("{:.2} s", post_wall.as_secs_f64())),
            ("all stored and visible after", format!("{:.2} s", total.as_secs_f64())),
            ("end-to-end throughput", format!("{rate:.0} messages/s")),
        ],
        json!({"count": count, "contacts": contacts, "ack_seconds": post_wall.as_secs_f64(), "visible_seconds": total.as_secs_f64(), "messages_per_second": rate}),
    )?;
    product.running.stop().await
}

pub async fn send(count: usize, rate: u32) -> anyhow::Result<()> {
    let product = harness::start(rate, |c, e| (c, e)).await?;
    let http = client(16);
    let contacts = 100.min(count);
    // Each contact writes first (the 24 h window), and the admin takes every session.
    let opening: Vec<Option<(String, String)>> = (0..contacts)
        .map(|n| Some(harness::text(&format!("wamid.open.{n}"), &harness::wa(n), "oi")))
        .collect();
    hammer(&http, &format!("{}/webhooks/whatsapp", product.base), Arc::new(opening), 16).await?;
    let deps = product.running.ctx.deps.clone();
    let mut ids = Vec::new();
    for _ in 0..600 {
        let page = sessions::list(
            &deps,
            &product.admin,
            serde_json::from_value(json!({"tab": "pending", "limit": 100}))?,
        )
        .await?;
        if page.items.len() >= contacts {
            ids = page.items.into_iter().map(|s| s.id).collect();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(ids.len() == contacts, "sessions did not open");
    for id in &ids {
        sessions::assume(&deps, &product.admin, id).await?;
    }
    let started = Instant::now();
    for i in 0..count {
        let draft = Draft::Text { text: format!("m{i}") };
        messages::send(
            &deps,
            &product.admin,
            &ids[i % contacts],
            SendMessage { draft, reply_to_message_id: None },
        )
        .await?;
    }
    let queued = started.elapsed();
    while product.graph.sends().len() < count {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(count as u64 / rate as u64 * 3 + 60),
            "sends stalled at {}",
            product.graph.sends().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // anything sent twice would arrive now
    let sends = product.graph.sends();
    let mut times: Vec<Instant> = sends.iter().map(|r| r.at).collect();
    times.sort();
    let span = times.last().unwrap().duration_since(times[0]);
    let achieved = (sends.len() - 1) as f64 / span.as_secs_f64();
    let window = Duration::from_secs(1);
    let mut busiest = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while j < times.len() && times[j].duration_since(times[i]) < window {
            j += 1;
        }
        busiest = busiest.max(j - i);
    }
    let mut bodies: Vec<&str> = sends.iter().map(|r| r.body["text"]["body"].as_str().unwrap_or("")).collect();
    bodies.sort();
    let before = bodies.len();
    bodies.dedup();
    let twice = before - bodies.len();
    publish(
        "send",
        &[
            ("messages", format!("{count} to {contacts} contacts, channel limit {rate}/s")),
            ("queued by the API in", format!("{:.2} s", queued.as_secs_f64())),
            (
                "achieved rate",
                format!("{achieved:.1} messages/s ({:.1}% of the limit)", 100.0 * achieved / f64::from(rate)),
            ),
            ("busiest one-second window", format!("{busiest} messages (limit {rate})")),
            ("sent twice", format!("{twice}")),
        ],
        json!({"count": count, "limit": rate, "achieved_per_second": achieved, "busiest_window": busiest, "sent_twice": twice, "queued_seconds": queued.as_secs_f64()}),
    )?;
    product.running.stop().await
}
