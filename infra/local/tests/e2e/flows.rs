//! Chatbot flows end to end: triggers, questions with timeouts on the injected clock, an
//! integrator's endpoint, conditions, loops stopped at the cap, people taking over, and
//! every input redelivered three times.

use crate::stack::{FIXTURE_PHONE_ID, Stack, Tenant, Thrice, first_event, text_from_customer};
use atende_providers::outbound_http::GuardedHttp;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

/// A local integrator: `GET /orders/{id}` answers the order's status (`123` was shipped).
async fn integrator() -> SocketAddr {
    use axum::extract::Path;
    let app = axum::Router::new().route(
        "/orders/{id}",
        axum::routing::get(|Path(id): Path<String>| async move {
            let status = if id == "123" { "shipped" } else { "processing" };
            axum::Json(json!({"order": {"id": id, "status": status}}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The order flow: greet, ask the order number (numbers only, one retry, 5 minutes),
/// look it up at the integrator, branch on its status.
fn order_flow(integrator: SocketAddr) -> Value {
    json!({"start": "hi", "nodes": [
        {"id": "hi", "type": "message", "text": "Olá {{first_name}}! Sou o assistente.", "next": "ask"},
        {"id": "ask", "type": "question", "text": "Qual o número do pedido?", "variable": "pedido", "expect": "number",
         "invalid_text": "Digite só os números do pedido.", "retries": 1, "timeout_seconds": 300,
         "answered": "lookup", "invalid": "human", "timeout": "late"},
        {"id": "lookup", "type": "http", "method": "GET", "url": format!("http://{integrator}/orders/{{{{pedido}}}}"),
         "map": {"status": "/order/status"}, "success": "check", "failure": "down"},
        {"id": "check", "type": "condition", "rules": [
            {"when": {"test": "text", "value": "{{status}}", "op": "equals", "to": "shipped"}, "next": "shipped"}],
         "default": "other"},
        {"id": "shipped", "type": "message", "text": "Seu pedido {{pedido}} foi enviado.", "next": "tag"},
        {"id": "tag", "type": "action", "action": "set_session_metadata", "key": "pedido", "value": "{{pedido}}"},
        {"id": "other", "type": "message", "text": "Seu pedido {{pedido}} está: {{status}}."},
        {"id": "down", "type": "message", "text": "Não consegui consultar agora."},
        {"id": "late", "type": "message", "text": "Não recebi resposta; um atendente vai falar com você."},
        {"id": "human", "type": "message", "text": "Vou chamar um atendente."}
    ]})
}

/// Creates, publishes and sets `definition` as the channel's business-hours flow.
async fn install(stack: &Stack, t: &Tenant, channel: &str, definition: Value) -> String {
    let (status, flow) = stack
        .call(Method::POST, "/v1/flows", &t.token, Some(json!({"name": "Pedidos", "definition": definition})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    let id = flow["id"].as_str().unwrap().to_owned();
    let (status, v) = stack.call(Method::POST, &format!("/v1/flows/{id}/publish"), &t.token, None).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let path = format!("/v1/channels/{channel}/flow-triggers");
    let (status, set) =
        stack.call(Method::PUT, &path, &t.token, Some(json!({"business_hours_flow": id}))).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    id
}

/// A customer (`wa`) writes `text` (message id `id`); the stack settles.
async fn says(stack: &Stack, wa: &str, id: &str, text: &str) {
    let mut payload = text_from_customer(id, text, stack.now());
    first_event(&mut payload, "messages")["from"] = json!(wa);
    payload["entry"][0]["changes"][0]["value"]["contacts"] =
        json!([{"profile": {"name": "Test Name"}, "wa_id": wa}]);
    assert_eq!(stack.deliver(&payload).await, StatusCode::OK);
    stack.settle().await;
}

/// What the bot sent `wa`, in order.
fn told(stack: &Stack, wa: &str) -> Vec<String> {
    stack
        .graph
        .sends()
        .iter()
        .filter(|r| r.body["to"] == wa)
        .map(|r| {
            r.body["text"]["body"]
                .as_str()
                .or(r.body["interactive"]["body"]["text"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The contact's open session, wherever it is (a queue, an agent's).
async fn session_of(stack: &Stack, t: &Tenant, wa: &str) -> Value {
    let (_, contact) = stack.call(Method::GET, &format!("/v1/contacts?phone=%2B{wa}"), &t.token, None).await;
    let contact = contact["items"][0]["id"].clone();
    for tab in ["pending", "mine", "others"] {
        let (_, page) = stack.call(Method::GET, &format!("/v1/sessions?tab={tab}"), &t.token, None).await;
        if let Some(s) = page["items"].as_array().unwrap().iter().find(|s| s["contact_id"] == contact) {
            return s.clone();
        }
    }
    Value::Null
}

async fn runs(stack: &Stack, t: &Tenant, session: &str) -> Vec<Value> {
    let (status, list) =
        stack.call(Method::GET, &format!("/v1/sessions/{session}/flow-runs"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

async fn with_integrator(wrap_queue: bool) -> (Stack, SocketAddr) {
    let addr = integrator().await;
    let stack = Stack::with_deps(|deps| {
        deps.http = Arc::new(GuardedHttp::new(vec![addr]));
        if wrap_queue {
            deps.queue =
                Arc::new(Thrice::of(deps.queue.clone(), |queue, _| queue == "inbound" || queue == "flows"));
        }
    })
    .await;
    (stack, addr)
}

const ANA: &str = "5511990001111";
const BIA: &str = "5511990002222";

#[tokio::test]
async fn a_question_with_a_timeout_an_integrator_call_and_a_condition_run_end_to_end() {
    let (stack, addr) = with_integrator(false).await;
    let t = stack.tenant("Loja").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    install(&stack, &t, &channel, order_flow(addr)).await;

    // Answered path, after one invalid answer and its retry.
    says(&stack, ANA, "wamid.a1", "oi").await;
    assert_eq!(
        told(&stack, ANA),
        ["Olá Test! Sou o assistente.", "Qual o número do pedido?"].map(String::from)
    );
    let session = session_of(&stack, &t, ANA).await;
    assert!(session["id"].is_string(), "the session waits in its team's queue while the bot talks");
    let session = session["id"].as_str().unwrap().to_owned();
    says(&stack, ANA, "wamid.a2", "não sei").await;
    says(&stack, ANA, "wamid.a3", "123").await;
    assert_eq!(
        told(&stack, ANA)[2..],
        ["Digite só os números do pedido.", "Qual o número do pedido?", "Seu pedido 123 foi enviado."]
            .map(String::from)
    );
    let run = &runs(&stack, &t, &session).await[0];
    assert_eq!((run["active"].as_bool(), &run["ended"]["kind"]), (Some(false), &json!("finished")), "{run}");
    assert_eq!(
        (&run["variables"]["pedido"], &run["variables"]["status"]),
        (&json!("123"), &json!("shipped"))
    );
    assert_eq!(run["trigger"]["kind"], "business_hours");
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    assert_eq!(s["metadata"]["pedido"], "123", "the action set the session's metadata");
    let (_, page) =
        stack.call(Method::GET, &format!("/v1/sessions/{session}/messages"), &t.token, None).await;
    let bot: Vec<&Value> =
        page["items"].as_array().unwrap().iter().filter(|m| m["author"] == "bot").collect();
    assert_eq!(bot.len(), 5, "the transcript holds every bot message");
    assert!(
        bot.iter().all(|m| m["flow"]["node"].is_string() && m["flow"]["run_id"] == run["id"]),
        "each names its node"
    );

    // Timeout path: nobody answers for 5 minutes.
    says(&stack, BIA, "wamid.b1", "oi").await;
    assert_eq!(told(&stack, BIA).len(), 2);
    stack.pass(chrono::Duration::minutes(4)).await;
    assert_eq!(told(&stack, BIA).len(), 2, "not yet");
    stack.pass(chrono::Duration::seconds(61)).await;
    assert_eq!(told(&stack, BIA)[2], "Não recebi resposta; um atendente vai falar com você.");
    // An answer after the timeout is the team's: the bot says nothing more.
    says(&stack, BIA, "wamid.b2", "123").await;
    assert_eq!(told(&stack, BIA).len(), 3);
}

#[tokio::test]
async fn every_input_delivered_three_times_sends_each_bot_message_once_and_skips_none() {
    let (stack, addr) = with_integrator(true).await;
    let t = stack.tenant("Loja").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    install(&stack, &t, &channel, order_flow(addr)).await;
    for (id, text) in [("wamid.r1", "oi"), ("wamid.r2", "abc"), ("wamid.r3", "77")] {
        says(&stack, ANA, id, text).await;
        // The provider redelivers the same webhook too.
        says(&stack, ANA, id, text).await;
    }
    assert_eq!(
        told(&stack, ANA),
        [
            "Olá Test! Sou o assistente.",
            "Qual o número do pedido?",
            "Digite só os números do pedido.",
            "Qual o número do pedido?",
            "Seu pedido 77 está: processing."
        ]
        .map(String::from)
    );
}

#[tokio::test]
async fn a_flow_that_loops_forever_is_stopped_at_the_cap_and_the_session_goes_to_the_team() {
    let (stack, _) = with_integrator(false).await;
    let t = stack.tenant("Loja").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let looping = json!({"start": "a", "nodes": [
        {"id": "a", "type": "message", "text": "Um momento...", "next": "b"},
        {"id": "b", "type": "condition", "rules": [], "default": "c"},
        {"id": "c", "type": "action", "action": "set_variable", "name": "n", "value": "{{n}}1", "next": "b"}
    ]});
    install(&stack, &t, &channel, looping).await;
    says(&stack, ANA, "wamid.l1", "oi").await;
    assert_eq!(told(&stack, ANA), ["Um momento..."].map(String::from), "the loop never sends more");
    let session = session_of(&stack, &t, ANA).await;
    let id = session["id"].as_str().unwrap();
    let run = &runs(&stack, &t, id).await[0];
    assert_eq!(run["ended"]["kind"], "stopped", "{run}");
    assert!(run["ended"]["reason"].as_str().unwrap().contains("loop"), "{run}");
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{id}"), &t.token, None).await;
    assert!(s["bot_run"].is_null(), "the bot let go: {s}");
    assert_eq!(
        (&s["status"], &s["team_id"]),
        (&json!("pending"), &json!(t.default_team)),
        "in the team's queue: {s}"
    );
}

#[tokio::test]
async fn an_agent_assuming_the_session_stops_the_flow_and_no_bot_message_follows() {
    let (stack, addr) = with_integrator(false).await;
    let t = stack.tenant("Loja").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    install(&stack, &t, &channel, order_flow(addr)).await;
    says(&stack, ANA, "wamid.s1", "oi").await;
    assert_eq!(told(&stack, ANA).len(), 2);
    let session = session_of(&stack, &t, ANA).await["id"].as_str().unwrap().to_owned();
    let (status, _) =
        stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK);
    stack.settle().await;
    says(&stack, ANA, "wamid.s2", "123").await;
    stack.pass(chrono::Duration::minutes(10)).await;
    assert_eq!(told(&stack, ANA).len(), 2, "neither the answer nor the timeout made the bot speak");
    let run = &runs(&stack, &t, &session).await[0];
    assert_eq!((run["active"].as_bool(), &run["ended"]["kind"]), (Some(false), &json!("stopped")), "{run}");
}

#[tokio::test]
async fn the_http_node_refuses_internal_addresses_and_takes_its_failure_exit() {
    // No allowance: the integrator on loopback is as internal as the metadata address.
    let addr = integrator().await;
    let stack = Stack::new().await;
    let t = stack.tenant("Loja").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let probe = |url: String| {
        json!({"start": "h", "nodes": [
            {"id": "h", "type": "http", "url": url, "success": "ok", "failure": "ko"},
            {"id": "ok", "type": "message", "text": "alcançou"},
            {"id": "ko", "type": "message", "text": "recusado"}
        ]})
    };
    install(&stack, &t, &channel, probe(format!("http://{addr}/orders/123"))).await;
    says(&stack, ANA, "wamid.x1", "oi").await;
    assert_eq!(told(&stack, ANA), ["recusado"].map(String::from));
    let flow = install(&stack, &t, &channel, probe("http://169.254.169.254/latest/meta-data/".into())).await;
    says(&stack, BIA, "wamid.x2", "oi").await;
    assert_eq!(told(&stack, BIA), ["recusado"].map(String::from));
    let (status, v) = stack.call(Method::GET, &format!("/v1/flows/{flow}/versions/1"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn a_draft_with_problems_is_refused_with_each_named_and_the_schema_is_served() {
    let stack = Stack::new().await;
    let t = stack.tenant("Loja").await;
    let broken = json!({"start": "q", "nodes": [
        {"id": "q", "type": "question", "text": "?", "timeout_seconds": 5, "answered": "nowhere",
         "buttons": [{"id": "a", "title": "Um título longo demais para botão"}]}
    ]});
    let (status, flow) = stack
        .call(Method::POST, "/v1/flows", &t.token, Some(json!({"name": "X", "definition": broken})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "a draft may be incomplete: {flow}");
    let id = flow["id"].as_str().unwrap();
    let (status, err) = stack.call(Method::POST, &format!("/v1/flows/{id}/publish"), &t.token, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = err["message"].as_str().unwrap();
    for problem in ["goes to nowhere", "timeout_seconds", "button title"] {
        assert!(message.contains(problem), "{problem} missing from {message}");
    }
    let (status, bad) = stack
        .call(Method::POST, "/v1/flows", &t.token, Some(json!({"name": "Y", "definition": {"nodes": "x"}})))
        .await;
    assert_eq!(
        (status, &bad["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("validation_failed")),
        "{bad}"
    );
    let (status, schema) = stack.call(Method::GET, "/v1/flows/schema", &t.token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(schema.to_string().contains("timeout_seconds"), "{schema}");
}

/// Creates and (with `publish`) publishes a flow; its id and test code.
async fn flow(stack: &Stack, t: &Tenant, definition: Value, publish: bool) -> (String, String) {
    let (status, flow) = stack
        .call(Method::POST, "/v1/flows", &t.token, Some(json!({"name": "F", "definition": definition})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    let id = flow["id"].as_str().unwrap().to_owned();
    if publish {
        let (status, v) = stack.call(Method::POST, &format!("/v1/flows/{id}/publish"), &t.token, None).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
    }
    (id, flow["test_code"].as_str().unwrap().to_owned())
}

fn saying(text: &str) -> Value {
    json!({"start": "m", "nodes": [{"id": "m", "type": "message", "text": text, "next": "e"}, {"id": "e", "type": "end", "handoff": "quiet"}]})
}

#[tokio::test]
async fn keywords_win_test_codes_run_drafts_and_a_completion_flow_asks_without_reopening() {
    let stack = Stack::new().await;
    let t = stack.tenant("Loja").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (welcome, _) = flow(&stack, &t, saying("Bem-vindo!"), true).await;
    let (menu, _) = flow(&stack, &t, saying("Menu principal"), true).await;
    let rating = json!({"start": "q", "nodes": [
        {"id": "q", "type": "question", "text": "De 1 a 5, como foi o atendimento?", "expect": "number",
         "timeout_seconds": 3600, "answered": "thanks"},
        {"id": "thanks", "type": "message", "text": "Obrigado pela nota {{answer}}!", "next": "e"},
        {"id": "e", "type": "end", "handoff": "quiet"}
    ]});
    let (after, _) = flow(&stack, &t, rating, true).await;
    let (_, draft_code) = flow(&stack, &t, saying("Rascunho em teste"), false).await;
    let triggers = json!({"business_hours_flow": welcome, "on_completion_flow": after,
        "keywords": [{"text": "menu", "matching": "contains", "flow_id": menu}]});
    let (status, set) = stack
        .call(Method::PUT, &format!("/v1/channels/{channel}/flow-triggers"), &t.token, Some(triggers))
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");

    says(&stack, ANA, "wamid.k1", "Quero ver o MENU, por favor").await;
    assert_eq!(
        told(&stack, ANA),
        ["Menu principal"].map(String::from),
        "the keyword wins over the hours flow"
    );
    says(&stack, BIA, "wamid.k2", "oi").await;
    assert_eq!(told(&stack, BIA), ["Bem-vindo!"].map(String::from));
    const CAIO: &str = "5511990003333";
    says(&stack, CAIO, "wamid.k3", &format!("#{draft_code}")).await;
    assert_eq!(told(&stack, CAIO), ["Rascunho em teste"].map(String::from), "the draft runs for the tester");

    // Bia's session is completed: the completion flow asks on it, and her answer goes to it.
    let session = session_of(&stack, &t, BIA).await["id"].as_str().unwrap().to_owned();
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    let (status, done) = stack.complete_for_good(&t, &session).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    stack.settle().await;
    assert_eq!(told(&stack, BIA)[1], "De 1 a 5, como foi o atendimento?");
    says(&stack, BIA, "wamid.k4", "5").await;
    says(&stack, BIA, "wamid.k4", "5").await; // redelivered
    assert_eq!(told(&stack, BIA)[2..], ["Obrigado pela nota 5!"].map(String::from));
    assert!(session_of(&stack, &t, BIA).await.is_null(), "the answer opened no session");
    let run = &runs(&stack, &t, &session).await[0];
    assert_eq!(
        (&run["trigger"]["kind"], &run["variables"]["answer"]),
        (&json!("completion"), &json!("5")),
        "{run}"
    );
}
