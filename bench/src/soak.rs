//! `soak`: minutes of mixed traffic on one process. Customers write at half the measured
//! maximum (open loop), the agent answers through the API, and Meta reports three statuses
//! (sent, delivered, read) for every answer. Each minute: throughput, p99 latencies, resident
//! memory. At the end: queue depths (must be empty) and every message counted: none lost,
//! none twice, in either direction.

use crate::harness::{self, Product};
use crate::openloop::{self, Watcher};
use crate::report::{latencies, ms, peak_memory_mib, publish, resident_mib};
use atende_core::conversations::sessions;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONTACTS: usize = 1000;
/// The customers whose sessions are watched for the visibility latency.
const WATCHED: usize = 20;
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// Agent answers per second (under the channel's 80/s, so the send queue keeps up).
const REPLIES_PER_SECOND: f64 = 20.0;
const IN_FLIGHT: usize = 256;

#[derive(Default)]
struct Minute {
    answered: usize,
    answer_latency: Vec<Duration>,
    visible_latency: Vec<Duration>,
}

/// `rate`: customers' messages per second (default: half the maximum measured first).
pub async fn run(minutes: u64, rate: Option<f64>) -> anyhow::Result<()> {
    let product = harness::start(80, |c, e| (c, e)).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build()?;
    let hook = format!("{}/webhooks/whatsapp", product.base);

    // The maximum, measured here: a burst of 5 messages per contact, which also opens
    // every contact's session.
    let burst = 5 * CONTACTS;
    let bodies: Vec<(String, String)> = (0..burst)
        .map(|n| harness::text(&format!("wamid.burst.{n}"), &harness::wa(n % CONTACTS), "oi"))
        .collect();
    let started = Instant::now();
    openloop::post_at_rate(&http, &hook, bodies, 1e9).await?;
    let sessions = wait_for_sessions(&http, &product, burst as u64).await?;
    let max_rate = burst as f64 / started.elapsed().as_secs_f64();
    let rate = rate.unwrap_or(max_rate / 2.0);
    let deps = product.running.ctx.deps.clone();
    for id in &sessions {
        sessions::assume(&deps, &product.admin, id).await?;
    }
    let wanted: HashSet<String> = (0..WATCHED).map(|k| format!("wamid.burst.{k}")).collect();
    let watched = openloop::sessions_holding(&http, &product, &sessions, &wanted).await?;
    let watcher = Watcher::start(&product, &http, &watched, WATCH_EVERY);

    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let minute_of = move |at: Instant| (at.saturating_duration_since(began).as_secs() / 60) as usize;
    let per_minute: Arc<Mutex<Vec<Minute>>> =
        Arc::new(Mutex::new((0..=minutes as usize).map(|_| Minute::default()).collect()));
    let inbound_sent = Arc::new(AtomicUsize::new(0));
    let pending_watch: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();

    // Customers: open loop at `rate`.
    let customers = {
        let (http, hook, stop, per_minute, sent, pending_watch) = (
            http.clone(),
            hook.clone(),
            stop.clone(),
            per_minute.clone(),
            inbound_sent.clone(),
            pending_watch.clone(),
        );
        tokio::spawn(async move {
            let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
            let start = tokio::time::Instant::now();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let due = start + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(due).await;
                let contact = n % CONTACTS;
                let wamid = format!("wamid.soak.{n}");
                let (body, sig) = harness::text(&wamid, &harness::wa(contact), "soak");
                let (http, hook, per_minute, slots, pending_watch) =
                    (http.clone(), hook.clone(), per_minute.clone(), slots.clone(), pending_watch.clone());
                sent.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let Ok(_slot) = slots.acquire_owned().await else { return };
                    let posted = http
                        .post(&hook)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sig)
                        .body(body)
                        .send()
                        .await;
                    let answered = Instant::now();
                    if matches!(&posted, Ok(r) if r.status().is_success()) {
                        let mut minutes = per_minute.lock().unwrap();
                        if let Some(m) = minutes.get_mut(minute_of(answered)) {
                            m.answered += 1;
                            m.answer_latency.push(answered.saturating_duration_since(due.into_std()));
                        }
                        if contact < WATCHED {
                            pending_watch.lock().unwrap().push((wamid, answered));
                        }
                    }
                });
                n += 1;
            }
        })
    };

    // The agent: answers round the sessions through the API.
    let replies_sent = Arc::new(AtomicUsize::new(0));
    let agent = {
        let (http, product_base, token, stop, sessions, replies) = (
            http.clone(),
            product.base.clone(),
            product.token.clone(),
            stop.clone(),
            sessions.clone(),
            replies_sent.clone(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / REPLIES_PER_SECOND));
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let session = &sessions[n % sessions.len()];
                let answered = http
                    .post(format!("{product_base}/v1/sessions/{session}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"type": "text", "text": format!("r{n}")}))
                    .send()
                    .await;
                if matches!(&answered, Ok(r) if r.status().is_success()) {
                    replies.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        })
    };

    // Meta: three statuses for every message the fake Graph API accepted.
    let statuses_posted = Arc::new(AtomicUsize::new(0));
    let meta = {
        let (http, hook, stop, graph, posted) =
            (http.clone(), hook.clone(), stop.clone(), product.graph.clone(), statuses_posted.clone());
        tokio::spawn(async move {
            let mut done = 0usize;
            loop {
                let sends = graph.sends();
                let stopping = stop.load(Ordering::Relaxed);
                for send in sends.iter().skip(done) {
                    let to = send.body["to"].as_str().unwrap_or_default();
                    for status in ["sent", "delivered", "read"] {
                        let (body, sig) = harness::status(&send.wamid, to, status);
                        let ok = http
                            .post(&hook)
                            .header("content-type", "application/json")
                            .header("x-hub-signature-256", sig)
                            .body(body)
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success());
                        if ok {
                            posted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                done = sends.len();
                if stopping {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    // Each minute: what was answered, how late it became visible, memory.
    let mut rss_per_minute = Vec::new();
    let mut depth_samples = Vec::new();
    for minute in 0..minutes as usize {
        tokio::time::sleep_until((began + Duration::from_secs(60 * (minute as u64 + 1))).into()).await;
        note_visible(&watcher, &pending_watch, &per_minute, minute_of);
        rss_per_minute.push(resident_mib());
        depth_samples.push(total_depth(&product).await?);
        let m = &per_minute.lock().unwrap()[minute];
        println!(
            "  minute {:>2}: {:>6} webhooks answered, rss {:.0} MiB, queued {}",
            minute + 1,
            m.answered,
            rss_per_minute[minute],
            depth_samples[minute]
        );
    }
    stop.store(true, Ordering::Relaxed);
    customers.await?;
    agent.await?;

    // Let everything settle: the statuses of the last answers, then empty queues.
    let settle_deadline = Instant::now() + Duration::from_secs(300);
    while product.graph.sends().len() < replies_sent.load(Ordering::Relaxed)
        || total_depth(&product).await? > 0
    {
        anyhow::ensure!(Instant::now() < settle_deadline, "the queues did not drain within 5 minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    meta.await?;
    while total_depth(&product).await? > 0 {
        anyhow::ensure!(Instant::now() < settle_deadline, "the queues did not drain within 5 minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drain_deadline = Instant::now() + Duration::from_secs(60);
    loop {
        note_visible(&watcher, &pending_watch, &per_minute, minute_of);
        if pending_watch.lock().unwrap().is_empty() || Instant::now() > drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unseen_watched = pending_watch.lock().unwrap().len();
    watcher.stop().await;
    let depths = depths(&product).await?;

    // Count every message.
    let sent_inbound = inbound_sent.load(Ordering::Relaxed);
    let counted = count_messages(&http, &product, &sessions).await?;
    let expected_inbound: HashSet<String> = (0..sent_inbound)
        .map(|n| format!("wamid.soak.{n}"))
        .chain((0..burst).map(|n| format!("wamid.burst.{n}")))
        .collect();
    let lost_inbound = expected_inbound.iter().filter(|w| !counted.inbound.contains_key(*w)).count();
    let twice_inbound = counted.inbound.values().filter(|c| **c > 1).count();
    let replies = replies_sent.load(Ordering::Relaxed);
    let sends = product.graph.sends();
    let distinct_sends: HashSet<&str> =
        sends.iter().filter_map(|s| s.body["text"]["body"].as_str()).collect();
    let lost_outbound = replies.saturating_sub(distinct_sends.len());
    let twice_outbound = sends.len() - distinct_sends.len();

    let minutes_view: Vec<Value> = per_minute.lock().unwrap()[..minutes as usize]
        .iter()
        .zip(&rss_per_minute)
        .enumerate()
        .map(|(i, (m, rss))| {
            let a = latencies(m.answer_latency.clone());
            let v = latencies(m.visible_latency.clone());
            json!({"minute": i + 1, "webhooks_per_second": m.answered as f64 / 60.0, "answer_p99_ms": ms(a.p99),
                   "visible_p99_ms": ms(v.p99), "visible_samples": m.visible_latency.len(), "rss_mib": rss})
        })
        .collect();
    let half = minutes as usize / 2;
    let first_half_peak = rss_per_minute[..half.max(1)].iter().copied().fold(0.0, f64::max);
    let second_half_peak = rss_per_minute[half..].iter().copied().fold(0.0, f64::max);
    let peak = peak_memory_mib();
    let mut rows = vec![
        (
            "traffic",
            format!(
                "{minutes} min: customers at {rate:.0}/s ({:.0}% of the {max_rate:.0}/s burst maximum measured first), the agent answering {REPLIES_PER_SECOND}/s, 3 statuses per answer",
                100.0 * rate / max_rate
            ),
        ),
        (
            "messages",
            format!(
                "{} in, {replies} out, {} statuses",
                sent_inbound + burst,
                statuses_posted.load(Ordering::Relaxed)
            ),
        ),
    ];
    for m in &minutes_view {
        rows.push((
            "minute",
            format!(
                "{:>2}: {:>6.0} webhooks/s, answered p99 {:>7.2} ms, visible p99 {:>7.1} ms, rss {:.0} MiB",
                m["minute"],
                m["webhooks_per_second"].as_f64().unwrap_or(0.0),
                m["answer_p99_ms"].as_f64().unwrap_or(0.0),
                m["visible_p99_ms"].as_f64().unwrap_or(0.0),
                m["rss_mib"].as_f64().unwrap_or(0.0)
            ),
        ));
    }
    rows.extend([
        ("peak memory", format!("{peak:.0} MiB (whole process); rss peak first half {first_half_peak:.0} MiB, second half {second_half_peak:.0} MiB")),
        ("queue depths at the end", format!("{depths:?}")),
        ("inbound lost / twice", format!("{lost_inbound} / {twice_inbound}")),
        ("outbound lost / twice", format!("{lost_outbound} / {twice_outbound}")),
        ("answers read (3 statuses applied)", format!("{} of {}", counted.outbound_read, counted.outbound)),
        ("watched messages never seen", format!("{unseen_watched}")),
    ]);
    publish(
        "soak",
        &rows,
        json!({"minutes": minutes, "rate": rate, "max_rate": max_rate, "inbound": sent_inbound + burst, "outbound": replies,
               "statuses": statuses_posted.load(Ordering::Relaxed), "per_minute": minutes_view, "peak_memory_mib": peak,
               "rss_peak_first_half_mib": first_half_peak, "rss_peak_second_half_mib": second_half_peak,
               "queue_depths": depths, "inbound_lost": lost_inbound, "inbound_twice": twice_inbound,
               "outbound_lost": lost_outbound, "outbound_twice": twice_outbound,
               "outbound_read": counted.outbound_read, "outbound_stored": counted.outbound, "watched_unseen": unseen_watched}),
    )?;
    let clean = lost_inbound == 0 && twice_inbound == 0 && lost_outbound == 0 && twice_outbound == 0;
    product.running.stop().await?;
    anyhow::ensure!(clean, "messages were lost or duplicated");
    anyhow::ensure!(depths.values().all(|d| *d == 0), "queues not empty at the end: {depths:?}");
    Ok(())
}

/// Moves watched messages that became visible into their minute's latencies.
fn note_visible(
    watcher: &Watcher,
    pending: &Mutex<Vec<(String, Instant)>>,
    per_minute: &Mutex<Vec<Minute>>,
    minute_of: impl Fn(Instant) -> usize,
) {
    let mut pending = pending.lock().unwrap();
    let mut minutes = per_minute.lock().unwrap();
    pending.retain(|(wamid, answered)| match watcher.seen(wamid) {
        Some(seen) => {
            if let Some(m) = minutes.get_mut(minute_of(*answered)) {
                m.visible_latency.push(seen.saturating_duration_since(*answered));
            }
            false
        }
        None => true,
    });
}

async fn wait_for_sessions(
    http: &reqwest::Client,
    product: &Product,
    messages: u64,
) -> anyhow::Result<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let pending = openloop::pending_sessions(http, product).await?;
        let (unread, ids) = (openloop::unread(&pending), openloop::ids(&pending));
        if unread >= messages && ids.len() == CONTACTS {
            return Ok(ids);
        }
        anyhow::ensure!(Instant::now() < deadline, "the burst was not stored within 5 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Counted {
    /// Provider id → how many times stored.
    inbound: HashMap<String, usize>,
    outbound: usize,
    outbound_read: usize,
}

/// Every message of every session, through the API.
async fn count_messages(
    http: &reqwest::Client,
    product: &Product,
    sessions: &[String],
) -> anyhow::Result<Counted> {
    let mut counted = Counted { inbound: HashMap::new(), outbound: 0, outbound_read: 0 };
    for id in sessions {
        let mut path = format!("/v1/sessions/{id}/messages?limit=100");
        loop {
            let page = openloop::get_json(http, product, &path).await?;
            for m in page["items"].as_array().into_iter().flatten() {
                if m["direction"] == "in" {
                    if let Some(p) = m["provider_id"].as_str() {
                        *counted.inbound.entry(p.to_owned()).or_default() += 1;
                    }
                } else {
                    counted.outbound += 1;
                    if m["status"] == "read" {
                        counted.outbound_read += 1;
                    }
                }
            }
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/v1/sessions/{id}/messages?limit=100&cursor={c}"),
                None => break,
            }
        }
    }
    Ok(counted)
}

async fn depths(product: &Product) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let mut out = std::collections::BTreeMap::new();
    for spec in atende_core::queues::all() {
        for name in [spec.name.clone(), atende_embedded::queue::dlq_name(&spec.name)] {
            out.insert(name.clone(), product.queue.depth(&name).await?);
        }
    }
    Ok(out)
}

/// Messages waiting in the working queues (dead letters do not drain; they are reported).
async fn total_depth(product: &Product) -> anyhow::Result<u64> {
    let mut total = 0;
    for spec in atende_core::queues::all() {
        total += product.queue.depth(&spec.name).await?;
    }
    Ok(total)
}
