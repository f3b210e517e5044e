//! A fake Asaas (API v3) speaking its documented wire format: customers, charges (created
//! `PENDING`, found by `externalReference`), Pix codes, delete, refund; the `access_token`
//! header checked; errors as `{"errors": [{"code", "description"}]}`. It keeps state, plays
//! the payer (`pay`, `confirm`, `overdue`), records the webhook events each change makes
//! (`{"id": "evt_…", "event": "PAYMENT_…", "dateCreated", "payment": {…}}`) for the test
//! to deliver (duplicated, shuffled) or posts them itself to a webhook URL, and injects
//! faults: an HTTP status, a stall (the client's timeout) before or after the charge is
//! made, and a webhook posted before the create call answers.

// Handlers return axum's `Response` as their error: a test server, where its size is no matter.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const API_KEY: &str = "$aact_test_key_for_the_fake";

/// What the next call of a route answers instead of success.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// This HTTP status (with Asaas' error body), nothing done.
    Status(u16),
    /// Nothing done, no answer for this long.
    Stall(Duration),
    /// The work is done (the charge exists), then no answer for this long: the lost answer.
    StallAfter(Duration),
    /// The work is done, its webhook posted to the webhook URL, then the answer.
    WebhookFirst,
}

#[derive(Default)]
struct Inner {
    customers: Vec<Value>,
    payments: Vec<Value>,
    /// Events not yet taken by the test.
    events: Vec<Value>,
    /// Every call: (method path, access_token, user agent).
    calls: Vec<(String, String, String)>,
    faults: HashMap<String, VecDeque<Fault>>,
    webhook: Option<(String, String)>,
    counter: u64,
    /// Every call waits this long before its work (a slow Asaas).
    delay: Duration,
}

#[derive(Clone)]
pub struct FakeAsaas {
    /// The API's base, with `/v3` (what `ATENDE_ASAAS_URL` takes).
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

type Shared = Arc<Mutex<Inner>>;

fn error(status: u16, code: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"errors": [{"code": code, "description": description}]}))).into_response()
}

impl FakeAsaas {
    pub async fn start() -> Self {
        let inner: Shared = Arc::default();
        let (listener, addr) = crate::loopback().await;
        let base_url = format!("http://{addr}/v3");
        let app = Router::new()
            .route("/v3/customers", get(list_customers).post(create_customer))
            .route("/v3/payments", get(list_payments).post(create_payment))
            .route("/v3/payments/{id}", axum::routing::delete(delete_payment).get(get_payment))
            .route("/v3/payments/{id}/pixQrCode", get(pix_code))
            .route("/v3/payments/{id}/refund", post(refund))
            .with_state(inner.clone());
        Self { base_url, inner, _server: crate::serve(listener, app) }
    }

    /// The next call of `route` (`POST /payments`, `GET /payments`, `POST /customers`,
    /// `GET /pixQrCode`, `DELETE /payments`, `POST /refund`) fails with `fault`.
    pub fn fail_next(&self, route: &str, fault: Fault) {
        self.inner.lock().unwrap().faults.entry(route.to_owned()).or_default().push_back(fault);
    }

    /// Every call waits this long before doing its work.
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    /// Where the fake posts events itself (only for `Fault::WebhookFirst` and
    /// [`FakeAsaas::post_events`]), with the `asaas-access-token` it sends.
    pub fn webhook_to(&self, url: &str, token: &str) {
        self.inner.lock().unwrap().webhook = Some((url.to_owned(), token.to_owned()));
    }

    /// Every charge made (deleted ones included).
    pub fn payments(&self) -> Vec<Value> {
        self.inner.lock().unwrap().payments.clone()
    }

    pub fn customers(&self) -> Vec<Value> {
        self.inner.lock().unwrap().customers.clone()
    }

    /// The calls received: (method and path, access_token, User-Agent).
    pub fn calls(&self) -> Vec<(String, String, String)> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The events made since the last take, in order.
    pub fn take_events(&self) -> Vec<Value> {
        std::mem::take(&mut self.inner.lock().unwrap().events)
    }

    /// The payer pays a charge (Pix or boleto): `RECEIVED`.
    pub fn pay(&self, charge: &str) {
        self.change(charge, "RECEIVED", "PAYMENT_RECEIVED");
    }

    /// A card payment is approved: `CONFIRMED`.
    pub fn confirm(&self, charge: &str) {
        self.change(charge, "CONFIRMED", "PAYMENT_CONFIRMED");
    }

    /// The due date passes: `OVERDUE`.
    pub fn overdue(&self, charge: &str) {
        self.change(charge, "OVERDUE", "PAYMENT_OVERDUE");
    }

