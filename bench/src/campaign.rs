//! `campaign`: a 100,000-recipient campaign against the fake Graph API — materialisation
//! time, then the send rate at the channel's limit (a sample at 80/s, everything at
//! 1,000/s), the busiest one-second window at the provider, numbers sent twice, table and
//! queue requests per recipient (and dollars per million), and how long an agent's reply on
//! the same channel takes to reach the provider while the campaign runs.

use crate::cost::{CountingQueue, CountingTable, Shared, dollars_per_million, per};
use crate::crm::{call, import_file, take};
use crate::harness::{self, Product};
use crate::report::{latencies, ms, publish};
use anyhow::{Context, bail};
use atende_core::conversations::messages::{self, Draft, SendMessage};
use atende_core::conversations::sessions;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Contacts that also talk to an agent during the campaign.
const TALKERS: usize = 20;

async fn product(rate: u32) -> anyhow::Result<(Product, Shared)> {
    let counts: Shared = Arc::default();
    let c2 = counts.clone();
    let product = harness::start(rate, move |mut ctx, embedded| {
        ctx.deps.table = Arc::new(CountingTable::new(ctx.deps.table.clone(), c2.clone()));
        ctx.deps.queue = Arc::new(CountingQueue::new(ctx.deps.queue.clone(), c2));
        (ctx, embedded)
    })
    .await?;
    Ok((product, counts))
}

fn file(from: usize, rows: usize) -> Vec<u8> {
    let mut text = String::from("Nome;Celular;Etiquetas\r\n");
    for i in from..from + rows {
        text.push_str(&format!("Cliente {i};+{};Black Friday\r\n", harness::wa(i)));
    }
    text.into_bytes()
}

