//! Printing figures and keeping them as JSON.

use serde_json::Value;
use std::time::Duration;

pub struct Latencies {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Percentiles of `samples` from an HDR histogram (1 µs to 10 min, 3 significant digits;
/// longer samples count as 10 min).
pub fn latencies(samples: Vec<Duration>) -> Latencies {
    let mut histogram =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds");
    for sample in &samples {
        histogram.saturating_record(u64::try_from(sample.as_micros()).unwrap_or(u64::MAX).max(1));
    }
    let at = |q: f64| Duration::from_micros(histogram.value_at_quantile(q));
    Latencies { p50: at(0.50), p95: at(0.95), p99: at(0.99), max: Duration::from_micros(histogram.max()) }
}

pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Prints `rows` under a title and writes `target/bench/<scenario>.json`.
pub fn publish(scenario: &str, rows: &[(&str, String)], json: Value) -> anyhow::Result<()> {
    println!("\n== {scenario}");
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("  {k:<width$}  {v}");
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir)?;
    let mut json = json;
    json["machine"] = machine();
    std::fs::write(dir.join(format!("{scenario}.json")), serde_json::to_string_pretty(&json)?)?;
    println!("  (written to target/bench/{scenario}.json)");
    Ok(())
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    serde_json::json!({"cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "cpu": cpu})
}

/// The process's peak resident memory (VmHWM), in MiB.
pub fn peak_memory_mib() -> f64 {
    memory_mib("VmHWM:")
}

/// The process's resident memory now (VmRSS), in MiB.
pub fn resident_mib() -> f64 {
    memory_mib("VmRSS:")
}

/// A memory line of `/proc/self/status`, in MiB (0 where there is none).
fn memory_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
