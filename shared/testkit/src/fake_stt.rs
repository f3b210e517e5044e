//! A fake OpenAI-compatible speech-to-text server: `POST /v1/audio/transcriptions` with a
//! multipart body, checked as the real one would (a `file` part that is Ogg Opus audio,
//! `model`, `language`, `response_format=json`; a bearer key), answering `{"text"}`; it
//! counts calls per file and injects faults (an HTTP status with OpenAI's error body, a
//! stall past the client's timeout, a slow success).

use axum::Json;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "sk-test-transcription-key";
pub const TEXT: &str = "Oi, quero saber o valor do plano anual.";

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    Status(u16),
    /// No answer for this long.
    Stall(Duration),
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<Fault>,
    /// Every success waits this long (a provider that takes a second per file).
    delay: Duration,
    /// Calls that reached the handler (successful or not).
    calls: u64,
    /// The size of every file received.
    files: Vec<usize>,
    /// When each success was answered.
    answered: Vec<std::time::Instant>,
    /// Successful calls being worked on now, and the most there ever were.
    in_flight: usize,
    peak_in_flight: usize,
}

#[derive(Clone)]
pub struct FakeStt {
    /// The base a client appends `/audio/transcriptions` to (with `/v1`).
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeStt {
    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let (listener, addr) = crate::loopback().await;
        let base_url = format!("http://{addr}/v1");
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcribe))
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(inner.clone());
        Self { base_url, inner, _server: crate::serve(listener, app) }
    }

    pub fn fail_next(&self, fault: Fault) {
        self.inner.lock().unwrap().faults.push_back(fault);
    }

    /// Every success takes this long.
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    pub fn calls(&self) -> u64 {
        self.inner.lock().unwrap().calls
    }

    /// The size of every file received, in order (a test tells its files apart by size).
    pub fn files(&self) -> Vec<usize> {
        self.inner.lock().unwrap().files.clone()
    }

    /// When each successful transcription was answered, in order.
    pub fn answered(&self) -> Vec<std::time::Instant> {
        self.inner.lock().unwrap().answered.clone()
    }

    /// The most calls the server worked on at once (the client's concurrency, seen from here).
    pub fn peak_in_flight(&self) -> usize {
        self.inner.lock().unwrap().peak_in_flight
    }
}

fn error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"error": {"message": message, "type": "invalid_request_error"}}))).into_response()
}

async fn transcribe(
    State(state): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let (fault, delay) = {
        let mut inner = state.lock().unwrap();
        inner.calls += 1;
        (inner.faults.pop_front(), inner.delay)
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        return error(401, "Incorrect API key provided");
    }
    let (mut file, mut model, mut language, mut format) = (None, None, None, None);
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let Ok(bytes) = field.bytes().await else { return error(400, "unreadable multipart body") };
        match name.as_str() {
            "file" => file = Some((filename, bytes)),
            "model" => model = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "language" => language = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "response_format" => format = Some(String::from_utf8_lossy(&bytes).into_owned()),
            _ => {}
        }
    }
    let Some((filename, bytes)) = file else { return error(400, "you must provide a file") };
    if model.as_deref().is_none_or(str::is_empty) {
        return error(400, "you must provide a model parameter");
    }
    if language.as_deref() != Some("pt") || format.as_deref() != Some("json") {
        return error(400, "language must be pt and response_format json in this test");
    }
    if !filename.as_deref().is_some_and(|f| f.ends_with(".ogg")) || !crate::audio::is_ogg_opus(&bytes) {
        return error(
            400,
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'ogg', 'wav', 'webm']",
        );
    }
    state.lock().unwrap().files.push(bytes.len());
    match fault {
        Some(Fault::Status(s)) => return error(s, "injected fault"),
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            return error(503, "stalled");
        }
        None => {}
    }
    let flight = Flight::new(&state);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    drop(flight);
    state.lock().unwrap().answered.push(std::time::Instant::now());
    Json(json!({"text": TEXT})).into_response()
}

/// One call being worked on; it ends when dropped (also when the client gives up and the
/// handler is cancelled).
struct Flight(Arc<Mutex<Inner>>);

impl Flight {
    fn new(state: &Arc<Mutex<Inner>>) -> Self {
        let mut inner = state.lock().unwrap();
        inner.in_flight += 1;
        inner.peak_in_flight = inner.peak_in_flight.max(inner.in_flight);
        Self(state.clone())
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.0.lock() {
            inner.in_flight -= 1;
        }
    }
}
