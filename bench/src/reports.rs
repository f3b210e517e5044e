//! `reports`: report queries over a year of history as 1,000,000 sessions leave it — the
//! counters, since a report reads counters and never sessions: (365 local days + 12
//! months) × 65 dimensions (the account, 10 teams, 50 agents, 4 channels) = 24,505 items,
//! seeded directly (the reaction that writes them per session is tested in
//! `infra/local/tests/e2e/reports.rs`). Queries through `GET /v1/reports/summary`: a year in
//! one row, per day, team, agent and channel, and a month per agent; latency percentiles.

use crate::harness;
use crate::openloop;
use crate::report::{latencies, ms, publish};
use anyhow::ensure;
use atende_core::ports::Item;
use atende_core::ports::table::attr;
use chrono::{Duration as Days, NaiveDate};
use serde_json::json;
use std::time::Instant;

const SESSIONS: i64 = 1_000_000;
const TEAMS: usize = 10;
const AGENTS: usize = 50;
const CHANNELS: usize = 4;

/// The counters of `sessions` sessions of one day (`D`) or month (`M`) in one dimension.
fn counters(account: &str, granularity: char, period: &str, dim: (&str, &str), sessions: i64) -> Item {
    let key = atende_core::keys::report_counters(account, granularity, dim.0, period, dim.1);
    let mut item = Item::from([("pk".to_owned(), attr::s(&key.pk)), ("sk".to_owned(), attr::s(&key.sk))]);
    let mut n = |name: &str, v: i64| {
        item.insert(name.to_owned(), attr::n(v));
    };
    n("opened", sessions);
    n("completed", sessions);
    for (m, avg) in [("first_response", 900), ("resolution", 5_400)] {
        n(&format!("{m}_count"), sessions);
        n(&format!("{m}_seconds"), sessions * avg);
        n(&format!("{m}_business_seconds"), sessions * avg * 2 / 3);
        for b in 0..5 {
            n(&format!("{m}_bucket_{b}"), sessions / 5);
        }
    }
    item
}

pub async fn run(queries: usize) -> anyhow::Result<()> {
    let p = harness::start(1000, |c, e| (c, e)).await?;
    let account = p.admin.account_id.clone();
    let table = p.running.ctx.deps.table.clone();
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    let per_day = SESSIONS / 365;
    let seeding = Instant::now();
    let mut items = 0;
    let dims: Vec<(String, String, i64)> = std::iter::once(("all".to_owned(), String::new(), 1))
        .chain((0..TEAMS).map(|t| ("team".to_owned(), format!("T{t:02}"), TEAMS as i64)))
        .chain((0..AGENTS).map(|a| ("agent".to_owned(), format!("A{a:02}"), AGENTS as i64)))
        .chain((0..CHANNELS).map(|c| ("channel".to_owned(), format!("C{c}"), CHANNELS as i64)))
        .collect();
    let mut month_sessions = std::collections::BTreeMap::<String, i64>::new();
    for d in 0..365 {
        let day = first + Days::days(d);
        *month_sessions.entry(day.format("%Y-%m").to_string()).or_default() += per_day;
        for (kind, id, share) in &dims {
            table.put(counters(&account, 'D', &day.to_string(), (kind, id), per_day / share), None).await?;
            items += 1;
        }
    }
    for (month, sessions) in &month_sessions {
        for (kind, id, share) in &dims {
            table.put(counters(&account, 'M', month, (kind, id), sessions / share), None).await?;
            items += 1;
        }
    }
    let seeded = seeding.elapsed();
    let http = reqwest::Client::new();
    let year = "from=2025-01-01&to=2025-12-31";
    let kinds = [
        ("a year, one row", format!("/v1/reports/summary?{year}"), 1),
        ("a year per day", format!("/v1/reports/summary?{year}&group_by=day"), 365),
        ("a year per team", format!("/v1/reports/summary?{year}&group_by=team"), TEAMS),
        ("a year per agent", format!("/v1/reports/summary?{year}&group_by=agent"), AGENTS),
        ("a year per channel", format!("/v1/reports/summary?{year}&group_by=channel"), CHANNELS),
        (
            "a month per agent",
            "/v1/reports/summary?from=2025-06-01&to=2025-06-30&group_by=agent".into(),
            AGENTS,
        ),
    ];
    let mut rows = Vec::new();
    let mut all = Vec::new();
    let mut figures = serde_json::Map::new();
    for (name, path, expected_rows) in &kinds {
        let mut samples = Vec::new();
        for _ in 0..queries {
            let started = Instant::now();
            let body = openloop::get_json(&http, &p, path).await?;
            samples.push(started.elapsed());
            ensure!(body["rows"].as_array().map(Vec::len) == Some(*expected_rows), "{name}: {body}");
        }
        let check = openloop::get_json(&http, &p, &format!("/v1/reports/summary?{year}")).await?;
        ensure!(check["rows"][0]["opened"] == json!(per_day * 365), "the year's sessions: {check}");
        all.extend(samples.iter().copied());
        let l = latencies(samples);
        rows.push((
            *name,
            format!("p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms", ms(l.p50), ms(l.p99), ms(l.max)),
        ));
        figures.insert((*name).to_owned(), json!({"p50": ms(l.p50), "p99": ms(l.p99), "max": ms(l.max)}));
    }
    let overall = latencies(all);
    p.running.stop().await?;
    let mut table_rows = vec![
        (
            "history",
            format!(
                "{} sessions over 365 days: {items} counter items, seeded in {:.1} s",
                per_day * 365,
                seeded.as_secs_f64()
            ),
        ),
        ("queries", format!("{queries} of each kind, one at a time, through the API")),
    ];
    table_rows.extend(rows.iter().map(|(k, v)| (*k, v.clone())));
    table_rows.push((
        "every query",
        format!("p50 {:.1} ms, p99 {:.1} ms (target p99 ≤ 100 ms)", ms(overall.p50), ms(overall.p99)),
    ));
    publish(
        "reports",
        &table_rows.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>(),
        json!({"sessions": per_day * 365, "items": items, "queries": queries, "kinds": figures,
               "p50_ms": ms(overall.p50), "p99_ms": ms(overall.p99)}),
    )
}
