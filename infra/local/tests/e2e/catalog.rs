//! Templates at Meta end to end: created with a header, footer and buttons (the header's
//! example uploaded first), approved by webhook and sent with their values; edited,
//! deleted and synced back from the business account's catalogue; category and quality
//! webhooks applied; Meta's refusals and silences answered plainly.

use crate::stack::{FIXTURE_PHONE_ID, FIXTURE_WA_ID, Stack, Tenant};
use atende_testkit::fake_graph::Fault;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const WABA: &str = "1234567890987654321";

fn template_webhook(field: &str, time: i64, value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": time,
        "changes": [{"field": field, "value": value}]}]})
}

async fn template(stack: &Stack, t: &Tenant, id: &str) -> Value {
    let (status, body) = stack.call(Method::GET, &format!("/v1/templates/{id}"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn by_name(stack: &Stack, t: &Tenant, name: &str) -> Value {
    let (_, list) = stack.call(Method::GET, "/v1/templates", &t.token, None).await;
    list["items"].as_array().unwrap().iter().find(|x| x["name"] == name).cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_template_with_a_media_header_footer_and_buttons_goes_to_meta_and_is_sent_with_its_values() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let image = stack.upload(&t, b"\x89PNG fake image", "image/png").await;
    let definition = json!({"channel_id": channel, "name": "pedido_enviado", "language": "pt_BR", "category": "utility",
    "header": {"format": "image", "blob_key": image},
    "body": "Olá {{1}}, seu pedido {{2}} saiu para entrega.",
    "footer": "Loja Acme",
    "buttons": [
        {"type": "quick_reply", "text": "Falar com a loja"},
        {"type": "url", "text": "Rastrear", "url": "https://acme.example/rastreio/{{1}}"},
        {"type": "phone_number", "text": "Ligar", "phone_number": "+5511987654321"},
        {"type": "copy_code", "example": "CUPOM10"}
    ]});

    // Without the app's id there is nowhere to upload the header's example.
    let (status, refused) =
        stack.call(Method::POST, "/v1/templates", &t.token, Some(definition.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("app_id"), "{refused}");
    let (status, _) = stack
        .call(Method::PATCH, &format!("/v1/channels/{channel}"), &t.token, Some(json!({"app_id": "4455"})))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, created) = stack.call(Method::POST, "/v1/templates", &t.token, Some(definition)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "pending");
    let meta_id = created["meta_id"].as_str().expect("Meta's id is kept").to_owned();
    let requests = stack.graph.catalog_requests();
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths[0], "POST /4455/uploads", "{paths:?}");
    assert!(paths[1].starts_with("POST /upload:"), "{paths:?}");
    assert_eq!(paths[2], format!("POST /{WABA}/message_templates"));
    let handle = format!("4::{}", paths[1].trim_start_matches("POST /upload:"));
    assert_eq!(
        requests[2].1,
        json!({"name": "pedido_enviado", "language": "pt_BR", "category": "UTILITY", "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}},
            {"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu para entrega.", "example": {"body_text": [["exemplo_1", "exemplo_2"]]}},
            {"type": "FOOTER", "text": "Loja Acme"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Falar com a loja"},
                {"type": "URL", "text": "Rastrear", "url": "https://acme.example/rastreio/{{1}}", "example": ["https://acme.example/rastreio/exemplo"]},
                {"type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+5511987654321"},
                {"type": "COPY_CODE", "example": "CUPOM10"}]}]})
    );

    let start = json!({"phone": "+972 98 765 4321", "channel_id": channel, "team_id": t.default_team,
        "template_id": created["id"], "parameters": {"body": ["Ana", "A-77"], "buttons": ["A-77", "VOLTA15"]}});
    let (status, _) = stack.call(Method::POST, "/v1/sessions", &t.token, Some(start.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not approved yet");

    let approved = template_webhook(
        "message_template_status_update",
        10,
        json!({"event": "APPROVED", "message_template_id": meta_id, "message_template_name": "pedido_enviado", "message_template_language": "pt_BR", "reason": "NONE"}),
    );
    assert_eq!(stack.deliver(&approved).await, StatusCode::OK);
    stack.settle().await;
    assert_eq!(template(&stack, &t, created["id"].as_str().unwrap()).await["status"], "approved");

    let (status, missing) = stack
        .call(
            Method::POST,
            "/v1/sessions",
            &t.token,
            Some(json!({"phone": "+972 98 765 4321", "channel_id": channel,
            "team_id": t.default_team, "template_id": created["id"], "parameters": ["Ana", "A-77"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the buttons' values are missing: {missing}");
    let (status, started) = stack.call(Method::POST, "/v1/sessions", &t.token, Some(start)).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["message"]["text"], "Olá Ana, seu pedido A-77 saiu para entrega.");
    stack.settle().await;
    let sends = stack.graph.sends();
    assert_eq!(sends.len(), 1);
    let sent = &sends[0].body;
    assert_eq!(sent["to"], FIXTURE_WA_ID);
    let components = sent["template"]["components"].as_array().unwrap();
    assert_eq!(components[0]["type"], "header");
    let link = components[0]["parameters"][0]["image"]["link"].as_str().unwrap();
    assert!(link.starts_with("http"), "the header file goes by a link: {link}");
    assert_eq!(
        components[1],
        json!({"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-77"}]})
    );
    assert_eq!(
        components[2],
        json!({"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-77"}]})
    );
    assert_eq!(
        components[3],
        json!({"type": "button", "sub_type": "copy_code", "index": "3", "parameters": [{"type": "coupon_code", "coupon_code": "VOLTA15"}]})
    );
}

#[tokio::test]
async fn the_catalogue_syncs_back_from_meta_edits_deletes_and_follows_category_and_quality_webhooks() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, promo) = stack
        .call(Method::POST, "/v1/templates", &t.token, Some(json!({"channel_id": channel, "name": "promo", "language": "pt_BR", "category": "marketing", "body": "Oi {{nome}}!"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{promo}");
    assert_eq!(stack.graph.catalog_requests()[0].1["parameter_format"], "NAMED");
    // Made in Meta's manager, unknown here: one with buttons, and 120 more (two pages).
    stack.graph.add_template(WABA, json!({"name": "aviso_pagamento", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
        "quality_score": {"score": "GREEN"},
        "components": [{"type": "HEADER", "format": "TEXT", "text": "Pagamento"},
                       {"type": "BODY", "text": "Sua fatura {{1}} vence amanhã."},
                       {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Pagar", "url": "https://acme.example/pagar/{{1}}"}]}]}));
    for i in 0..120 {
        stack.graph.add_template(WABA, json!({"name": format!("lote_{i}"), "language": "pt_BR", "category": "MARKETING", "status": "APPROVED",
            "components": [{"type": "BODY", "text": "Oferta {{1}}"}]}));
    }
    // ... and `promo` was deleted there behind our back.
    stack.graph.drop_template("promo");

    let sync = format!("/v1/channels/{channel}/templates/sync");
    let (status, report) = stack.call(Method::POST, &sync, &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report, json!({"created": 121, "updated": 0, "unchanged": 0, "deleted": 1}));
    let listed = stack.graph.catalog_requests().iter().filter(|(p, _)| p.starts_with("GET ")).count();
    assert_eq!(listed, 2, "two pages of 100");
    let aviso = by_name(&stack, &t, "aviso_pagamento").await;
    assert_eq!(aviso["status"], "approved");
    assert_eq!(aviso["quality"], "green");
    assert_eq!(aviso["header"], json!({"format": "text", "text": "Pagamento"}));
    assert_eq!(
        aviso["buttons"],
        json!([{"type": "url", "text": "Pagar", "url": "https://acme.example/pagar/{{1}}"}])
    );
    let promo_now = template(&stack, &t, promo["id"].as_str().unwrap()).await;
    assert_eq!(promo_now["status"], "deleted");
    assert_eq!(promo_now["status_reason"], "no longer at Meta");
    let (_, again) = stack.call(Method::POST, &sync, &t.token, None).await;
    assert_eq!(
        again,
        json!({"created": 0, "updated": 0, "unchanged": 121, "deleted": 0}),
        "a second sync changes nothing"
    );

    // Meta moves it to marketing: announced first (nothing changes), then done.
    let id = aviso["id"].as_str().unwrap();
    let announced = template_webhook(
        "template_category_update",
        20,
        json!({"message_template_id": aviso["meta_id"],
        "message_template_name": "aviso_pagamento", "message_template_language": "pt_BR", "correct_category": "MARKETING",
        "new_category": "UTILITY", "category_update_timestamp": 30}),
    );
    let done = template_webhook(
        "template_category_update",
        30,
        json!({"message_template_id": aviso["meta_id"],
        "message_template_name": "aviso_pagamento", "message_template_language": "pt_BR", "previous_category": "UTILITY", "new_category": "MARKETING"}),
    );
    let quality = template_webhook(
        "message_template_quality_update",
        40,
        json!({"previous_quality_score": "GREEN", "new_quality_score": "RED",
        "message_template_id": aviso["meta_id"], "message_template_name": "aviso_pagamento", "message_template_language": "pt_BR"}),
    );
    assert_eq!(stack.deliver(&announced).await, StatusCode::OK);
    stack.settle().await;
    assert_eq!(template(&stack, &t, id).await["category"], "utility", "an announcement changes nothing");
    for payload in [&done, &quality, &done] {
        assert_eq!(stack.deliver(payload).await, StatusCode::OK);
    }
    stack.settle().await;
    let aviso = template(&stack, &t, id).await;
    assert_eq!(
        (aviso["category"].as_str(), aviso["previous_category"].as_str()),
        (Some("marketing"), Some("utility"))
    );
    assert_eq!(aviso["quality"], "red");

    // An edit goes back to review at Meta.
    let (status, edited) = stack
        .call(
            Method::PUT,
            &format!("/v1/templates/{id}"),
            &t.token,
            Some(json!({"body": "Sua fatura {{1}} vence hoje.", "footer": "Acme",
            "buttons": [{"type": "url", "text": "Pagar", "url": "https://acme.example/pagar/{{1}}"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "pending");
    let (path, body) = stack.graph.catalog_requests().last().cloned().unwrap();
    assert_eq!(path, format!("POST /{}", aviso["meta_id"].as_str().unwrap()));
    assert_eq!(body["components"][0]["text"], "Sua fatura {{1}} vence hoje.");
    assert_eq!(body["components"][1], json!({"type": "FOOTER", "text": "Acme"}));
    let (status, _) = stack
        .call(Method::PUT, &format!("/v1/templates/{id}"), &t.token, Some(json!({"body": "De novo"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "Meta does not edit a template under review");

    // Deleted at Meta (by name and id) and here.
    let (status, _) = stack.call(Method::DELETE, &format!("/v1/templates/{id}"), &t.token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (path, query) = stack.graph.catalog_requests().last().cloned().unwrap();
    assert_eq!(path, format!("DELETE /{WABA}/message_templates"));
    assert_eq!(query, json!({"name": "aviso_pagamento", "hsm_id": aviso["meta_id"]}));
    assert!(stack.graph.templates(WABA).iter().all(|x| x["name"] != "aviso_pagamento"));
    let (status, _) = stack.call(Method::GET, &format!("/v1/templates/{id}"), &t.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metas_refusal_is_a_422_in_its_words_its_silence_a_502_and_neither_leaves_a_template_behind() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let definition = json!({"channel_id": channel, "name": "oferta", "language": "pt_BR", "category": "marketing", "body": "Oferta {{1}}"});
    stack.graph.fail_catalog_next([Fault::Meta { code: 100, status: 400 }, Fault::Http(503)]);
    let (status, refused) =
        stack.call(Method::POST, "/v1/templates", &t.token, Some(definition.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("Meta refused it (error 100)"), "{refused}");
    let (status, silent) =
        stack.call(Method::POST, "/v1/templates", &t.token, Some(definition.clone())).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{silent}");
    assert_eq!(silent["error"], "provider_unavailable");
    let (_, list) = stack.call(Method::GET, "/v1/templates", &t.token, None).await;
    assert_eq!(list["items"], json!([]), "nothing half-made stays");
    let (status, created) = stack.call(Method::POST, "/v1/templates", &t.token, Some(definition)).await;
    assert_eq!(status, StatusCode::CREATED, "the name is free again: {created}");

    // Rules Meta would reject days later are a 422 now, before any call.
    let before = stack.graph.catalog_requests().len();
    for (bad, why) in [
        (json!({"body": "Oi {{1}} e {{3}}"}), "gap"),
        (json!({"body": "Oi", "footer": "Rodapé {{1}}"}), "footer variable"),
        (
            json!({"body": "Oi", "buttons": [{"type": "url", "text": "Ver", "url": "https://x.example/{{1}}/fim"}]}),
            "variable mid-URL",
        ),
        (
            json!({"body": "Oi", "buttons": [{"type": "copy_code", "example": "A"}, {"type": "copy_code", "example": "B"}]}),
            "two copy codes",
        ),
        (json!({"body": "Oi", "header": {"format": "text", "text": "{{1}} {{2}}"}}), "two header variables"),
        (
            json!({"body": "Oi", "header": {"format": "image", "blob_key": "uploads/another-account/x"}}),
            "someone else's file",
        ),
    ] {
        let mut body = bad.clone();
        body["channel_id"] = json!(channel);
        body["name"] = json!("regra");
        body["language"] = json!("pt_BR");
        body["category"] = json!("utility");
        let (status, answer) = stack.call(Method::POST, "/v1/templates", &t.token, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {answer}");
    }
    assert_eq!(stack.graph.catalog_requests().len(), before, "nothing reached Meta");
}
