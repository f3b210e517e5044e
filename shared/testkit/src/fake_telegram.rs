//! A fake Telegram Bot API speaking the documented wire format: `POST /bot<token>/<method>`
//! with JSON (`sendMessage`, `sendPhoto`, `sendDocument`, `sendVoice`, `sendAudio`,
//! `sendVideo`, `sendSticker`, `setWebhook`, `getFile`), answers `{"ok": true, "result": …}`
//! with message ids numbered per chat, serves files at `/file/bot<token>/<path>`, and fails
//! on demand the way Telegram does (`{"ok": false, "error_code", "description",
//! "parameters": {"retry_after"}}`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// What the next send answers instead of success.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with `retry_after` seconds.
    TooMany(u64),
    /// 403: the person blocked the bot.
    Blocked,
    /// A bare HTTP status with Telegram's error body.
    Http(u16),
}

#[derive(Debug, Clone)]
pub struct Call {
    /// The token in the URL.
    pub token: String,
    pub method: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    faults: VecDeque<Fault>,
    /// Last message number per chat.
    numbers: HashMap<String, i64>,
    files: HashMap<String, (Vec<u8>, String)>,
}

type Shared = Arc<Mutex<Inner>>;

#[derive(Clone)]
pub struct FakeTelegram {
    pub base_url: String,
    inner: Shared,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let inner: Shared = Arc::default();
        let (listener, addr) = crate::loopback().await;
        let base_url = format!("http://{addr}");
        let app = Router::new()
            .route("/{bot}/{method}", post(method))
            .route("/file/{bot}/{*path}", get(file))
            .with_state(inner.clone());
        Self { base_url, inner, _server: crate::serve(listener, app) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next sends fail with these, in order.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// A file a customer sent: `getFile` names it `files/<id>.<ext>`.
    pub fn add_file(&self, file_id: &str, bytes: &[u8], path_ending: &str) {
        self.lock().files.insert(file_id.to_owned(), (bytes.to_vec(), path_ending.to_owned()));
    }

    /// Every call, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The message sends (`send*` methods) that succeeded.
    pub fn sends(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.method.starts_with("send")).collect()
    }
}

fn error(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(r) = retry_after {
        body["parameters"] = json!({"retry_after": r});
    }
    (StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response()
}

async fn method(
    State(inner): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let Some(token) = bot.strip_prefix("bot").filter(|t| t.contains(':')) else {
        return error(404, "Not Found", None);
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    match method.as_str() {
        "setWebhook" => {
            inner.calls.push(Call { token: token.to_owned(), method, body });
            axum::Json(json!({"ok": true, "result": true, "description": "Webhook was set"})).into_response()
        }
        "getFile" => {
            let id = body["file_id"].as_str().unwrap_or_default().to_owned();
            match inner.files.get(&id) {
                Some((_, ending)) => {
                    let path = format!("files/{id}.{ending}");
                    axum::Json(json!({"ok": true, "result": {"file_id": id, "file_unique_id": id, "file_path": path}}))
                        .into_response()
                }
                None => error(400, "Bad Request: invalid file_id", None),
            }
        }
        m if m.starts_with("send") => {
            match inner.faults.pop_front() {
                Some(Fault::TooMany(after)) => {
                    return error(429, &format!("Too Many Requests: retry after {after}"), Some(after));
                }
                Some(Fault::Blocked) => return error(403, "Forbidden: bot was blocked by the user", None),
                Some(Fault::Http(status)) => return error(status, "Internal Server Error", None),
                None => {}
            }
            let chat = match &body["chat_id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let Ok(chat_id) = chat.parse::<i64>() else {
                return error(400, "Bad Request: chat not found", None);
            };
            let number = inner.numbers.entry(chat.clone()).or_insert(1000);
            *number += 1;
            let message_id = *number;
            inner.calls.push(Call { token: token.to_owned(), method, body });
            axum::Json(json!({"ok": true, "result": {"message_id": message_id, "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"}}}))
            .into_response()
        }
        _ => error(404, "Not Found: method not found", None),
    }
}

async fn file(State(inner): State<Shared>, Path((bot, path)): Path<(String, String)>) -> Response {
    if !bot.starts_with("bot") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    let id = path.trim_start_matches("files/").rsplit_once('.').map(|(id, _)| id).unwrap_or_default();
    match inner.files.get(id) {
        Some((bytes, _)) => ([("content-type", "application/octet-stream")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
