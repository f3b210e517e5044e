//! `transcription`: voice notes arriving at a steady rate, once with transcription off and
//! once on against a speech-to-text server that takes 1 s per file — the webhook →
//! visible-to-agents latency of both runs (the note must not wait for its text), then
//! transcripts per second and the concurrency the transcription consumers reached.

use crate::harness::{self, Product};
use crate::openloop;
use crate::report::{Latencies, latencies, ms, publish};
use anyhow::{Context, ensure};
use atende_core::secret::Secret;
use atende_testkit::fake_stt::{self, FakeStt};
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Customers sending the notes; the sessions of the first `WATCHED` are polled as an
/// agent's screen would, every `WATCH_EVERY`, and their notes are the latency samples.
const CONTACTS: usize = 200;
const WATCHED: usize = 10;
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// What the provider takes per file.
const PROVIDER_DELAY: Duration = Duration::from_secs(1);

struct Run {
    visible: Latencies,
    samples: usize,
    /// Transcripts: how many, over how long from the first note's webhook, and the
    /// provider calls in flight at most.
    transcripts: Option<(usize, Duration, usize)>,
}

async fn product(stt: &FakeStt, pollers: usize) -> anyhow::Result<Product> {
    let base = stt.base_url.clone();
    harness::start_configured(
        1000,
        move |s| {
            s.pollers_per_queue = pollers;
            s.providers.transcription_url = Some(base);
            s.providers.transcription_key = Some(Secret::new(fake_stt::KEY));
        },
        |c, e| (c, e),
    )
    .await
}

async fn one_run(count: usize, rate: f64, pollers: usize, transcribe: bool) -> anyhow::Result<Run> {
    let stt = FakeStt::start().await;
    stt.set_delay(PROVIDER_DELAY);
    let p = product(&stt, pollers).await?;
    let http = reqwest::Client::new();
    if transcribe {
        let r = http
            .patch(format!("{}/v1/account", p.base))
            .bearer_auth(&p.token)
            .json(&json!({"transcription_enabled": true}))
            .send()
            .await?;
        ensure!(r.status().is_success(), "enabling transcription answered {}", r.status());
    }
    let audio = atende_testkit::audio::ogg_opus(3);
    for n in 0..count {
        p.graph.add_media(&format!("{}", 7_000_000 + n), &audio, "audio/ogg; codecs=opus");
    }
    // The watched customers write first, so their sessions can be found and watched.
    let url = format!("{}/webhooks/whatsapp", p.base);
    let opening =
        (0..WATCHED).map(|k| harness::text(&format!("wamid.tx.open.{k}"), &harness::wa(k), "oi")).collect();
    openloop::post_at_rate(&http, &url, opening, 100.0).await?;
    let wanted: HashSet<String> = (0..WATCHED).map(|k| format!("wamid.tx.open.{k}")).collect();
    let started = Instant::now();
    let sessions = loop {
        let sessions = openloop::ids(&openloop::pending_sessions(&http, &p).await?);
        if sessions.len() >= WATCHED {
            break sessions;
        }
        ensure!(started.elapsed() < Duration::from_secs(60), "the watched sessions did not open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let watched = openloop::sessions_holding(&http, &p, &sessions, &wanted).await?;
    let watcher = openloop::Watcher::start(&p, &http, &watched, WATCH_EVERY);

    let wamids: Vec<String> = (0..count).map(|n| format!("wamid.tx.{n}")).collect();
    let bodies = wamids
        .iter()
        .enumerate()
        .map(|(n, w)| harness::voice(w, &harness::wa(n % CONTACTS), &format!("{}", 7_000_000 + n)))
        .collect();
    let first = Instant::now();
    let answers = openloop::post_at_rate(&http, &url, bodies, rate).await?;
    let visible =
        openloop::acknowledged_to_seen(&watcher, &wamids, &answers, |n| n % CONTACTS < WATCHED).await?;
    watcher.stop().await;

    let transcripts = if transcribe {
        let deadline = Instant::now() + Duration::from_secs(900);
        while stt.answered().len() < count {
            ensure!(Instant::now() < deadline, "{} of {count} notes transcribed", stt.answered().len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let last = *stt.answered().last().context("a transcript")?;
        // Every note shows its text through the API (not only answered by the provider).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let done = transcribed(&http, &p).await?;
            if done == count {
                break;
            }
            ensure!(Instant::now() < deadline, "{done} of {count} notes show their transcript");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ensure!(stt.calls() == count as u64, "{} provider calls for {count} notes", stt.calls());
        Some((count, last.saturating_duration_since(first), stt.peak_in_flight()))
    } else {
        ensure!(stt.calls() == 0, "transcription was off, yet the provider was called");
        None
    };
    p.running.stop().await?;
    let samples = visible.len();
    Ok(Run { visible: latencies(visible), samples, transcripts })
}

/// Voice notes whose transcript is `done`, through the API.
async fn transcribed(http: &reqwest::Client, p: &Product) -> anyhow::Result<usize> {
    let mut done = 0;
    for session in openloop::ids(&openloop::pending_sessions(http, p).await?) {
        let mut path = format!("/v1/sessions/{session}/messages?limit=100");
        loop {
            let page = openloop::get_json(http, p, &path).await?;
            done += page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| {
                    m["transcription"]["status"] == "done" && m["transcription"]["text"] == fake_stt::TEXT
                })
                .count();
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/v1/sessions/{session}/messages?limit=100&cursor={c}"),
                None => break,
            }
        }
    }
    Ok(done)
}

pub async fn run(count: usize, rate: f64, pollers: usize) -> anyhow::Result<()> {
    let off = one_run(count, rate, pollers, false).await?;
    let on = one_run(count, rate, pollers, true).await?;
    let (done, took, peak) = on.transcripts.context("the transcribing run's figures")?;
    let per_second = done as f64 / took.as_secs_f64();
    let line = |r: &Run| {
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
            ms(r.visible.p50),
            ms(r.visible.p99),
            ms(r.visible.max),
            r.samples
        )
    };
    publish(
        "transcription",
        &[
            (
                "voice notes",
                format!(
                    "{count} at {rate:.0}/s from {CONTACTS} customers; provider takes {} ms per file",
                    PROVIDER_DELAY.as_millis()
                ),
            ),
            ("webhook → visible, transcription off", line(&off)),
            ("webhook → visible, transcription on", line(&on)),
            (
                "transcripts",
                format!(
                    "{done} in {:.1} s from the first note: {per_second:.1}/s; {pollers} consumers × batches of 10 = {} calls at most, {peak} reached",
                    took.as_secs_f64(),
                    pollers * 10
                ),
            ),
        ],
        json!({"count": count, "rate": rate, "provider_ms": PROVIDER_DELAY.as_millis() as u64, "pollers": pollers,
               "visible_off_ms": {"p50": ms(off.visible.p50), "p99": ms(off.visible.p99), "max": ms(off.visible.max)},
               "visible_on_ms": {"p50": ms(on.visible.p50), "p99": ms(on.visible.p99), "max": ms(on.visible.max)},
               "samples": on.samples, "transcripts": done, "transcripts_seconds": took.as_secs_f64(),
               "transcripts_per_second": per_second, "peak_provider_calls_in_flight": peak}),
    )
}
