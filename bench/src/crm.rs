//! The contact base at scale: `import` (a 5,000-row Excel CSV end to end, through the API
//! and the job) and `search` (name prefix, phone and tag queries over a base of 100,000
//! contacts), with the table's request units counted as in `cost`.

use crate::cost::{CountingTable, Counts, Shared};
use crate::harness::{self, Product};
use crate::report::{latencies, ms, publish};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIRST: &[&str] = &[
    "João",
    "Maria",
    "José",
    "Ana",
    "Antônio",
    "Francisca",
    "Carlos",
    "Márcia",
    "Luís",
    "Conceição",
    "Paulo",
    "Letícia",
];
const LAST: &[&str] =
    &["Silva", "Santos", "Oliveira", "Souza", "Araújo", "Pereira", "Gonçalves", "Lima", "Ribeiro", "Simões"];
const TAGS: &[&str] =
    &["VIP", "Atacado", "Varejo", "Lead", "Cliente", "Inativo", "Campanha Natal", "Indicação"];

async fn product() -> anyhow::Result<(Product, Shared)> {
    let counts: Shared = Arc::default();
    let c2 = counts.clone();
    let product = harness::start(80, move |mut ctx, embedded| {
        ctx.deps.table = Arc::new(CountingTable::new(ctx.deps.table.clone(), c2));
        (ctx, embedded)
    })
    .await?;
    Ok((product, counts))
}

/// Row `i` of a file: a name, the number in one of three spellings, an email, tags and
/// a custom field value.
fn row(i: usize) -> String {
    let name =
        format!("{} {} {}", FIRST[i % FIRST.len()], LAST[(i / 7) % LAST.len()], LAST[(i / 3) % LAST.len()]);
    let n = 10_000_000 + i;
    let phone = match i % 3 {
        0 => format!("(11) 9{:04}-{:04}", n / 10_000 % 10_000, n % 10_000),
        1 => format!("+55 11 9{:04}-{:04}", n / 10_000 % 10_000, n % 10_000),
        _ => format!("55119{:08}", n % 100_000_000),
    };
    let tags = format!("{}, {}", TAGS[i % TAGS.len()], TAGS[(i / 5) % TAGS.len()]);
    let plan = ["Ouro", "Prata", "Bronze"][i % 3];
    format!("{name};{phone};cliente{i}@example.com;{tags};{plan}\r\n")
}

fn file(from: usize, rows: usize) -> Vec<u8> {
    let mut text = String::from("Nome;Celular;E-mail;Etiquetas;Plano\r\n");
    for i in from..from + rows {
        text.push_str(&row(i));
    }
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    bytes.into_owned()
}

pub(crate) async fn call(
    p: &Product,
    http: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut request = http.request(method, format!("{}{path}", p.base)).bearer_auth(&p.token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await?;
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path}: {status} {value}");
    }
    Ok(value)
}