/// Seeds `recipients` contacts tagged `Black Friday`, an approved template and a draft
/// campaign to them; the draft's id.
async fn prepare(p: &Product, http: &reqwest::Client, recipients: usize) -> anyhow::Result<String> {
    for from in (0..recipients).step_by(5_000) {
        let (state, _) = import_file(p, http, file(from, 5_000.min(recipients - from))).await?;
        if state["failed"] != 0 {
            bail!("seeding failed rows: {state}");
        }
    }
    let channels = call(p, http, reqwest::Method::GET, "/v1/channels", None).await?;
    let channel = channels["items"][0]["id"].as_str().context("a channel")?.to_owned();
    let template = call(p, http, reqwest::Method::POST, "/v1/templates", Some(json!({"channel_id": channel, "name": "black_friday",
        "language": "pt_BR", "category": "marketing", "body": "Olá {{1}}, a Black Friday começou: cupom {{2}}"}))).await?;
    let approval = json!({"object": "whatsapp_business_account", "entry": [{"id": harness::WABA_ID, "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "black_friday", "message_template_language": "pt_BR"}}]}]})
    .to_string();
    let sig = atende_providers::whatsapp::signature::sign(harness::SECRET.as_bytes(), approval.as_bytes());
    http.post(format!("{}/webhooks/whatsapp", p.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(approval)
        .send()
        .await?;
    let id = template["id"].as_str().context("a template")?.to_owned();
    for _ in 0..200 {
        let t = call(p, http, reqwest::Method::GET, &format!("/v1/templates/{id}"), None).await?;
        if t["status"] == "approved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let tags = call(p, http, reqwest::Method::GET, "/v1/tags", None).await?;
    let account = call(p, http, reqwest::Method::GET, "/v1/account", None).await?;
    let campaign = call(
        p,
        http,
        reqwest::Method::POST,
        "/v1/campaigns",
        Some(json!({"name": "Black Friday", "channel_id": channel,
        "team_id": account["default_team_id"], "template_id": id, "parameters": ["{{first_name}}", "BF10"],
        "audience": {"kind": "tags", "tag_ids": [tags["items"][0]["id"]]}})),
    )
    .await?;
    Ok(campaign["id"].as_str().context("a campaign")?.to_owned())
}

/// The first `TALKERS` contacts write in and the admin takes their sessions.
async fn talkers(p: &Product, http: &reqwest::Client) -> anyhow::Result<Vec<String>> {
    for n in 0..TALKERS {
        let (body, sig) = harness::text(&format!("wamid.talk.{n}"), &harness::wa(n), "oi");
        http.post(format!("{}/webhooks/whatsapp", p.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await?;
    }
    let deps = p.running.ctx.deps.clone();
    for _ in 0..400 {
        let page =
            sessions::list(&deps, &p.admin, serde_json::from_value(json!({"tab": "pending", "limit": 100}))?)
                .await?;
        if page.items.len() >= TALKERS {
            let ids: Vec<String> = page.items.into_iter().map(|s| s.id).collect();
            for id in &ids {
                sessions::assume(&deps, &p.admin, id).await?;
            }
            return Ok(ids);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("the talkers' sessions did not open")
}

fn template_sends(p: &Product) -> usize {
    p.graph.sends().iter().filter(|r| r.body["type"] == "template").count()
}

struct Run {
    materialised: Duration,
    sent: usize,
    achieved: f64,
    busiest: usize,
    twice: usize,
    agent_p50_ms: f64,
    agent_p99_ms: f64,
    agent_samples: usize,
    counts: Option<crate::cost::Counts>,
}

/// Runs a campaign at `rate` until `sample` recipients are sent (then cancels it).
async fn run(rate: u32, recipients: usize, sample: usize) -> anyhow::Result<Run> {
    let (p, counts) = product(rate).await?;
    let http = reqwest::Client::new();
    let campaign = prepare(&p, &http, recipients).await?;
    let talk = talkers(&p, &http).await?;
    take(&counts);
    let started = Instant::now();
    call(&p, &http, reqwest::Method::POST, &format!("/v1/campaigns/{campaign}/start"), None).await?;
    let materialised = loop {
        let f =
            call(&p, &http, reqwest::Method::GET, &format!("/v1/campaigns/{campaign}/report"), None).await?;
        if f["recipients"].as_u64() == Some(recipients as u64) {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("materialisation stalled: {f}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Agents answer on the same channel while it runs: each reply timed to the provider.
    let deps = p.running.ctx.deps.clone();
    let mut asked: Vec<(String, Instant)> = Vec::new();
    let mut n = 0;
    let deadline = started + Duration::from_secs((sample as u64 / u64::from(rate)) * 3 + 120);
    while template_sends(&p) < sample {
        if Instant::now() > deadline {
            bail!("the campaign stalled at {} sends", template_sends(&p));
        }
        let text = format!("resposta {n}");
        let draft = Draft::Text { text: text.clone() };
        asked.push((text, Instant::now()));
        messages::send(
            &deps,
            &p.admin,
            &talk[n % talk.len()],
            SendMessage { draft, reply_to_message_id: None },
        )
        .await?;
        n += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all_sent = sample >= recipients;
    if all_sent {
        // Until the last status-less recipient is sent and every count has settled.
        for _ in 0..600 {
            let c = call(&p, &http, reqwest::Method::GET, &format!("/v1/campaigns/{campaign}"), None).await?;
            if c["status"] == "collecting" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    } else {
        call(&p, &http, reqwest::Method::POST, &format!("/v1/campaigns/{campaign}/cancel"), None).await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // anything sent twice would arrive now
    let used = take(&counts);
    let sends = p.graph.sends();
    let mut arrived: HashMap<String, Instant> = HashMap::new();
    for r in &sends {
        if let Some(body) = r.body["text"]["body"].as_str() {
            arrived.insert(body.rsplit('\n').next().unwrap_or(body).to_owned(), r.at);
        }
    }
    let waits: Vec<Duration> = asked
        .iter()
        .filter_map(|(text, at)| arrived.get(text).map(|got| got.saturating_duration_since(*at)))
        .collect();
    let agent = latencies(waits.clone());
    let mut times: Vec<Instant> = sends.iter().map(|r| r.at).collect();
    times.sort();
    let mut busiest = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while j < times.len() && times[j].duration_since(times[i]) < Duration::from_secs(1) {
            j += 1;
        }
        busiest = busiest.max(j - i);
    }
    let mut per_number: HashMap<&str, usize> = HashMap::new();
    let mut template_times = Vec::new();
    for r in sends.iter().filter(|r| r.body["type"] == "template") {
        *per_number.entry(r.body["to"].as_str().unwrap_or_default()).or_default() += 1;
        template_times.push(r.at);
    }
    template_times.sort();
    let twice = per_number.values().filter(|n| **n > 1).count();
    let sent = template_times.len();
    let span = template_times
        .last()
        .zip(template_times.first())
        .map(|(l, f)| l.duration_since(*f))
        .unwrap_or_default();
    // The agents' replies share the limit: the provider's rate counts every send.
    let in_span = times
        .iter()
        .filter(|t| {
            template_times.first().is_some_and(|f| *t >= f) && template_times.last().is_some_and(|l| *t <= l)
        })
        .count();
    let achieved = (in_span.saturating_sub(1)) as f64 / span.as_secs_f64().max(1e-9);
    p.running.stop().await?;
    Ok(Run {
        materialised,
        sent,
        achieved,
        busiest,
        twice,
        agent_p50_ms: ms(agent.p50),
        agent_p99_ms: ms(agent.p99),
        agent_samples: waits.len(),
        counts: all_sent.then(|| per(used, recipients)),
    })
}

pub async fn campaign(recipients: usize, sample_at_80: usize) -> anyhow::Result<()> {
    let slow = run(80, recipients, sample_at_80.min(recipients)).await?;
    let fast = run(1000, recipients, recipients).await?;
    let c = fast.counts.unwrap_or_default();
    let line = |r: &Run, rate: u32| {
        format!(
            "{} sent: {:.1}/s at the provider ({:.1}% of {rate}), busiest second {}, sent twice {}",
            r.sent,
            r.achieved,
            100.0 * r.achieved / f64::from(rate),
            r.busiest,
            r.twice
        )
    };
    let agents = |r: &Run| {
        format!("p50 {:.1} ms, p99 {:.1} ms ({} replies)", r.agent_p50_ms, r.agent_p99_ms, r.agent_samples)
    };
    publish(
        "campaign",
        &[
            ("recipients", format!("{recipients} (one tag), template with 2 parameters")),
            (
                "materialised in",
                format!(
                    "{:.1} s (80/s run), {:.1} s (1,000/s run)",
                    slow.materialised.as_secs_f64(),
                    fast.materialised.as_secs_f64()
                ),
            ),
            ("at 80/s (sample)", line(&slow, 80)),
            ("  agent reply → provider", agents(&slow)),
            ("at 1,000/s (all)", line(&fast, 1000)),
            ("  agent reply → provider", agents(&fast)),
            (
                "per recipient (1,000/s run)",
                format!(
                    "{:.1} WRU, {:.1} RRU, {:.2} SQS requests (no statuses)",
                    c.write_units,
                    c.read_units,
                    c.sqs_standard + c.sqs_fifo
                ),
            ),
            (
                "$ per million recipients",
                format!("{:.2} (DynamoDB + SQS; Lambda not counted)", dollars_per_million(c)),
            ),
        ],
        json!({
            "recipients": recipients,
            "materialise_seconds": [slow.materialised.as_secs_f64(), fast.materialised.as_secs_f64()],
            "at_80": {"sent": slow.sent, "per_second": slow.achieved, "busiest_window": slow.busiest, "sent_twice": slow.twice,
                      "agent_p50_ms": slow.agent_p50_ms, "agent_p99_ms": slow.agent_p99_ms},
            "at_1000": {"sent": fast.sent, "per_second": fast.achieved, "busiest_window": fast.busiest, "sent_twice": fast.twice,
                        "agent_p50_ms": fast.agent_p50_ms, "agent_p99_ms": fast.agent_p99_ms},
            "per_recipient": {"wru": c.write_units, "rru": c.read_units, "sqs": c.sqs_standard + c.sqs_fifo},
            "usd_per_million": dollars_per_million(c),
        }),
    )?;
    Ok(())
}