    fn change(&self, charge: &str, status: &str, event: &str) {
        let mut inner = self.inner.lock().unwrap();
        let Some(i) = inner.payments.iter().position(|p| p["id"] == charge) else { return };
        inner.payments[i]["status"] = json!(status);
        let p = inner.payments[i].clone();
        record_event(&mut inner, event, &p);
    }

    /// Posts every pending event to the webhook URL, in order; the statuses answered.
    pub async fn post_events(&self) -> Vec<u16> {
        let (events, target) = {
            let mut inner = self.inner.lock().unwrap();
            (std::mem::take(&mut inner.events), inner.webhook.clone())
        };
        let Some((url, token)) = target else { return Vec::new() };
        let mut statuses = Vec::new();
        for e in events {
            statuses.push(post_event(&url, &token, &e).await);
        }
        statuses
    }
}

async fn post_event(url: &str, token: &str, event: &Value) -> u16 {
    let sent = reqwest::Client::new()
        .post(url)
        .header("asaas-access-token", token)
        .timeout(Duration::from_secs(10))
        .json(event)
        .send()
        .await;
    sent.map(|r| r.status().as_u16()).unwrap_or(0)
}

fn record_event(inner: &mut Inner, event: &str, payment: &Value) {
    inner.counter += 1;
    let id = format!("evt_{:032x}&{}", inner.counter, inner.counter);
    inner.events.push(json!({
        "id": id,
        "event": event,
        "dateCreated": "2026-11-23 10:00:00",
        "payment": payment,
    }));
}

/// Checks the key and records the call; the fault for `route`, if one is queued.
fn enter(state: &Shared, headers: &HeaderMap, route: &str) -> Result<Option<Fault>, Response> {
    let mut inner = state.lock().unwrap();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (key, agent) = (header("access_token"), header("user-agent"));
    inner.calls.push((route.to_owned(), key.clone(), agent.clone()));
    if key != API_KEY {
        return Err(error(
            401,
            "invalid_access_token",
            "A chave de API informada não pertence a este ambiente",
        ));
    }
    if agent.is_empty() {
        return Err(error(400, "invalid_user_agent", "O header User-Agent é obrigatório"));
    }
    Ok(inner.faults.get_mut(route).and_then(VecDeque::pop_front))
}

/// Lets a call of `route` in: the key checked, the call recorded, a fault that comes
/// before the work applied; `Ok` with the fault still to apply after it.
async fn admit(state: &Shared, headers: &HeaderMap, route: &str) -> Result<Option<Fault>, Response> {
    let fault = enter(state, headers, route)?;
    let delay = state.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::Status(s)) => Err(error(s, "fault", "falha injetada")),
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            Err(error(503, "fault", "stalled"))
        }
        other => Ok(other),
    }
}

/// Applies a fault that comes after the work (the answer lost, or a webhook first).
async fn after(state: &Shared, fault: Option<Fault>, answer: Value) -> Response {
    match fault {
        Some(Fault::StallAfter(d)) => {
            tokio::time::sleep(d).await;
            Json(answer).into_response()
        }
        Some(Fault::WebhookFirst) => {
            let (events, target) = {
                let mut inner = state.lock().unwrap();
                (std::mem::take(&mut inner.events), inner.webhook.clone())
            };
            if let Some((url, token)) = target {
                for e in &events {
                    post_event(&url, &token, e).await;
                }
            }
            Json(answer).into_response()
        }
        _ => Json(answer).into_response(),
    }
}

fn list(data: Vec<Value>) -> Value {
    json!({"object": "list", "hasMore": false, "totalCount": data.len(), "limit": 10, "offset": 0, "data": data})
}

async fn list_customers(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let fault = match admit(&state, &headers, "GET /customers").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let data: Vec<Value> = state
        .lock()
        .unwrap()
        .customers
        .iter()
        .filter(|c| q.get("cpfCnpj").is_none_or(|d| c["cpfCnpj"] == d.as_str()))
        .cloned()
        .collect();
    after(&state, fault, list(data)).await
}

async fn create_customer(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let fault = match admit(&state, &headers, "POST /customers").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (Some(name), Some(doc)) = (body["name"].as_str(), body["cpfCnpj"].as_str()) else {
        return error(400, "invalid_object", "Nome e CPF/CNPJ são obrigatórios");
    };
    let customer = {
        let mut inner = state.lock().unwrap();
        inner.counter += 1;
        let c = json!({"object": "customer", "id": format!("cus_{:012}", inner.counter), "name": name,
            "cpfCnpj": doc, "mobilePhone": body["mobilePhone"], "externalReference": body["externalReference"],
            "deleted": false});
        inner.customers.push(c.clone());
        c
    };
    after(&state, fault, customer).await
}

async fn list_payments(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let fault = match admit(&state, &headers, "GET /payments").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let data: Vec<Value> = state
        .lock()
        .unwrap()
        .payments
        .iter()
        .filter(|p| p["deleted"] != true)
        .filter(|p| q.get("externalReference").is_none_or(|r| p["externalReference"] == r.as_str()))
        .cloned()
        .collect();
    after(&state, fault, list(data)).await
}

