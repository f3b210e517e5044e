//! The load scenarios: webhook ingest, end to end, paced sending.

use crate::harness::{self, Product};
use crate::openloop;
use crate::report::{Latencies, latencies, ms, peak_memory_mib, publish};
use atende_core::conversations::messages::{self, Draft, SendMessage};
use atende_core::conversations::sessions;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(crate) fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap()
}

/// Posts every request with `connections` concurrent workers; returns each latency and
/// the wall time.
pub(crate) async fn hammer(
    http: &reqwest::Client,
    url: &str,
    requests: Arc<Vec<Option<(String, String)>>>,
    connections: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    hammer_with(http, url, requests, connections, "x-hub-signature-256").await
}

/// [`hammer`], each body's credential in `header` (Meta's signature, Telegram's secret
/// token).
pub(crate) async fn hammer_with(
    http: &reqwest::Client,
    url: &str,
    requests: Arc<Vec<Option<(String, String)>>>,
    connections: usize,
    header: &'static str,
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
                            .header(header, sig)
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

/// The webhook function alone, as it runs in AWS: nothing consumes the inbound queue
/// behind it, so the figure is the endpoint's own (the `e2e` scenario runs everything).
pub async fn ingest(count: usize, connections: usize) -> anyhow::Result<()> {
    let product = harness::start_tuned(80, Some(0), |c, e| (c, e)).await?;
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
    // Open loop at half the maximum: latency that a stall cannot hide.
    let half = hook_rps / 2.0;
    let paced: Vec<(String, String)> = (0..(half * 5.0) as usize)
        .map(|n| harness::text(&format!("wamid.paced.{n}"), &harness::wa(n % 1000), "bench"))
        .collect();
    let paced_count = paced.len();
    let answers =
        openloop::post_at_rate(&http, &format!("{}/webhooks/whatsapp", product.base), paced, half).await?;
    let o = latencies(answers.iter().map(openloop::Answered::latency).collect());
    let peak = peak_memory_mib();
    publish(
        "ingest",
        &[
            ("requests", format!("{count} signed webhooks, {connections} connections, no consumer running")),
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
            (
                "open loop at half",
                format!(
                    "{paced_count} webhooks at {half:.0}/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    ms(o.p50),
                    ms(o.p99),
                    ms(o.max)
                ),
            ),
            ("peak memory", format!("{peak:.0} MiB (whole process: runtime + load generator)")),
        ],
        json!({"count": count, "connections": connections, "webhook_rps": hook_rps, "webhook_ms": {"p50": ms(h.p50), "p95": ms(h.p95), "p99": ms(h.p99)},
               "bare_rps": bare_rps, "bare_ms": {"p50": ms(b.p50), "p95": ms(b.p95), "p99": ms(b.p99)}, "ratio": hook_rps / bare_rps, "peak_memory_mib": peak,
               "open_loop": {"rate": half, "count": paced_count, "ms": {"p50": ms(o.p50), "p95": ms(o.p95), "p99": ms(o.p99), "max": ms(o.max)}}}),
    )?;
    product.running.stop().await
}

pub(crate) async fn unread_total(http: &reqwest::Client, p: &Product) -> anyhow::Result<u64> {
    Ok(openloop::unread(&openloop::pending_sessions(http, p).await?))
}

/// Throughput by a closed-loop burst, then the acknowledged → visible latency at
/// `latency_rate` (default: half the throughput).
pub async fn e2e(
    count: usize,
    contacts: usize,
    connections: usize,
    latency_rate: Option<f64>,
) -> anyhow::Result<()> {
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
    let latency = visible_latency(&product, &http, contacts, latency_rate.unwrap_or(rate / 2.0)).await?;
    publish(
        "e2e",
        &[
            ("messages", format!("{count} from {contacts} contacts, {connections} connections")),
            ("all webhooks acknowledged after", format!("{:.2} s", post_wall.as_secs_f64())),
            ("all stored and visible after", format!("{:.2} s", total.as_secs_f64())),
            ("end-to-end throughput", format!("{rate:.0} messages/s")),
            (
                "acknowledged → visible",
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} messages at {:.0}/s, open loop; {} samples, from {} customers whose sessions are polled every {} ms)",
                    ms(latency.visible.p50),
                    ms(latency.visible.p99),
                    ms(latency.visible.max),
                    latency.messages,
                    latency.rate,
                    latency.samples,
                    WATCHED,
                    WATCH_EVERY.as_millis()
                ),
            ),
            (
                "webhook answered (open loop)",
                format!("p50 {:.2} ms, p99 {:.2} ms", ms(latency.answered.p50), ms(latency.answered.p99)),
            ),
        ],
        json!({"count": count, "contacts": contacts, "ack_seconds": post_wall.as_secs_f64(), "visible_seconds": total.as_secs_f64(), "messages_per_second": rate,
               "latency": {"rate": latency.rate, "messages": latency.messages, "samples": latency.samples, "watched_sessions": WATCHED, "watch_every_ms": WATCH_EVERY.as_millis() as u64,
                           "visible_ms": {"p50": ms(latency.visible.p50), "p95": ms(latency.visible.p95), "p99": ms(latency.visible.p99), "max": ms(latency.visible.max)},
                           "answered_ms": {"p50": ms(latency.answered.p50), "p95": ms(latency.answered.p95), "p99": ms(latency.answered.p99)}}}),
    )?;
    product.running.stop().await
}

/// The latency phase: customers writing, how many of them have their session watched
/// through the API, and how often (polling is itself load: 10 sessions every 50 ms is
/// 200 requests a second; 50 every 50 ms took a whole core).
const LATENCY_CONTACTS: usize = 200;
const WATCHED: usize = 10;
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// How long the latency phase sends for.
const LATENCY_SECONDS: f64 = 20.0;

struct VisibleLatency {
    rate: f64,
    messages: usize,
    samples: usize,
    visible: Latencies,
    answered: Latencies,
}

/// Webhook acknowledged → message visible through the API, at `rate` (open loop) from
/// `LATENCY_CONTACTS` customers; the sessions of the first `WATCHED` are watched as an
/// agent's screen would, and their messages are the samples.
async fn visible_latency(
    product: &Product,
    http: &reqwest::Client,
    contacts: usize,
    rate: f64,
) -> anyhow::Result<VisibleLatency> {
    let url = format!("{}/webhooks/whatsapp", product.base);
    let sessions = openloop::ids(&openloop::pending_sessions(http, product).await?);
    let contacts = contacts.min(LATENCY_CONTACTS);
    let wanted = (0..WATCHED.min(contacts)).map(|k| format!("wamid.e2e.{k}")).collect();
    let watched = openloop::sessions_holding(http, product, &sessions, &wanted).await?;
    let watcher = openloop::Watcher::start(product, http, &watched, WATCH_EVERY);
    let messages = (rate * LATENCY_SECONDS) as usize;
    let wamids: Vec<String> = (0..messages).map(|n| format!("wamid.latency.{n}")).collect();
    let bodies = wamids
        .iter()
        .enumerate()
        .map(|(n, w)| harness::text(w, &harness::wa(n % contacts), "latency"))
        .collect();
    let answers = openloop::post_at_rate(http, &url, bodies, rate).await?;
    let visible =
        openloop::acknowledged_to_seen(&watcher, &wamids, &answers, |n| n % contacts < WATCHED).await?;
    watcher.stop().await;
    Ok(VisibleLatency {
        rate,
        messages,
        samples: visible.len(),
        visible: latencies(visible),
        answered: latencies(answers.iter().map(openloop::Answered::latency).collect()),
    })
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
