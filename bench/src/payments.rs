//! `payments`: 1,000 payment requests from 1,000 conversations against the fake Asaas, then
//! every webhook Asaas makes for them (created, received) delivered twice in a shuffled
//! order — requests per second through the API, the request → link-sent latency (the API
//! call to the message with the link reaching Meta), webhooks per second, and the proof:
//! one charge per request at Asaas, one link per payment, every payment `received` with
//! one `PAYMENT_RECEIVED` in its history.

use crate::crm::call;
use crate::harness::{self, Product};
use crate::report::{latencies, ms, publish};
use anyhow::{Context, bail, ensure};
use atende_testkit::fake_asaas::{API_KEY, FakeAsaas};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-asaas-webhook-token-0123456789";

/// A valid CPF (check digits computed) for payer `n`.
fn cpf(n: usize) -> String {
    let base: Vec<u32> =
        format!("{:09}", 100_000_000 + n % 800_000_000).chars().filter_map(|c| c.to_digit(10)).collect();
    let digit = |digits: &[u32]| {
        let len = digits.len() as u32;
        let sum: u32 = digits.iter().enumerate().map(|(i, d)| d * (len + 1 - i as u32)).sum();
        let rest = sum * 10 % 11;
        if rest == 10 { 0 } else { rest }
    };
    let mut all = base.clone();
    all.push(digit(&base));
    let second = digit(&all);
    all.push(second);
    all.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect()
}

/// Runs `work` on every item with `connections` at a time; each result in item order.
async fn each<I, T, F, Fut>(items: Vec<I>, connections: usize, work: F) -> anyhow::Result<Vec<T>>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(usize, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send,
{
    let queue = Arc::new(std::sync::Mutex::new(items.into_iter().enumerate().collect::<Vec<_>>()));
    queue.lock().unwrap().reverse();
    let work = Arc::new(work);
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (queue, work) = (queue.clone(), work.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((i, item)) = next else { return anyhow::Ok(done) };
                done.push((i, work(i, item).await?));
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, t)| t).collect())
}

/// Every payment through the API (the admin's list), by id.
async fn payments(p: &Product, http: &reqwest::Client) -> anyhow::Result<(Vec<Value>, Value)> {
    let list = call(p, http, reqwest::Method::GET, "/v1/payments", None).await?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    Ok((items, list["totals"].clone()))
}

