//! `flows`: 1,000 contacts at once, each walking a 10-node flow with three questions
//! (a text, a number, a button) — bot replies per second at the provider, the latency from
//! the customer's message to the bot's first reply of that turn (p50/p99), and table
//! read/write units per flow step.

use crate::cost::{CountingQueue, CountingTable, Shared, per};
use crate::crm::{call, take};
use crate::harness::{self, Product};
use crate::report::{latencies, ms, publish};
use anyhow::{Context, bail};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Nodes each contact walks (every node of the flow, once).
const STEPS: usize = 10;
/// Bot messages each contact receives.
const REPLIES: usize = 7;

fn definition() -> serde_json::Value {
    json!({"start": "hi", "nodes": [
        {"id": "hi", "type": "message", "text": "Olá! Vou registrar seu pedido.", "next": "name"},
        {"id": "name", "type": "question", "text": "Qual o seu nome?", "variable": "nome", "timeout_seconds": 600, "answered": "thanks", "timeout": "end"},
        {"id": "thanks", "type": "message", "text": "Obrigado, {{nome}}.", "next": "known"},
        {"id": "known", "type": "condition", "rules": [{"when": {"test": "text", "value": "{{nome}}", "op": "present", "to": ""}, "next": "items"}], "default": "end"},
        {"id": "items", "type": "question", "text": "Quantos itens?", "variable": "itens", "expect": "number", "invalid_text": "Só o número.", "answered": "keep"},
        {"id": "keep", "type": "action", "action": "set_session_metadata", "key": "itens", "value": "{{itens}}", "next": "sum"},
        {"id": "sum", "type": "message", "text": "{{itens}} itens para {{nome}}.", "next": "confirm"},
        {"id": "confirm", "type": "question", "text": "Confirma?", "buttons": [{"id": "yes", "title": "Sim"}, {"id": "no", "title": "Não"}], "answered": "done"},
        {"id": "done", "type": "message", "text": "Pedido registrado.", "next": "end"},
        {"id": "end", "type": "end", "handoff": "quiet"}
    ]})
}

async fn post(
    p: &Product,
    http: &reqwest::Client,
    wamid: &str,
    wa: &str,
    text: &str,
) -> anyhow::Result<Instant> {
    let (body, sig) = harness::text(wamid, wa, text);
    let at = Instant::now();
    let r = http
        .post(format!("{}/webhooks/whatsapp", p.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await?;
    if r.status() != 200 {
        bail!("webhook answered {}", r.status());
    }
    Ok(at)
}

/// Waits until `wa` got `count` bot messages; when the first of them after `before` arrived.
async fn replied(
    p: &Product,
    wa: &str,
    before: usize,
    count: usize,
    deadline: Instant,
) -> anyhow::Result<Instant> {
    loop {
        let got = p.graph.arrivals_to(wa);
        if got.len() >= count {
            return Ok(got[before]);
        }
        if Instant::now() > deadline {
            bail!("{wa} got {} of {count} bot messages", got.len());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(contacts: usize) -> anyhow::Result<()> {
    let counts: Shared = Arc::default();
    let c2 = counts.clone();
    let p = Arc::new(
        harness::start(1000, move |mut ctx, embedded| {
            ctx.deps.table = Arc::new(CountingTable::new(ctx.deps.table.clone(), c2.clone()));
            ctx.deps.queue = Arc::new(CountingQueue::new(ctx.deps.queue.clone(), c2));
            (ctx, embedded)
        })
        .await?,
    );
    let http = reqwest::Client::new();
    let channels = call(&p, &http, reqwest::Method::GET, "/v1/channels", None).await?;
    let channel = channels["items"][0]["id"].as_str().context("a channel")?.to_owned();
    let flow = call(
        &p,
        &http,
        reqwest::Method::POST,
        "/v1/flows",
        Some(json!({"name": "Pedido", "definition": definition()})),
    )
    .await?;
    let flow = flow["id"].as_str().context("a flow")?.to_owned();
    call(&p, &http, reqwest::Method::POST, &format!("/v1/flows/{flow}/publish"), None).await?;
    call(
        &p,
        &http,
        reqwest::Method::PUT,
        &format!("/v1/channels/{channel}/flow-triggers"),
        Some(json!({"business_hours_flow": flow})),
    )
    .await?;
    take(&counts);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut walkers = Vec::new();
    for n in 0..contacts {
        let (p, http) = (p.clone(), http.clone());
        walkers.push(tokio::spawn(async move {
            let wa = harness::wa(n);
            let mut waits = Vec::new();
            // Each turn: what the customer says, and how many bot messages they have after it.
            for (k, (text, total)) in [("oi", 2), ("Ana", 4), ("3", 6), ("Sim", 7)].into_iter().enumerate() {
                let before = if k == 0 { 0 } else { [0, 2, 4, 6][k] };
                let at = post(&p, &http, &format!("wamid.flow.{n}.{k}"), &wa, text).await?;
                let first = replied(&p, &wa, before, total, deadline).await?;
                waits.push(first.saturating_duration_since(at));
            }
            anyhow::Ok(waits)
        }));
    }
    let mut waits = Vec::new();
    for w in walkers {
        waits.extend(w.await??);
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await; // anything sent twice would arrive now
    let used = take(&counts);
    let replies = p.graph.sends().len();
    let expected = contacts * REPLIES;
    let l = latencies(waits);
    let steps = per(used, contacts * STEPS);
    let rate = replies as f64 / elapsed.as_secs_f64();
    let p = Arc::try_unwrap(p).map_err(|_| anyhow::anyhow!("the product is still shared"))?;
    p.running.stop().await?;
    if replies != expected {
        bail!("{replies} bot messages at the provider, {expected} expected");
    }
    publish(
        "flows",
        &[
            ("contacts", format!("{contacts} at once, a 10-node flow with 3 questions, 4 messages each")),
            (
                "bot replies",
                format!(
                    "{replies} in {:.1} s: {rate:.0}/s at the provider (none twice, none missing)",
                    elapsed.as_secs_f64()
                ),
            ),
            ("message → first bot reply", format!("p50 {:.1} ms, p99 {:.1} ms", ms(l.p50), ms(l.p99))),
            (
                "per flow step",
                format!(
                    "{:.1} WRU, {:.1} RRU, {:.2} SQS requests",
                    steps.write_units,
                    steps.read_units,
                    steps.sqs_standard + steps.sqs_fifo
                ),
            ),
        ],
        json!({"contacts": contacts, "replies": replies, "seconds": elapsed.as_secs_f64(), "replies_per_second": rate,
               "reply_p50_ms": ms(l.p50), "reply_p99_ms": ms(l.p99),
               "per_step": {"wru": steps.write_units, "rru": steps.read_units, "sqs": steps.sqs_standard + steps.sqs_fifo}}),
    )
}
