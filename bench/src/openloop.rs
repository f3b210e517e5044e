//! Open-loop load and visibility watching, for latency figures that do not hide saturation.
//!
//! Closed loop (a fixed number of connections, each sending when its last answer came) slows
//! down with the server, so a stall shortens the queue of waiting requests instead of
//! showing up as latency ("coordinated omission"). Here request `i` is due at
//! `start + i / rate` whatever happened to the others, and its latency counts from when it
//! was due.

use crate::harness::Product;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Requests in flight at most (file descriptors are finite); one that waits for a
/// connection is late, and its latency says so.
const MAX_CONNECTIONS: usize = 256;

/// One request's outcome: when it was due, when it was answered 2xx.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub due: Instant,
    pub answered: Instant,
}

impl Answered {
    pub fn latency(&self) -> Duration {
        self.answered.duration_since(self.due)
    }
}

/// Sends `requests` (signed webhook bodies) at `rate` per second; returns each answer in
/// request order. A non-2xx answer or a transport error fails the run.
pub async fn post_at_rate(
    http: &reqwest::Client,
    url: &str,
    requests: Vec<(String, String)>,
    rate: f64,
) -> anyhow::Result<Vec<Answered>> {
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = Vec::with_capacity(requests.len());
    for (i, (body, sig)) in requests.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let (http, url, connections) = (http.clone(), url.to_owned(), connections.clone());
        tasks.push(tokio::spawn(async move {
            // Waiting for a connection counts: latency runs from when the request was due.
            let _connection = connections.acquire_owned().await?;
            let response = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let _ = response.bytes().await?;
            anyhow::ensure!(status.is_success(), "{url} answered {status}");
            Ok(Answered { due: due.into_std(), answered: Instant::now() })
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await??);
    }
    Ok(out)
}

/// Watches sessions through the API (as an agent's screen would, every `every`) and notes
/// when each provider message id is first seen.
pub struct Watcher {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Watcher {
    pub fn start(product: &Product, http: &reqwest::Client, sessions: &[String], every: Duration) -> Self {
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = sessions
            .iter()
            .map(|session| {
                let url = format!("{}/v1/sessions/{session}/messages?limit=5", product.base);
                let (http, token, seen, stopped) =
                    (http.clone(), product.token.clone(), seen.clone(), stopped.clone());
                tokio::spawn(async move {
                    while !*stopped.borrow() {
                        if let Ok(response) = http.get(&url).bearer_auth(&token).send().await
                            && let Ok(page) = response.json::<Value>().await
                        {
                            let now = Instant::now();
                            let mut seen = seen.lock().unwrap();
                            for m in page["items"].as_array().into_iter().flatten() {
                                if let Some(id) = m["provider_id"].as_str() {
                                    seen.entry(id.to_owned()).or_insert(now);
                                }
                            }
                        }
                        tokio::time::sleep(every).await;
                    }
                })
            })
            .collect();
        Self { seen, stop, tasks }
    }

    /// When `provider_id` was first seen, if it was.
    pub fn seen(&self, provider_id: &str) -> Option<Instant> {
        self.seen.lock().unwrap().get(provider_id).copied()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// For the requests `watched` picks (by index) among `wamids` (their provider message ids,
/// in request order) and `answers`: the time from each one's acknowledgement to `watcher`
/// first seeing it (waited for up to two minutes).
pub async fn acknowledged_to_seen(
    watcher: &Watcher,
    wamids: &[String],
    answers: &[Answered],
    watched: impl Fn(usize) -> bool,
) -> anyhow::Result<Vec<Duration>> {
    let samples: Vec<(&String, &Answered)> =
        wamids.iter().zip(answers).enumerate().filter(|(n, _)| watched(*n)).map(|(_, s)| s).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while samples.iter().any(|(w, _)| watcher.seen(w).is_none()) {
        anyhow::ensure!(Instant::now() < deadline, "not every watched message became visible");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(samples
        .iter()
        .map(|(w, a)| {
            watcher.seen(w).map(|seen| seen.saturating_duration_since(a.answered)).unwrap_or_default()
        })
        .collect())
}

/// The pending sessions as the admin sees them through the API, each once (a session whose
/// place in the list moves while it is paged through may come twice).
pub async fn pending_sessions(http: &reqwest::Client, product: &Product) -> anyhow::Result<Vec<Value>> {
    let mut sessions: Vec<Value> = Vec::new();
    let mut path = "/v1/sessions?tab=pending&limit=100".to_owned();
    loop {
        let page = get_json(http, product, &path).await?;
        sessions.extend(page["items"].as_array().into_iter().flatten().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/sessions?tab=pending&limit=100&cursor={c}"),
            None => {
                let mut seen = std::collections::HashSet::new();
                sessions.retain(|s| seen.insert(s["id"].to_string()));
                return Ok(sessions);
            }
        }
    }
}

/// The ids of `sessions` (as the API lists them).
pub fn ids(sessions: &[Value]) -> Vec<String> {
    sessions.iter().filter_map(|s| s["id"].as_str().map(str::to_owned)).collect()
}

/// The unread messages of `sessions`, summed.
pub fn unread(sessions: &[Value]) -> u64 {
    sessions.iter().map(|s| s["unread"].as_u64().unwrap_or(0)).sum()
}

/// Which of `sessions` hold one of the provider message ids `wanted` (each customer's first
/// message marks their session).
pub async fn sessions_holding(
    http: &reqwest::Client,
    product: &Product,
    sessions: &[String],
    wanted: &std::collections::HashSet<String>,
) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for id in sessions {
        let page = get_json(http, product, &format!("/v1/sessions/{id}/messages?limit=100")).await?;
        let holds = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["provider_id"].as_str().is_some_and(|p| wanted.contains(p)));
        if holds {
            found.push(id.clone());
        }
    }
    anyhow::ensure!(found.len() == wanted.len(), "found {} of {} sessions", found.len(), wanted.len());
    Ok(found)
}

/// `GET path` on the product as its admin, as JSON.
pub async fn get_json(http: &reqwest::Client, product: &Product, path: &str) -> anyhow::Result<Value> {
    Ok(http.get(format!("{}{path}", product.base)).bearer_auth(&product.token).send().await?.json().await?)
}