/// `count` contacts write in; the admin takes each session. Their ids.
async fn open_sessions(
    p: &Arc<Product>,
    http: &reqwest::Client,
    count: usize,
    connections: usize,
) -> anyhow::Result<Vec<String>> {
    let opening = (0..count)
        .map(|n| Some(harness::text(&format!("wamid.open.{n}"), &harness::wa(n), "oi, quero pagar")))
        .collect();
    crate::load::hammer(http, &format!("{}/webhooks/whatsapp", p.base), Arc::new(opening), connections)
        .await?;
    let started = Instant::now();
    let sessions = loop {
        let sessions = crate::openloop::ids(&crate::openloop::pending_sessions(http, p).await?);
        if sessions.len() >= count {
            break sessions;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(300),
            "{} of {count} sessions opened",
            sessions.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (pc, h) = (p.clone(), http.clone());
    each(sessions.clone(), connections, move |_, id| {
        let (p, http) = (pc.clone(), h.clone());
        async move { call(&p, &http, reqwest::Method::POST, &format!("/v1/sessions/{id}/assume"), None).await }
    })
    .await?;
    Ok(sessions)
}

pub async fn run(count: usize, connections: usize) -> anyhow::Result<()> {
    let asaas = FakeAsaas::start().await;
    let base = asaas.base_url.clone();
    let p = Arc::new(
        harness::start_configured(
            1000,
            move |s| {
                s.providers.asaas_production_url = base.clone();
                s.providers.asaas_sandbox_url = base;
            },
            |c, e| (c, e),
        )
        .await?,
    );
    let http = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
    call(
        &p,
        &http,
        reqwest::Method::PUT,
        "/v1/payment-settings",
        Some(json!({"enabled": true, "environment": "sandbox", "api_key": API_KEY, "webhook_token": TOKEN})),
    )
    .await?;
    let sessions = open_sessions(&p, &http, count, connections).await?;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();

    // The requests, closed loop: each connection asks for the next payment when its last
    // one was answered.
    let started = Instant::now();
    let (pc, h) = (p.clone(), http.clone());
    let requested = each(sessions, connections, move |n, session| {
        let (p, http, due) = (pc.clone(), h.clone(), due.clone());
        async move {
            let at = Instant::now();
            let body = json!({"amount_cents": 5_000 + n as i64, "method": if n % 2 == 0 { "pix" } else { "boleto" },
                "description": "Mensalidade", "due_date": due, "payer_name": "Cliente Bench", "payer_document": cpf(n)});
            let made =
                call(&p, &http, reqwest::Method::POST, &format!("/v1/sessions/{session}/payments"), Some(body))
                    .await?;
            let id = made["id"].as_str().context("a payment id")?.to_owned();
            Ok((id, at, at.elapsed()))
        }
    })
    .await?;
    let request_wall = started.elapsed();
    // Every link at Meta.
    let deadline = Instant::now() + Duration::from_secs(600);
    while p.graph.sends().len() < count {
        ensure!(Instant::now() < deadline, "{} of {count} links sent", p.graph.sends().len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let links_wall = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await; // a link sent twice would arrive now
    let sends = p.graph.sends();
    let (items, _) = payments(&p, &http).await?;
    let link_of: HashMap<String, String> = items
        .iter()
        .filter_map(|i| Some((i["id"].as_str()?.to_owned(), i["invoice_url"].as_str()?.to_owned())))
        .collect();
    let mut sent_at: HashMap<&str, Vec<Instant>> = HashMap::new();
    for s in &sends {
        let text = s.body["text"]["body"].as_str().unwrap_or("");
        if let Some(start) = text.find("https://sandbox.asaas.com/i/pay_") {
            let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
            if let Some((id, _)) = link_of.iter().find(|(_, l)| **l == link) {
                sent_at.entry(id.as_str()).or_default().push(s.at);
            }
        }
    }
    let mut to_link = Vec::new();
    for (id, at, _) in &requested {
        let times = sent_at.get(id.as_str()).with_context(|| format!("payment {id} had no link sent"))?;
        ensure!(times.len() == 1, "payment {id}: its link went {} times", times.len());
        to_link.push(times[0].saturating_duration_since(*at));
    }
    let answered = latencies(requested.iter().map(|(_, _, took)| *took).collect());
    let to_link = latencies(to_link);

    // Asaas' side: every charge paid; its events (created, received) twice each, shuffled.
    for charge in asaas.payments() {
        asaas.pay(charge["id"].as_str().context("a charge id")?);
    }
    let mut events = asaas.take_events();
    let made = events.len();
    events.extend(events.clone());
    atende_testkit::shuffle(&mut events, 0x9E37_79B9_7F4A_7C15);
    let url = format!("{}/webhooks/asaas/{}", p.base, p.admin.account_id);
    let delivered = events.len();
    let h = http.clone();
    let hooks_started = Instant::now();
    let hook_times = each(events, connections, move |_, event| {
        let (http, url) = (h.clone(), url.clone());
        async move {
            let at = Instant::now();
            let r = http.post(&url).header("asaas-access-token", TOKEN).json(&event).send().await?;
            ensure!(r.status() == 200, "the Asaas webhook answered {}", r.status());
            Ok(at.elapsed())
        }
    })
    .await?;
    let hooks_wall = hooks_started.elapsed();
    let applied_wall = loop {
        let (_, totals) = payments(&p, &http).await?;
        if totals["by_status"]["received"]["count"].as_u64() == Some(count as u64) {
            break hooks_started.elapsed();
        }
        ensure!(hooks_started.elapsed() < Duration::from_secs(600), "not every payment received: {totals}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let hooks = latencies(hook_times);

    // The proof.
    let charges = asaas.payments();
    let references: HashSet<&str> = charges.iter().filter_map(|c| c["externalReference"].as_str()).collect();
    let duplicate_charges = charges.len() - references.len();
    let (items, totals) = payments(&p, &http).await?;
    for i in &items {
        let received = i["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| h["event"] == "PAYMENT_RECEIVED")
            .count();
        ensure!(received == 1, "payment {} has {received} PAYMENT_RECEIVED entries", i["id"]);
    }
    let request_rate = count as f64 / request_wall.as_secs_f64();
    let hook_rate = delivered as f64 / hooks_wall.as_secs_f64();
    let p = Arc::try_unwrap(p).map_err(|_| anyhow::anyhow!("the product is still shared"))?;
    p.running.stop().await?;
    if charges.len() != count || duplicate_charges != 0 {
        bail!("{} charges at Asaas for {count} requests ({duplicate_charges} duplicates)", charges.len());
    }
    publish(
        "payments",
        &[
            (
                "requests",
                format!("{count} Pix and boleto payments from {count} sessions, {connections} connections"),
            ),
            (
                "requests answered",
                format!(
                    "{request_rate:.0}/s; p50 {:.1} ms, p99 {:.1} ms",
                    ms(answered.p50),
                    ms(answered.p99)
                ),
            ),
            (
                "request → link sent to Meta",
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (all {count} links out after {:.2} s)",
                    ms(to_link.p50),
                    ms(to_link.p99),
                    ms(to_link.max),
                    links_wall.as_secs_f64()
                ),
            ),
            (
                "Asaas webhooks",
                format!(
                    "{made} events × 2 = {delivered}, shuffled: {hook_rate:.0}/s answered 200, p99 {:.1} ms; all applied after {:.2} s",
                    ms(hooks.p99),
                    applied_wall.as_secs_f64()
                ),
            ),
            (
                "proof",
                format!(
                    "{} charges at Asaas, {duplicate_charges} duplicates; {count} links, each once; {} payments received, each with one PAYMENT_RECEIVED",
                    charges.len(),
                    totals["by_status"]["received"]["count"]
                ),
            ),
        ],
        json!({"count": count, "connections": connections, "requests_per_second": request_rate,
               "request_ms": {"p50": ms(answered.p50), "p99": ms(answered.p99)},
               "link_sent_ms": {"p50": ms(to_link.p50), "p95": ms(to_link.p95), "p99": ms(to_link.p99), "max": ms(to_link.max)},
               "links_seconds": links_wall.as_secs_f64(), "webhooks": delivered, "webhooks_per_second": hook_rate,
               "webhook_ms": {"p50": ms(hooks.p50), "p99": ms(hooks.p99)}, "applied_seconds": applied_wall.as_secs_f64(),
               "charges": charges.len(), "duplicate_charges": duplicate_charges}),
    )
}
