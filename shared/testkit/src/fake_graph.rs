//! A fake Meta Graph API speaking the documented wire format: records every request to
//! `/{version}/{phone-number id}/messages`, answers with `wamid`s, serves media
//! (`GET /{version}/{media id}` then the returned URL), and fails on demand with Meta error
//! codes, HTTP statuses or a stall (the client's timeout). It also keeps a business
//! account's template catalogue (`/{waba}/message_templates`: create, list with paging,
//! delete by name; `POST /{template id}` edits) and takes Resumable Upload API uploads.
//! Messenger's and Instagram's Send API share the messages route: a body with `recipient`
//! is a page send, answered `{"recipient_id", "message_id"}`; attachments customers send
//! are served unauthenticated at `/cdn/{id}` as Meta's CDN serves them.

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
    /// The catalogue, as Meta lists it (`id`, `name`, `language`, `category`, `status`,
    /// `components`, ...), with the WABA each belongs to.
    templates: Vec<(String, Value)>,
    /// Every catalogue request: (method and path, body or query).
    catalog_requests: Vec<(String, Value)>,
    /// Faults for the catalogue's next requests, in order.
    catalog_faults: VecDeque<Fault>,
    uploads: std::collections::HashMap<String, Vec<u8>>,
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
        let (listener, addr) = crate::loopback().await;
        let base_url = format!("http://{addr}");
        let state = (inner.clone(), base_url.clone());
        let app = Router::new()
            .route("/{version}/{id}/messages", post(send))
            .route("/{version}/{id}", get(media_meta).post(node_post))
            .route(
                "/{version}/{id}/message_templates",
                get(list_templates).post(create_template).delete(delete_template),
            )
            .route("/{version}/{id}/uploads", post(start_upload))
            .route("/media-bytes/{id}", get(media_bytes))
            .route("/cdn/{id}", get(cdn_bytes))
            .with_state(state);
        Self { base_url, inner, _server: crate::serve(listener, app) }
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

    /// Puts a template in `waba`'s catalogue as Meta would list it (an `id` is added when
    /// missing).
    pub fn add_template(&self, waba: &str, mut template: Value) {
        let mut inner = self.lock();
        inner.counter += 1;
        if template["id"].is_null() {
            template["id"] = json!(format!("{}", 900_000 + inner.counter));
        }
        inner.templates.push((waba.to_owned(), template));
    }

    /// Moves a template's status (what Meta's reviewers do).
    pub fn set_template_status(&self, name: &str, status: &str) {
        for (_, t) in self.lock().templates.iter_mut().filter(|(_, t)| t["name"] == name) {
            t["status"] = json!(status);
        }
    }

    /// Removes a template from the catalogue behind our back (deleted in Meta's manager).
    pub fn drop_template(&self, name: &str) {
        self.lock().templates.retain(|(_, t)| t["name"] != name);
    }

    /// The catalogue of `waba`.
    pub fn templates(&self, waba: &str) -> Vec<Value> {
        self.lock().templates.iter().filter(|(w, _)| w == waba).map(|(_, t)| t.clone()).collect()
    }

    /// Every catalogue request: ("POST /{waba}/message_templates", body), ...
    pub fn catalog_requests(&self) -> Vec<(String, Value)> {
        self.lock().catalog_requests.clone()
    }

    /// The catalogue's next requests fail like this, in order.
    pub fn fail_catalog_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().catalog_faults.extend(faults);
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
        let page_send = body.get("recipient").is_some();
        let id = if page_send {
            format!("m_fake.{}", inner.counter)
        } else {
            format!("wamid.fake.{}", inner.counter)
        };
        if matches!(fault, None | Some(Fault::Slow(_))) {
            let wamid = if is_read { String::new() } else { id.clone() };
            let at = std::time::Instant::now();
            if !is_read && let Some(to) = body["to"].as_str().or_else(|| body["recipient"]["id"].as_str()) {
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
        None if body.get("recipient").is_some() => {
            axum::Json(json!({"recipient_id": body["recipient"]["id"], "message_id": id})).into_response()
        }
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

/// An attachment's bytes as Meta's CDN serves them: the URL is the credential.
async fn cdn_bytes(State((inner, _)): State<AppState>, Path(id): Path<String>) -> Response {
    let inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    match inner.media.get(&id) {
        Some((bytes, mime)) => ([("content-type", mime.clone())], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn meta_error(status: u16, code: i64, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(json!({"error": {"message": message, "type": "OAuthException", "code": code,
            "error_user_msg": message, "fbtrace_id": "fake"}})),
    )
        .into_response()
}

/// Records a catalogue request; the fault to answer with, if one is queued.
fn catalog_request(inner: &Arc<Mutex<Inner>>, what: String, body: Value) -> Option<Response> {
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    inner.catalog_requests.push((what, body));
    match inner.catalog_faults.pop_front()? {
        Fault::Meta { code, status } => Some(meta_error(status, code, &format!("fake error {code}"))),
        Fault::Http(status) => {
            Some(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR).into_response())
        }
        // A stall or slowness is played out by the caller's timeout: answered as a 504.
        Fault::Stall(_) | Fault::Slow(_) => Some(StatusCode::GATEWAY_TIMEOUT.into_response()),
    }
}

async fn create_template(
    State((inner, _)): State<AppState>,
    Path((_, waba)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(fault) = catalog_request(&inner, format!("POST /{waba}/message_templates"), body.clone()) {
        return fault;
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    if inner
        .templates
        .iter()
        .any(|(w, t)| *w == waba && t["name"] == body["name"] && t["language"] == body["language"])
    {
        return meta_error(400, 100, "Message template already exists with this name and language");
    }
    inner.counter += 1;
    let id = format!("{}", 900_000 + inner.counter);
    let template = json!({
        "id": id, "name": body["name"], "language": body["language"], "category": body["category"],
        "status": "PENDING", "components": body["components"],
    });
    inner.templates.push((waba, template));
    axum::Json(json!({"id": id, "status": "PENDING", "category": body["category"]})).into_response()
}

async fn list_templates(
    State((inner, base)): State<AppState>,
    Path((version, waba)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(fault) = catalog_request(&inner, format!("GET /{waba}/message_templates"), json!(query)) {
        return fault;
    }
    let inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    let all: Vec<&Value> = inner.templates.iter().filter(|(w, _)| *w == waba).map(|(_, t)| t).collect();
    let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, 100);
    let from =
        query.get("after").and_then(|a| a.strip_prefix("cursor-")).and_then(|a| a.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(from).take(limit).map(|t| (*t).clone()).collect();
    let mut answer = json!({"data": page, "paging": {"cursors": {"before": format!("cursor-{from}"), "after": format!("cursor-{}", from + limit)}}});
    if from + limit < all.len() {
        answer["paging"]["next"] = json!(format!(
            "{base}/{version}/{waba}/message_templates?limit={limit}&after=cursor-{}",
            from + limit
        ));
    }
    axum::Json(answer).into_response()
}

async fn delete_template(
    State((inner, _)): State<AppState>,
    Path((_, waba)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(fault) = catalog_request(&inner, format!("DELETE /{waba}/message_templates"), json!(query)) {
        return fault;
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    let name = query.get("name").cloned().unwrap_or_default();
    let before = inner.templates.len();
    inner.templates.retain(|(w, t)| {
        !(*w == waba
            && t["name"] == name.as_str()
            && query.get("hsm_id").is_none_or(|id| t["id"] == id.as_str()))
    });
    if inner.templates.len() == before {
        return meta_error(404, 100, "Template not found");
    }
    axum::Json(json!({"success": true})).into_response()
}

async fn start_upload(
    State((inner, _)): State<AppState>,
    Path((_, app)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(fault) = catalog_request(&inner, format!("POST /{app}/uploads"), json!(query)) {
        return fault;
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    inner.counter += 1;
    axum::Json(json!({"id": format!("upload:{}", inner.counter)})).into_response()
}

/// `POST /{node}`: the bytes of an upload session (`upload:…`), or a template's edit.
async fn node_post(
    State((inner, _)): State<AppState>,
    Path((_, node)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if node.starts_with("upload:") {
        if !headers.get("authorization").is_some_and(|v| v.to_str().unwrap_or_default().starts_with("OAuth "))
        {
            return meta_error(401, 190, "uploads take an OAuth authorization");
        }
        if let Some(fault) = catalog_request(&inner, format!("POST /{node}"), json!({"bytes": body.len()})) {
            return fault;
        }
        let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.uploads.insert(node.clone(), body.to_vec());
        return axum::Json(json!({"h": format!("4::{}", node.trim_start_matches("upload:"))}))
            .into_response();
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(fault) = catalog_request(&inner, format!("POST /{node}"), body.clone()) {
        return fault;
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    match inner.templates.iter_mut().find(|(_, t)| t["id"] == node.as_str()) {
        Some((_, t)) => {
            t["components"] = body["components"].clone();
            if !body["category"].is_null() {
                t["category"] = body["category"].clone();
            }
            t["status"] = json!("PENDING");
            axum::Json(json!({"success": true})).into_response()
        }
        None => meta_error(404, 100, "Unsupported post request"),
    }
}
