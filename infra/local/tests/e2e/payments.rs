//! Payments through Asaas end to end, against the fake Asaas: a charge made once whatever
//! is lost or retried, the link sent to the contact, Asaas' events applied once each in
//! any order, cancel and refund with their refusals, and no secret in any answer or log.

use crate::stack::{FIXTURE_PHONE_ID, Stack, Tenant};
use atende_testkit::fake_asaas::{API_KEY, Fault};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

pub const TOKEN: &str = "webhook-token-of-the-test-account-0123456789";
const CPF: &str = "529.982.247-25";

pub async fn enable(stack: &Stack, t: &Tenant) {
    let (status, body) = stack
        .call(
            Method::PUT,
            "/v1/payment-settings",
            &t.token,
            Some(json!({"enabled": true, "environment": "sandbox", "api_key": API_KEY, "webhook_token": TOKEN})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["api_key_set"], true);
    assert!(body.get("api_key").is_none() && body.get("webhook_token").is_none());
}

fn due(stack: &Stack) -> String {
    (stack.now() + chrono::Duration::days(3)).format("%Y-%m-%d").to_string()
}

async fn request(stack: &Stack, t: &Tenant, session: &str, body: Value) -> Value {
    let (status, p) =
        stack.call(Method::POST, &format!("/v1/sessions/{session}/payments"), &t.token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(p["status"], "requested");
    p
}

fn pix(stack: &Stack, cents: i64) -> Value {
    json!({"amount_cents": cents, "method": "pix", "description": "Plano anual", "due_date": due(stack),
        "payer_name": "Maria Souza", "payer_document": CPF})
}

async fn payment(stack: &Stack, t: &Tenant, id: &str) -> Value {
    let (status, p) = stack.call(Method::GET, &format!("/v1/payments/{id}"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    p
}

fn history_events(p: &Value) -> Vec<String> {
    p["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap().to_owned()).collect()
}

async fn paying_tenant(stack: &Stack, wamid: &str) -> (Tenant, String) {
    let t = stack.tenant("Cobra").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    enable(stack, &t).await;
    let session = stack.assumed_session(&t, wamid).await;
    (t, session)
}

#[tokio::test]
async fn a_timeout_on_the_charge_then_the_retry_leaves_exactly_one_charge_and_one_link() {
    let stack = Stack::new().await;
    let (t, session) = paying_tenant(&stack, "wamid.pay-timeout").await;
    // Asaas makes the charge but its answer never arrives (the client gives up first).
    stack.asaas.fail_next("POST /payments", Fault::StallAfter(Duration::from_millis(1500)));
    let p = request(&stack, &t, &session, pix(&stack, 15_000)).await;
    stack.settle().await;

    let charges = stack.asaas.payments();
    assert_eq!(charges.len(), 1, "one charge at Asaas: {charges:?}");
    assert_eq!(charges[0]["externalReference"], p["id"]);
    assert_eq!(charges[0]["value"], 150.0);
    assert_eq!(charges[0]["billingType"], "PIX");
    let p = payment(&stack, &t, p["id"].as_str().unwrap()).await;
    assert_eq!(p["status"], "pending", "{p}");
    assert_eq!(p["charge_attempts"], 2, "the second attempt found the first charge");
    assert_eq!(p["charge_id"], charges[0]["id"]);
    let code = p["pix_code"].as_str().unwrap().to_owned();
    let link = p["invoice_url"].as_str().unwrap().to_owned();
    let events = history_events(&p);
    assert_eq!(events, ["requested", "charge_created", "link_sent"], "{p}");

    // The contact got the link and the Pix code, once.
    let sends: Vec<_> =
        stack.graph.sends().into_iter().filter(|s| s.body.to_string().contains(&link)).collect();
    assert_eq!(sends.len(), 1);
    let text = sends[0].body["text"]["body"].as_str().unwrap();
    assert!(text.contains("R$ 150,00") && text.contains(&code), "{text}");
    // Every call carried the account's key and a User-Agent; one customer was made.
    assert!(stack.asaas.calls().iter().all(|(_, key, agent)| key == API_KEY && agent.starts_with("atende/")));
    assert_eq!(stack.asaas.customers().len(), 1);

    // The same payer again: the customer is reused, and the payer remembered.
    let again = request(
        &stack,
        &t,
        &session,
        json!({"amount_cents": 990, "method": "boleto", "description": "Taxa", "due_date": due(&stack)}),
    )
    .await;
    assert_eq!(again["payer_document"], "52998224725");
    stack.settle().await;
    assert_eq!(stack.asaas.customers().len(), 1);
    assert_eq!(stack.asaas.payments().len(), 2);
    let again = payment(&stack, &t, again["id"].as_str().unwrap()).await;
    assert!(again["bank_slip_url"].as_str().is_some());
}

#[tokio::test]
async fn asaas_refusals_and_repeated_outages_end_the_payment_failed_with_the_reason() {
    let stack = Stack::new().await;
    let (t, session) = paying_tenant(&stack, "wamid.pay-fail").await;
    stack.asaas.fail_next("POST /payments", Fault::Status(400));
    let refused = request(&stack, &t, &session, pix(&stack, 500)).await;
    stack.settle().await;
    let refused = payment(&stack, &t, refused["id"].as_str().unwrap()).await;
    assert_eq!(refused["status"], "failed");
    assert!(refused["error"].as_str().unwrap().contains("Asaas refused the charge"), "{refused}");
    assert_eq!(refused["charge_attempts"], 1, "a refusal is not retried");

    for _ in 0..atende_core::payments::charge::MAX_ATTEMPTS {
        stack.asaas.fail_next("GET /payments", Fault::Status(503));
    }
    let down = request(&stack, &t, &session, pix(&stack, 700)).await;
    stack.settle().await;
    let down = payment(&stack, &t, down["id"].as_str().unwrap()).await;
    assert_eq!(down["status"], "failed", "{down}");
    assert_eq!(down["charge_attempts"], atende_core::payments::charge::MAX_ATTEMPTS);
    // Some 429s then success: made, once.
    stack.asaas.fail_next("POST /payments", Fault::Status(429));
    stack.asaas.fail_next("POST /payments", Fault::Status(429));
    let limited = request(&stack, &t, &session, pix(&stack, 900)).await;
    stack.settle().await;
    let limited = payment(&stack, &t, limited["id"].as_str().unwrap()).await;
    assert_eq!(limited["status"], "pending", "{limited}");
    assert_eq!(stack.asaas.payments().len(), 1);
    let (_, notes) = stack.call(Method::GET, &format!("/v1/sessions/{session}/notes"), &t.token, None).await;
    let texts = notes["items"].to_string();
    assert!(texts.contains("não foi criado"), "the agent is told: {texts}");
}

#[tokio::test]
async fn a_webhook_posted_before_the_create_call_answers_is_applied_and_the_link_goes_once() {
    let stack = Stack::new().await;
    let (t, session) = paying_tenant(&stack, "wamid.pay-early").await;
    let base = stack.serve_webhooks().await;
    stack.asaas.webhook_to(&format!("{base}/webhooks/asaas/{}", t.account), TOKEN);
    stack.asaas.fail_next("POST /payments", Fault::WebhookFirst);
    let p = request(&stack, &t, &session, pix(&stack, 2_000)).await;
    stack.settle().await;
    let p = payment(&stack, &t, p["id"].as_str().unwrap()).await;
    assert_eq!(p["status"], "pending", "{p}");
    let events = history_events(&p);
    assert!(events.contains(&"PAYMENT_CREATED".to_owned()), "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "link_sent").count(), 1);
    assert_eq!(stack.asaas.payments().len(), 1);
    let link = p["invoice_url"].as_str().unwrap();
    assert_eq!(stack.graph.sends().iter().filter(|s| s.body.to_string().contains(link)).count(), 1);
}

async fn every_asaas_webhook_twice_shuffled_ends_each_payment_right_with_a_complete_history(stack: Stack) {
    let (t, session) = paying_tenant(&stack, "wamid.pay-shuffle").await;
    let paid = request(&stack, &t, &session, pix(&stack, 10_000)).await;
    let late = request(
        &stack,
        &t,
        &session,
        json!({"amount_cents": 25_000, "method": "boleto", "description": "Mensalidade", "due_date": due(&stack)}),
    )
    .await;
    let card = request(
        &stack,
        &t,
        &session,
        json!({"amount_cents": 90_000, "method": "credit_card", "installments": 3, "card_brand": "visa",
            "description": "Curso", "due_date": due(&stack)}),
    )
    .await;
    let dropped = request(&stack, &t, &session, pix(&stack, 4_000)).await;
    stack.settle().await;
    let charge = |p: &Value| {
        stack.asaas.payments().into_iter().find(|c| c["externalReference"] == p["id"]).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    stack.asaas.pay(&charge(&paid));
    stack.asaas.overdue(&charge(&late));
    stack.asaas.pay(&charge(&late));
    stack.asaas.confirm(&charge(&card));
    let first = stack.asaas.take_events();
    assert_eq!(first.len(), 8);

    // A wrong token is refused and queues nothing.
    let (status, body) = stack.post_asaas(&t.account, "not-the-token", &first[1]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "unauthorized");
    let (status, _) = stack.post_asaas(&t.account, TOKEN, &json!({"event": "PAYMENT_RECEIVED"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(stack.queue_is_empty(atende_core::queues::PAYMENTS).await);

    let mut deliveries: Vec<Value> = first.iter().chain(first.iter()).cloned().collect();
    atende_testkit::shuffle(&mut deliveries, 0x5eed);
    for e in &deliveries {
        let (status, body) = stack.post_asaas(&t.account, TOKEN, e).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    stack.settle().await;
    assert_eq!(payment(&stack, &t, card["id"].as_str().unwrap()).await["status"], "confirmed");

    // Cancel the unpaid one and refund the card: their events, twice, mixed with stale ones.
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/payments/{}/cancel", dropped["id"].as_str().unwrap()),
            &t.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/payments/{}/refund", card["id"].as_str().unwrap()),
            &t.token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "refund_in_progress");
    let second = stack.asaas.take_events();
    assert_eq!(second.len(), 2);
    let mut deliveries: Vec<Value> =
        second.iter().chain(second.iter()).chain(first.iter().take(4)).cloned().collect();
    atende_testkit::shuffle(&mut deliveries, 0xfeed);
    for e in &deliveries {
        assert_eq!(stack.post_asaas(&t.account, TOKEN, e).await.0, StatusCode::OK);
    }
    stack.settle().await;

    let expect = [(&paid, "received"), (&late, "received"), (&card, "refunded"), (&dropped, "cancelled")];
    for (p, status) in expect {
        let p = payment(&stack, &t, p["id"].as_str().unwrap()).await;
        assert_eq!(p["status"], status, "{p}");
        // Every event of its charge once in the history, whatever the order and repeats.
        let mine: Vec<&Value> = first
            .iter()
            .chain(second.iter())
            .filter(|e| e["payment"]["externalReference"] == p["id"])
            .collect();
        let ids: Vec<&str> =
            p["history"].as_array().unwrap().iter().filter_map(|h| h["event_id"].as_str()).collect();
        assert_eq!(ids.len(), mine.len(), "{p}");
        for e in mine {
            assert_eq!(ids.iter().filter(|id| **id == e["id"].as_str().unwrap()).count(), 1);
        }
    }
    let late = payment(&stack, &t, late["id"].as_str().unwrap()).await;
    let overdue =
        late["history"].as_array().unwrap().iter().find(|h| h["event"] == "PAYMENT_OVERDUE").unwrap();
    let received_first = history_events(&late).iter().position(|e| e == "PAYMENT_RECEIVED")
        < history_events(&late).iter().position(|e| e == "PAYMENT_OVERDUE");
    // An overdue notice after the payment moves nothing back.
    assert_eq!(overdue["applied"], !received_first);

    // The session tells the agent; the lists add up.
    let (_, notes) = stack.call(Method::GET, &format!("/v1/sessions/{session}/notes"), &t.token, None).await;
    let notes = notes["items"].to_string();
    assert!(notes.contains("Pagamento de R$ 100,00 recebido"), "{notes}");
    assert!(notes.contains("estornado"), "{notes}");
    let (status, list) = stack.call(Method::GET, "/v1/payments?status=received", &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totals"]["count"], 2);
    assert_eq!(list["totals"]["received_cents"], 35_000);
    // The reports count each payment paid once, however often its events came: the two
    // received and the card one confirmed (R$ 900,00; its later refund is not subtracted).
    let day = stack.now().date_naive();
    let path = format!("/v1/reports/summary?from={}&to={}", day.pred_opt().unwrap(), day.succ_opt().unwrap());
    let (_, report) = stack.call(Method::GET, &path, &t.token, None).await;
    assert_eq!(
        report["rows"][0]["payments_received"],
        json!({"count": 3, "amount_cents": 125_000}),
        "{report}"
    );
    let (_, all) = stack.call(Method::GET, "/v1/payments?method=credit_card", &t.token, None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let (_, of_session) =
        stack.call(Method::GET, &format!("/v1/sessions/{session}/payments"), &t.token, None).await;
    assert_eq!(of_session["totals"]["count"], 4);
    let contact = paid["contact_id"].as_str().unwrap();
    let (_, of_contact) =
        stack.call(Method::GET, &format!("/v1/contacts/{contact}/payments"), &t.token, None).await;
    assert_eq!(of_contact["totals"]["count"], 4);
}

crate::on_both_backends!(every_asaas_webhook_twice_shuffled_ends_each_payment_right_with_a_complete_history);

#[tokio::test]
async fn refunding_a_pending_payment_and_cancelling_a_received_one_are_refused_with_409() {
    let stack = Stack::new().await;
    let (t, session) = paying_tenant(&stack, "wamid.pay-409").await;
    let pending = request(&stack, &t, &session, pix(&stack, 5_000)).await;
    let received = request(&stack, &t, &session, pix(&stack, 6_000)).await;
    stack.settle().await;
    let charge =
        stack.asaas.payments().into_iter().find(|c| c["externalReference"] == received["id"]).unwrap();
    stack.asaas.pay(charge["id"].as_str().unwrap());
    for e in stack.asaas.take_events() {
        stack.post_asaas(&t.account, TOKEN, &e).await;
    }
    stack.settle().await;

    let path = format!("/v1/payments/{}/refund", pending["id"].as_str().unwrap());
    let (status, body) = stack.call(Method::POST, &path, &t.token, Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "conflict");
    assert!(body["message"].as_str().unwrap().contains("only a paid payment"), "{body}");
    let path = format!("/v1/payments/{}/cancel", received["id"].as_str().unwrap());
    let (status, body) = stack.call(Method::POST, &path, &t.token, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("this one is received"), "{body}");
    // Neither reached Asaas, and both kept their state and history.
    assert!(
        !stack
            .asaas
            .calls()
            .iter()
            .any(|(route, _, _)| route == "POST /refund" || route == "DELETE /payments")
    );
    assert_eq!(payment(&stack, &t, pending["id"].as_str().unwrap()).await["status"], "pending");
    assert_eq!(payment(&stack, &t, received["id"].as_str().unwrap()).await["status"], "received");

    // A partial refund, then the rest.
    let path = format!("/v1/payments/{}/refund", received["id"].as_str().unwrap());
    let (status, body) =
        stack.call(Method::POST, &path, &t.token, Some(json!({"amount_cents": 7_000}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "more than was paid: {body}");
    let (status, body) =
        stack.call(Method::POST, &path, &t.token, Some(json!({"amount_cents": 1_000}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refunded_cents"], 1_000);
}

#[tokio::test]
async fn a_request_is_checked_before_anything_is_charged() {
    let stack = Stack::new().await;
    let t = stack.tenant("Semapp").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let session = stack.assumed_session(&t, "wamid.pay-rules").await;
    let path = format!("/v1/sessions/{session}/payments");
    let (status, body) = stack.call(Method::POST, &path, &t.token, Some(pix(&stack, 100))).await;
    assert_eq!(status, StatusCode::CONFLICT, "payments off: {body}");
    enable(&stack, &t).await;
    let cases = [
        (json!({"payer_document": "529.982.247-26"}), "CPF or CNPJ"),
        (json!({"amount_cents": 0}), "amount_cents"),
        (json!({"method": "boleto", "installments": 2}), "credit_card payments only"),
        (json!({"method": "credit_card", "installments": 13, "card_brand": "elo"}), "1 to 12"),
        (json!({"due_date": "2020-01-01"}), "due_date"),
    ];
    for (change, words) in cases {
        let mut body = pix(&stack, 100);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = stack.call(Method::POST, &path, &t.token, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(words), "{answer}");
    }
    let card = json!({"amount_cents": 10_000, "method": "credit_card", "installments": 21, "card_brand": "mastercard",
        "description": "x", "due_date": due(&stack), "payer_name": "Ana", "payer_document": "11.222.333/0001-81"});
    request(&stack, &t, &session, card).await;
    assert!(stack.asaas.calls().is_empty(), "nothing reached Asaas before the job");
}
