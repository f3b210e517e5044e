//! Cold start: each function's release binary is started against a minimal Lambda Runtime
//! API served here; the time from exec to its first `GET /runtime/invocation/next` is the
//! cold start of our code (runtime init, settings, clients). Compared with a hello-world
//! `lambda_runtime` binary built with the same profile.

use crate::report::{ms, publish};
use axum::Router;
use axum::routing::get;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const FUNCTIONS: [&str; 8] =
    ["api", "webhook", "inbound", "send", "transfer", "campaigns", "flows", "scheduler"];

async fn runtime_api() -> anyhow::Result<(String, mpsc::UnboundedReceiver<Instant>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/2018-06-01/runtime/invocation/next",
        get(move || {
            let _ = tx.send(Instant::now());
            // Never answer: the function stays waiting for work, as a cold one would.
            std::future::pending::<&'static str>()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, rx))
}

async fn start_once(binary: &std::path::Path) -> anyhow::Result<Duration> {
    let (api, mut first) = runtime_api().await?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("ATENDE_TABLE_NAME", "bench")
        .env("ATENDE_MEDIA_BUCKET", "bench")
        .env("ATENDE_JWT_SECRET", "bench")
        .env("ATENDE_META_APP_SECRET", "bench")
        .env("ATENDE_META_VERIFY_TOKEN", "bench")
        .env("ATENDE_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let at = tokio::time::timeout(Duration::from_secs(10), first.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    match at {
        Ok(Some(t)) => Ok(t.duration_since(started)),
        _ => anyhow::bail!("{} never asked for work", binary.display()),
    }
}

pub async fn run(runs: usize) -> anyhow::Result<()> {
    let dir = std::env::current_exe()?.parent().map(std::path::Path::to_owned).unwrap_or_default();
    let mut rows = Vec::new();
    let mut results = serde_json::Map::new();
    let measure = |name: &str| -> anyhow::Result<std::path::PathBuf> {
        let path = dir.join(name);
        anyhow::ensure!(
            path.exists(),
            "{} is missing: build it first with `cargo build --release --bins`",
            path.display()
        );
        Ok(path)
    };
    let mut medians = Vec::new();
    for name in std::iter::once("hello-lambda").chain(FUNCTIONS) {
        let path = measure(name)?;
        let mut samples = Vec::new();
        for _ in 0..runs {
            samples.push(start_once(&path).await?);
        }
        samples.sort();
        let median = samples[samples.len() / 2];
        let size = std::fs::metadata(&path)?.len() as f64 / 1024.0 / 1024.0;
        medians.push((name.to_owned(), median, size));
    }
    let baseline = medians[0].1;
    for (name, median, size) in &medians {
        let ratio = median.as_secs_f64() / baseline.as_secs_f64();
        rows.push((
            name.clone(),
            format!(
                "{:.2} ms to first /next (median of {runs}), {ratio:.2}× hello-world, binary {size:.1} MiB",
                ms(*median)
            ),
        ));
        results.insert(name.clone(), json!({"median_ms": ms(*median), "ratio": ratio, "binary_mib": size}));
    }
    let rows: Vec<(&str, String)> = rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    publish(
        "coldstart",
        &rows,
        json!({"runs": runs, "functions": results, "note": "x86_64 release binaries of this machine; Lambda runs arm64 builds"}),
    )
}
