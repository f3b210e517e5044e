//! A fake integrator: receives outbound webhooks at `POST /<path>`, keeps each as it came
//! (the Standard Webhooks headers and the body) and answers as told: 204 by default, or
//! the next of a script of statuses (with an optional `Retry-After`), or a failure for the
//! first request of every `webhook-id` (a flaky endpoint).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
    /// When it arrived (wall clock).
    pub arrived: chrono::DateTime<chrono::Utc>,
}

impl Received {
    /// The headers a verifier reads.
    pub fn headers(&self) -> serde_json::Value {
        serde_json::json!({
            "webhook-id": self.id, "webhook-timestamp": self.timestamp, "webhook-signature": self.signature,
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Per path: the statuses to answer next (with a Retry-After in seconds).
    script: HashMap<String, VecDeque<(u16, Option<u64>)>>,
    /// Paths failing the first request of every `webhook-id` with 500 (half of all
    /// requests fail; each event gets through on its retry).
    first_fails: HashMap<String, std::collections::HashSet<String>>,
    /// Every answer waits this long (a slow integrator).
    delay: std::time::Duration,
}

#[derive(Clone)]
pub struct FakeReceiver {
    pub addr: std::net::SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeReceiver {
    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let (listener, addr) = crate::loopback().await;
        let app = Router::new().route("/{path}", post(receive)).with_state(inner.clone());
        Self { addr, inner, _server: crate::serve(listener, app) }
    }

    /// The URL of one of its endpoints.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// The next requests to `path` get these statuses (and Retry-After seconds), in order.
    pub fn answer(&self, path: &str, statuses: &[(u16, Option<u64>)]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .entry(path.to_owned())
            .or_default()
            .extend(statuses.iter().copied());
    }

    /// The first request of every `webhook-id` to `path` fails with 500.
    pub fn fail_first(&self, path: &str) {
        self.inner.lock().unwrap().first_fails.insert(path.to_owned(), Default::default());
    }

    /// Distinct `webhook-id`s `path` answered with a 2xx.
    pub fn delivered(&self, path: &str) -> usize {
        let inner = self.inner.lock().unwrap();
        let ids: std::collections::HashSet<&str> = inner
            .received
            .iter()
            .filter(|r| r.path == path && r.status < 300)
            .map(|r| r.id.as_str())
            .collect();
        ids.len()
    }

    /// Every answer takes this long.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// What reached `path`.
    pub fn at(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path == path).collect()
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let delay = inner.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut inner = inner.lock().unwrap();
    let (status, retry_after) = if let Some(next) = inner.script.get_mut(&path).and_then(VecDeque::pop_front)
    {
        next
    } else if let Some(seen) = inner.first_fails.get_mut(&path) {
        if seen.insert(header("webhook-id")) { (500, None) } else { (204, None) }
    } else {
        (204, None)
    };
    inner.received.push(Received {
        path,
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
        arrived: chrono::Utc::now(),
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match retry_after {
        Some(secs) => (status, [("retry-after", secs.to_string())], "busy").into_response(),
        None => (status, "ok").into_response(),
    }
}
