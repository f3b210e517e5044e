//! `cargo run --release -p atende-bench -- <scenario> [--count N] [--connections N]`
//!
//! Scenarios: `ingest`, `e2e [--latency-rate R]`, `channels [--count N --contacts N]`, `send`, `cost`, `import [--rows N]`,
//! `search [--contacts N] [--queries N]`, `campaign [--recipients N] [--sample N]`, `flows [--contacts N]`,
//! `payments [--count N]`, `transcription [--count N] [--rate R] [--pollers N]`,
//! `webhooks-out [--count N] [--rate R]`, `reports [--queries N]`, `coldstart`,
//! `soak [--minutes N] [--rate R]`, or `all [--latency-rate R] [--soak-rate R]`. Each prints a table
//! and writes `target/bench/<scenario>.json`. Everything runs on this machine: the local
//! runtime in this process on embedded storage, the fake Graph API for Meta.

mod campaign;
mod channels;
mod coldstart;
mod cost;
mod crm;
mod flows;
mod harness;
mod hooks;
mod live;
mod load;
mod openloop;
mod payments;
mod report;
mod reports;
mod soak;
mod transcription;

use anyhow::bail;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().map(String::as_str).unwrap_or("all");
    let flag = |name: &str, default: usize| -> anyhow::Result<usize> {
        match args.iter().position(|a| a == name) {
            Some(i) => {
                Ok(args.get(i + 1).ok_or_else(|| anyhow::anyhow!("{name} needs a number"))?.parse()?)
            }
            None => Ok(default),
        }
    };
    let connections = flag("--connections", 64)?;
    let rate_flag = |name: &str| -> anyhow::Result<Option<f64>> {
        match args.iter().position(|a| a == name) {
            Some(i) => {
                Ok(Some(args.get(i + 1).ok_or_else(|| anyhow::anyhow!("{name} needs a number"))?.parse()?))
            }
            None => Ok(None),
        }
    };
    match scenario {
        "ingest" => load::ingest(flag("--count", 20_000)?, connections).await,
        "e2e" => {
            load::e2e(
                flag("--count", 10_000)?,
                flag("--contacts", 1_000)?,
                connections,
                rate_flag("--latency-rate")?,
            )
            .await
        }
        "channels" => channels::run(flag("--count", 5_000)?, flag("--contacts", 500)?, connections).await,
        "send" => load::send(flag("--count", 5_000)?, flag("--rate", 80)? as u32).await,
        "cost" => cost::run(flag("--count", 200)?).await,
        "campaign" => campaign::campaign(flag("--recipients", 100_000)?, flag("--sample", 4_000)?).await,
        "import" => crm::import(flag("--rows", 5_000)?).await,
        "flows" => flows::run(flag("--contacts", 1_000)?).await,
        "search" => crm::search(flag("--contacts", 100_000)?, flag("--queries", 300)?).await,
        "payments" => payments::run(flag("--count", 1_000)?, connections.min(32)).await,
        "transcription" => {
            transcription::run(
                flag("--count", 1_000)?,
                rate_flag("--rate")?.unwrap_or(50.0),
                flag("--pollers", 4)?,
            )
            .await
        }
        "webhooks-out" => hooks::run(flag("--count", 10_000)?, rate_flag("--rate")?.unwrap_or(250.0)).await,
        "reports" => reports::run(flag("--queries", 50)?).await,
        "live" => {
            live::run(flag("--clients", 500)?, flag("--count", 2_000)?, rate_flag("--rate")?.unwrap_or(200.0))
                .await
        }
        "coldstart" => coldstart::run(flag("--runs", 10)?).await,
        "soak" => soak::run(flag("--minutes", 10)? as u64, rate_flag("--rate")?).await,
        "all" => {
            load::ingest(20_000, connections).await?;
            load::e2e(10_000, 1_000, connections, rate_flag("--latency-rate")?).await?;
            channels::run(5_000, 500, connections).await?;
            load::send(5_000, 80).await?;
            cost::run(200).await?;
            crm::import(5_000).await?;
            crm::search(100_000, 300).await?;
            campaign::campaign(100_000, 4_000).await?;
            flows::run(1_000).await?;
            payments::run(1_000, connections.min(32)).await?;
            transcription::run(1_000, 50.0, 4).await?;
            coldstart::run(10).await?;
            soak::run(10, rate_flag("--soak-rate")?).await
        }
        other => {
            bail!(
                "unknown scenario {other}: ingest, e2e, channels, send, cost, import, search, campaign, flows, payments, transcription, webhooks-out, reports, live, coldstart, soak or all"
            )
        }
    }
}