async fn create_payment(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let fault = match admit(&state, &headers, "POST /payments").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let billing = body["billingType"].as_str().unwrap_or("");
    if !["PIX", "BOLETO", "CREDIT_CARD", "UNDEFINED"].contains(&billing) {
        return error(400, "invalid_billingType", "Informe a forma de pagamento");
    }
    let value = body["value"].as_f64().or_else(|| body["totalValue"].as_f64());
    let Some(value) = value.filter(|v| *v > 0.0) else {
        return error(400, "invalid_value", "Informe o valor da cobrança");
    };
    if body["dueDate"].as_str().is_none() {
        return error(400, "invalid_dueDate", "Informe a data de vencimento");
    }
    let payment = {
        let mut inner = state.lock().unwrap();
        if !inner.customers.iter().any(|c| c["id"] == body["customer"]) {
            return error(400, "invalid_customer", "Cliente inexistente");
        }
        inner.counter += 1;
        let id = format!("pay_{:012}", inner.counter);
        let p = json!({"object": "payment", "id": id, "customer": body["customer"], "billingType": billing,
            "value": value, "netValue": value, "status": "PENDING", "dueDate": body["dueDate"],
            "description": body["description"], "externalReference": body["externalReference"],
            "installmentCount": body["installmentCount"], "deleted": false,
            "invoiceUrl": format!("https://sandbox.asaas.com/i/{id}"),
            "bankSlipUrl": if billing == "BOLETO" { json!(format!("https://sandbox.asaas.com/b/pdf/{id}")) } else { Value::Null }});
        inner.payments.push(p.clone());
        record_event(&mut inner, "PAYMENT_CREATED", &p);
        p
    };
    after(&state, fault, payment).await
}

async fn get_payment(State(state): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = enter(&state, &headers, "GET /payment") {
        return r;
    }
    match state.lock().unwrap().payments.iter().find(|p| p["id"] == id.as_str()) {
        Some(p) => Json(p.clone()).into_response(),
        None => error(404, "not_found", "Cobrança não encontrada"),
    }
}

async fn pix_code(State(state): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let fault = match admit(&state, &headers, "GET /pixQrCode").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let exists =
        state.lock().unwrap().payments.iter().any(|p| p["id"] == id.as_str() && p["billingType"] == "PIX");
    if !exists {
        return error(404, "not_found", "Cobrança não encontrada");
    }
    let payload =
        format!("00020101021226820014br.gov.bcb.pix2560pix.asaas.com/qr/{id}5204000053039865802BR6304ABCD");
    after(
        &state,
        fault,
        json!({"encodedImage": "iVBORw0KGgo=", "payload": payload, "expirationDate": "2026-12-31 23:59:59"}),
    )
    .await
}

async fn delete_payment(State(state): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let fault = match admit(&state, &headers, "DELETE /payments").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let answer = {
        let mut inner = state.lock().unwrap();
        let Some(i) = inner.payments.iter().position(|p| p["id"] == id.as_str() && p["deleted"] != true)
        else {
            return error(404, "not_found", "Cobrança não encontrada");
        };
        if !["PENDING", "OVERDUE"].contains(&inner.payments[i]["status"].as_str().unwrap_or("")) {
            return error(400, "invalid_action", "Só é possível remover cobranças pendentes ou vencidas");
        }
        inner.payments[i]["deleted"] = json!(true);
        let p = inner.payments[i].clone();
        record_event(&mut inner, "PAYMENT_DELETED", &p);
        json!({"deleted": true, "id": id})
    };
    after(&state, fault, answer).await
}

async fn refund(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let fault = match admit(&state, &headers, "POST /refund").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let answer = {
        let mut inner = state.lock().unwrap();
        let Some(i) = inner.payments.iter().position(|p| p["id"] == id.as_str()) else {
            return error(404, "not_found", "Cobrança não encontrada");
        };
        if !["RECEIVED", "CONFIRMED"].contains(&inner.payments[i]["status"].as_str().unwrap_or("")) {
            return error(400, "invalid_action", "Só é possível estornar cobranças recebidas ou confirmadas");
        }
        let total = inner.payments[i]["value"].as_f64().unwrap_or(0.0);
        let partial = body["value"].as_f64().is_some_and(|v| v < total);
        let (status, event) = if partial {
            ("RECEIVED", "PAYMENT_PARTIALLY_REFUNDED")
        } else {
            ("REFUNDED", "PAYMENT_REFUNDED")
        };
        inner.payments[i]["status"] = json!(status);
        let p = inner.payments[i].clone();
        record_event(&mut inner, event, &p);
        p
    };
    after(&state, fault, answer).await
}
