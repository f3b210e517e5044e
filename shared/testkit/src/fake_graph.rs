//! A fake Meta Graph API speaking the documented wire format: records every request to
//! `/{version}/{phone-number id}/messages`, answers with `wamid`s, serves media
//! (`GET /{version}/{media id}` then the returned URL), and fails on demand with Meta error
//! codes, HTTP statuses or a stall (the client's timeout).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the next send answers instead of success.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Meta's error JSON with this code, under this HTTP status.
    Meta { code: i64, status: u16 },
    /// A bare HTTP status.
    Http(u16),
    /// No answer for this long (longer than the client's timeout).
    Stall(Duration),
    /// Success, after this long.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Recorded {
    /// When the request arrived.
    pub at: std::time::Instant,
    pub phone_number_id: String,
    /// The wamid answered (empty for read receipts).
    pub wamid: String,
    pub authorization: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    sends: Vec<Recorded>,
    faults: VecDeque<Fault>,
    /// Fails a share of sends (0.0–1.0) with the listed faults in turn.
    random: Option<(f64, Vec<Fault>, u64)>,
    media: std::collections::HashMap<String, (Vec<u8>, String)>,
    counter: u64,
    /// Arrival times of the message sends to each recipient (read receipts excluded).
    by_recipient: std::collections::HashMap<String, Vec<std::time::Instant>>,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeGraph {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let base_url = format!("http://{}", listener.local_addr().expect("an address"));
        let state = (inner.clone(), base_url.clone());
        let app = Router::new()
            .route("/{version}/{id}/messages", post(send))
            .route("/{version}/{id}", get(media_meta))
            .route("/media-bytes/{id}", get(media_bytes))
            .with_state(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base_url, inner, _server: Arc::new(server) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next sends fail like this, in order.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// From now on, a share `rate` of sends fails, cycling through `faults` (deterministic).
    pub fn fail_randomly(&self, rate: f64, faults: Vec<Fault>, seed: u64) {
        self.lock().random = Some((rate, faults, seed));
    }

    pub fn add_media(&self, id: &str, bytes: &[u8], mime: &str) {
        self.lock().media.insert(id.to_owned(), (bytes.to_vec(), mime.to_owned()));
    }

    /// The id the next successful request will get (to send a status before its message).
    pub fn next_message_id(&self) -> String {
        format!("wamid.fake.{}", self.lock().counter + 1)
    }

    /// When each message send to `to` arrived, in order (cheap: for polling many at once).
    pub fn arrivals_to(&self, to: &str) -> Vec<std::time::Instant> {
        self.lock().by_recipient.get(to).cloned().unwrap_or_default()
    }

    /// Every message send (read receipts excluded), in arrival order.
    pub fn sends(&self) -> Vec<Recorded> {
        self.lock().sends.iter().filter(|r| r.body["status"] != "read").cloned().collect()
    }

    /// Every read receipt.
    pub fn read_receipts(&self) -> Vec<Recorded> {
        self.lock().sends.iter().filter(|r| r.body["status"] == "read").cloned().collect()
    }
}

type AppState = (Arc<Mutex<Inner>>, String);

fn next_fault(inner: &mut Inner) -> Option<Fault> {
    if let Some(f) = inner.faults.pop_front() {
        return Some(f);
    }
    let (rate, faults, seed) = inner.random.as_mut()?;
    // xorshift: reproducible without a crate.
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let roll = (*seed % 10_000) as f64 / 10_000.0;
    (roll < *rate && !faults.is_empty()).then(|| faults[(*seed as usize / 10_000) % faults.len()].clone())
}

async fn send(
    State((inner, _)): State<AppState>,
    Path((_, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization =
        headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (fault, id) = {
        let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
        let is_read = body["status"] == "read";
        let fault = if is_read { None } else { next_fault(&mut inner) };
        inner.counter += 1;
        let id = format!("wamid.fake.{}", inner.counter);
        if matches!(fault, None | Some(Fault::Slow(_))) {
            let wamid = if is_read { String::new() } else { id.clone() };
            let at = std::time::Instant::now();
            if !is_read && let Some(to) = body["to"].as_str() {
                inner.by_recipient.entry(to.to_owned()).or_default().push(at);
            }
            inner.sends.push(Recorded {
                at,
                phone_number_id: phone.clone(),
                wamid,
                authorization,
                body: body.clone(),
            });
        }
        (fault, id)
    };
    if let Some(Fault::Slow(d)) = fault {
        tokio::time::sleep(d).await;
        return axum::Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}], "messages": [{"id": id}]}))
            .into_response();
    }
    match fault {
        Some(Fault::Slow(_)) => unreachable!("answered above"),
        None if body["status"] == "read" => axum::Json(json!({"success": true})).into_response(),
        None => axum::Json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": id}]
        }))
        .into_response(),
        Some(Fault::Meta { code, status }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(json!({"error": {"message": format!("(#{code}) fake error"), "type": "OAuthException", "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": format!("fake error {code}")}, "fbtrace_id": "fake"}})),
        )
            .into_response(),
        Some(Fault::Http(status)) => StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR).into_response(),
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

async fn media_meta(
    State((inner, base)): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    match inner.media.get(&id) {
        Some((bytes, mime)) => axum::Json(json!({
            "messaging_product": "whatsapp", "url": format!("{base}/media-bytes/{id}"),
            "mime_type": mime, "file_size": bytes.len(), "id": id
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"code": 100, "message": "Unsupported get request"}})),
        )
            .into_response(),
    }
}

async fn media_bytes(
    State((inner, _)): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !headers.get("authorization").is_some_and(|v| v.to_str().unwrap_or_default().starts_with("Bearer ")) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    match inner.media.get(&id) {
        Some((bytes, mime)) => ([("content-type", mime.clone())], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
