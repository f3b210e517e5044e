//! A fake of API Gateway's management API for WebSocket connections:
//! `POST /@connections/{connectionId}` with the frame as the body, signed with SigV4 (the
//! `Authorization` header is required, not checked). Answers 200; 410 with
//! `x-amzn-ErrorType: GoneException` for a connection marked gone, as API Gateway does for
//! a client that left; a queued fault (a status) for the next post.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    posts: HashMap<String, Vec<serde_json::Value>>,
    gone: HashSet<String>,
    faults: VecDeque<u16>,
}

#[derive(Clone)]
pub struct FakeSockets {
    /// The stage URL a management client is pointed at.
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeSockets {
    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let (listener, addr) = crate::loopback().await;
        let base_url = format!("http://{addr}");
        let app = Router::new().route("/@connections/{id}", post(receive)).with_state(inner.clone());
        Self { base_url, inner, _server: crate::serve(listener, app) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The frames posted to `connection`, in order (JSON).
    pub fn posts(&self, connection: &str) -> Vec<serde_json::Value> {
        self.lock().posts.get(connection).cloned().unwrap_or_default()
    }

    /// From now on `connection` is gone (410).
    pub fn leave(&self, connection: &str) {
        self.lock().gone.insert(connection.to_owned());
    }

    /// The next post answers `status` (API Gateway's 500 or 429, say).
    pub fn fail_next(&self, status: u16) {
        self.lock().faults.push_back(status);
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !headers.contains_key("authorization") {
        return (
            StatusCode::FORBIDDEN,
            [("x-amzn-ErrorType", "ForbiddenException")],
            r#"{"message":"Forbidden"}"#,
        )
            .into_response();
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(status) = inner.faults.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, [("x-amzn-ErrorType", "InternalServerErrorException")], r#"{"message":"Internal"}"#)
            .into_response();
    }
    if inner.gone.contains(&id) {
        return (StatusCode::GONE, [("x-amzn-ErrorType", "GoneException")], r#"{"message":"Gone"}"#)
            .into_response();
    }
    let frame = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner.posts.entry(id).or_default().push(frame);
    StatusCode::OK.into_response()
}
