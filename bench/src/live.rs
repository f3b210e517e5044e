//! `live`: clients on one account's live stream (Server-Sent Events from the local
//! process) while customers write at a steady rate: the delay from the webhook's answer to
//! each client's `message.received` (p50/p99), every client getting every event, and the
//! process's CPU and memory (the clients run in the same process, so both include them).

use crate::harness;
use crate::openloop;
use crate::report::{latencies, ms, publish, resident_mib};
use anyhow::{Context, ensure};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each client's arrivals: (contact id, when its `message.received` came).
type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

pub async fn run(clients: usize, count: usize, rate: f64) -> anyhow::Result<()> {
    let p = harness::start(1000, |c, e| (c, e)).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients + 64).build()?;
    let mut arrivals: Vec<Arrivals> = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..clients {
        let response = http
            .get(format!("{}/v1/live/stream", p.base))
            .bearer_auth(&p.token)
            .send()
            .await
            .context("opening a live stream")?;
        ensure!(response.status().is_success(), "the stream answered {}", response.status());
        let got: Arrivals = Arc::default();
        arrivals.push(got.clone());
        readers.push(tokio::spawn(read_stream(response, got, count)));
    }
    let cpu_before = cpu_seconds();
    let url = format!("{}/webhooks/whatsapp", p.base);
    // One message per customer: each `message.received` names its own contact.
    let bodies =
        (0..count).map(|n| harness::text(&format!("wamid.live.{n}"), &harness::wa(n), "oi")).collect();
    let started = Instant::now();
    let answered = openloop::post_at_rate(&http, &url, bodies, rate).await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    for reader in readers {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, reader).await.is_err() {
            let counts: Vec<usize> = arrivals.iter().map(|a| a.lock().unwrap().len()).collect();
            anyhow::bail!("clients still waiting for events: each got {counts:?} of {count}");
        }
    }
    let span = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    let rss = resident_mib();

    // Which customer each contact is: their numbers, through the API.
    let wa_to_n: HashMap<String, usize> = (0..count).map(|n| (harness::wa(n), n)).collect();
    let mut contact_to_n = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/v1/contacts?limit=100", p.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http.get(url).bearer_auth(&p.token).send().await?.json().await?;
        for c in page["items"].as_array().into_iter().flatten() {
            if let (Some(id), Some(n)) = (c["id"].as_str(), c["wa_id"].as_str().and_then(|w| wa_to_n.get(w)))
            {
                contact_to_n.insert(id.to_owned(), *n);
            }
        }
        cursor = page["next_cursor"].as_str().filter(|c| !c.is_empty()).map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let mut delays = Vec::with_capacity(clients * count);
    for got in &arrivals {
        let got = got.lock().unwrap();
        ensure!(got.len() == count, "a client got {} of {count} messages", got.len());
        for (contact, at) in got.iter() {
            let n = *contact_to_n.get(contact).context("an event of an unknown contact")?;
            delays.push(at.saturating_duration_since(answered[n].answered));
        }
    }
    let delay = latencies(delays);
    p.running.stop().await?;
    publish(
        "live",
        &[
            ("clients", format!("{clients} Server-Sent Events streams, one account (its admin)")),
            ("messages", format!("{count} customers' messages at {rate:.0}/s")),
            (
                "delivered",
                format!(
                    "{} events to clients, every client every message, in {:.1} s",
                    clients * count,
                    span.as_secs_f64()
                ),
            ),
            (
                "webhook answered → client",
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                    ms(delay.p50),
                    ms(delay.p99),
                    ms(delay.max)
                ),
            ),
            (
                "process (clients included)",
                format!("CPU {:.0}% of one core, resident {rss:.0} MiB", 100.0 * cpu / span.as_secs_f64()),
            ),
        ],
        json!({"clients": clients, "count": count, "rate": rate,
               "latency_ms": {"p50": ms(delay.p50), "p99": ms(delay.p99), "max": ms(delay.max)},
               "cpu_core_share": cpu / span.as_secs_f64(), "rss_mib": rss}),
    )
}

/// Reads one stream until it has `count` `message.received` events.
async fn read_stream(mut response: reqwest::Response, got: Arrivals, count: usize) -> anyhow::Result<()> {
    let mut buffer = String::new();
    loop {
        let chunk = response.chunk().await?.context("the stream ended")?;
        buffer.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| frame.lines().find_map(|l| l.strip_prefix(name).map(str::trim_start));
            anyhow::ensure!(field("event:") != Some("reload"), "a client was told to reload");
            if field("event:") != Some("message.received") {
                continue;
            }
            let Some(data) = field("data:") else { continue };
            let event: Value = serde_json::from_str(data)?;
            let contact = event["data"]["contact_id"].as_str().unwrap_or_default().to_owned();
            let mut got = got.lock().unwrap();
            got.push((contact, Instant::now()));
            if got.len() == count {
                return Ok(());
            }
        }
    }
}

/// The process's CPU time so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