/// Uploads, starts and waits for one import; its final state and the time it took.
pub(crate) async fn import_file(
    p: &Product,
    http: &reqwest::Client,
    bytes: Vec<u8>,
) -> anyhow::Result<(Value, Duration)> {
    let started = Instant::now();
    let response = http
        .post(format!("{}/v1/contact-imports", p.base))
        .bearer_auth(&p.token)
        .header("content-type", "text/csv")
        .body(bytes)
        .send()
        .await?;
    let uploaded: Value = response.json().await?;
    let id = uploaded["id"].as_str().context("upload answered no id")?.to_owned();
    let mapping = uploaded["suggested_mapping"].clone();
    call(
        p,
        http,
        reqwest::Method::POST,
        &format!("/v1/contact-imports/{id}/start"),
        Some(json!({"mapping": mapping})),
    )
    .await?;
    loop {
        let state = call(p, http, reqwest::Method::GET, &format!("/v1/contact-imports/{id}"), None).await?;
        if state["status"] == "done" {
            return Ok((state, started.elapsed()));
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the import did not finish in 10 minutes: {state}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn field(p: &Product, http: &reqwest::Client) -> anyhow::Result<()> {
    let f =
        json!({"key": "plano", "label": "Plano", "type": "choice", "options": ["Ouro", "Prata", "Bronze"]});
    call(p, http, reqwest::Method::POST, "/v1/custom-fields", Some(f)).await?;
    Ok(())
}

pub(crate) fn take(counts: &Shared) -> Counts {
    std::mem::take(&mut *counts.lock().unwrap())
}

pub async fn import(rows: usize) -> anyhow::Result<()> {
    let (p, counts) = product().await?;
    let http = reqwest::Client::new();
    field(&p, &http).await?;
    let bytes = file(0, rows);
    take(&counts);
    let (first, took) = import_file(&p, &http, bytes.clone()).await?;
    let c1 = take(&counts);
    let (again, took_again) = import_file(&p, &http, bytes).await?;
    let c2 = take(&counts);
    let per = |c: Counts, f: fn(&Counts) -> f64| f(&c) / rows as f64;
    let rows_out = [
        ("rows", rows.to_string()),
        (
            "first import",
            format!(
                "{:.2} s ({:.0} rows/s), created {}",
                took.as_secs_f64(),
                rows as f64 / took.as_secs_f64(),
                first["created"]
            ),
        ),
        ("  per row", format!("{:.1} WRU, {:.1} RRU", per(c1, |c| c.write_units), per(c1, |c| c.read_units))),
        ("same file again", format!("{:.2} s, unchanged {}", took_again.as_secs_f64(), again["unchanged"])),
        ("  per row", format!("{:.1} WRU, {:.1} RRU", per(c2, |c| c.write_units), per(c2, |c| c.read_units))),
    ];
    publish(
        "import",
        &rows_out,
        json!({"rows": rows, "seconds": took.as_secs_f64(), "created": first["created"], "wru_per_row": per(c1, |c| c.write_units),
               "rru_per_row": per(c1, |c| c.read_units), "again_seconds": took_again.as_secs_f64(), "again_unchanged": again["unchanged"],
               "again_wru_per_row": per(c2, |c| c.write_units)}),
    )
}

pub async fn search(contacts: usize, queries: usize) -> anyhow::Result<()> {
    let (p, counts) = product().await?;
    let http = reqwest::Client::new();
    field(&p, &http).await?;
    let seeding = Instant::now();
    for from in (0..contacts).step_by(5_000) {
        let (state, _) = import_file(&p, &http, file(from, 5_000.min(contacts - from))).await?;
        if state["failed"] != 0 {
            bail!("seeding failed rows: {state}");
        }
    }
    let seeded = seeding.elapsed();
    let tags = call(&p, &http, reqwest::Method::GET, "/v1/tags", None).await?;
    let tag_ids: Vec<String> =
        tags["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
    let prefixes = ["joa", "mar", "conc", "silv", "araujo", "let", "luis sa", "ana"];
    let mut rows_out =
        vec![("contacts", format!("{contacts} (seeded by import in {:.0} s)", seeded.as_secs_f64()))];
    let mut json_out = json!({"contacts": contacts, "page": 20});
    for kind in ["name prefix", "phone", "tag"] {
        take(&counts);
        let mut samples = Vec::with_capacity(queries);
        let mut found = 0;
        for q in 0..queries {
            let i = (q * 7919) % contacts;
            let query = match kind {
                "name prefix" => format!("name={}", prefixes[q % prefixes.len()]),
                "phone" => format!(
                    "phone=%2B55%2011%209{:04}-{:04}",
                    (10_000_000 + i) / 10_000 % 10_000,
                    (10_000_000 + i) % 10_000
                ),
                _ => format!("tag={}", tag_ids[q % tag_ids.len()]),
            };
            let started = Instant::now();
            let page = call(&p, &http, reqwest::Method::GET, &format!("/v1/contacts?{query}&limit=20"), None)
                .await?;
            samples.push(started.elapsed());
            found += page["items"].as_array().map(Vec::len).unwrap_or(0);
        }
        let c = take(&counts);
        let l = latencies(samples);
        let rru = c.read_units / queries as f64;
        rows_out.push((
            kind,
            format!(
                "p50 {:.2} ms, p99 {:.2} ms, {:.1} RRU/query, {:.1} results/query",
                ms(l.p50),
                ms(l.p99),
                rru,
                found as f64 / queries as f64
            ),
        ));
        json_out[kind.replace(' ', "_")] = json!({"p50_ms": ms(l.p50), "p99_ms": ms(l.p99), "rru_per_query": rru, "results_per_query": found as f64 / queries as f64});
    }
    let rows_ref: Vec<(&str, String)> = rows_out.iter().map(|(k, v)| (*k, v.clone())).collect();
    publish("search", &rows_ref, json_out)
}
