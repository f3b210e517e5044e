//! CSAT: the survey goes out once after completion, and the answer (typed, inside or
//! outside the window) lands on its session without opening a new one.

use crate::stack::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

fn survey_sends(stack: &Stack, marker: &str) -> usize {
    stack.graph.sends().iter().filter(|r| r.body.to_string().contains(marker)).count()
}

#[tokio::test]
async fn a_typed_five_and_an_answer_outside_the_window_land_on_their_sessions_and_the_survey_goes_once() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (_, tpl) = stack
        .call(Method::POST, "/v1/templates", &t.token, Some(json!({"channel_id": channel, "name": "avaliacao", "language": "pt_BR", "category": "utility", "body": "Como foi o atendimento? Responda de 1 a 5."})))
        .await;
    stack.deliver(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "avaliacao", "message_template_language": "pt_BR"}}]}]})).await;
    stack.settle().await;
    let settings = json!({"enabled": true, "scale": "1-5", "question": "Como você avalia o atendimento?", "template_id": tpl["id"]});
    let (status, body) = stack
        .call(Method::PUT, &format!("/v1/teams/{}/csat", t.default_team), &t.token, Some(settings))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Inside the window: the question as text, once however often completion is retried.
    let first = stack.assumed_session(&t, "wamid.oi").await;
    let (status, _) = stack.complete_for_good(&t, &first).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.complete_for_good(&t, &first).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let again = atende_core::events::DomainEvent::SessionCompleted {
        account_id: t.account.clone(),
        session_id: first.clone(),
        at: None,
    };
    stack.ctx.deps.publish(std::slice::from_ref(&again)).await.unwrap();
    stack.ctx.deps.publish(&[again]).await.unwrap();
    stack.settle().await;
    assert_eq!(survey_sends(&stack, "Como você avalia o atendimento?"), 1, "one survey");

    // A typed "5" (sent twice: a redelivery) is the answer, not a new session.
    let five = text_from_customer("wamid.five", "5", stack.now());
    stack.deliver(&five).await;
    stack.deliver(&five).await;
    stack.settle().await;
    assert!(stack.sessions(&t.token, "pending").await.is_empty(), "the answer opens nothing");
    let (_, survey) = stack.call(Method::GET, &format!("/v1/sessions/{first}/csat"), &t.token, None).await;
    assert_eq!(
        (survey["status"].as_str(), survey["score"].as_u64(), survey["scale"].as_str()),
        (Some("answered"), Some(5), Some("1-5"))
    );
    assert_eq!(
        (survey["agent_id"].as_str(), survey["team_id"].as_str()),
        (Some(t.admin.as_str()), Some(t.default_team.as_str()))
    );

    // Next conversation, completed a day after the customer's last message: the template
    // goes instead; an invalid answer gets one polite retry; then "4".
    stack.deliver(&text_from_customer("wamid.help", "preciso de ajuda", stack.now())).await;
    stack.settle().await;
    let second = stack.sessions(&t.token, "pending").await[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    stack.call(Method::POST, &format!("/v1/sessions/{second}/assume"), &t.token, None).await;
    stack.advance(chrono::Duration::hours(25)).await;
    // The admin's session token expired meanwhile.
    let t = Tenant { token: stack.login("admin@acme.example", "a good password").await, ..t };
    let (status, _) = stack.complete_for_good(&t, &second).await;
    assert_eq!(status, StatusCode::OK);
    stack.settle().await;
    assert_eq!(survey_sends(&stack, "avaliacao"), 1, "outside the window the template goes");
    let (_, survey) = stack.call(Method::GET, &format!("/v1/sessions/{second}/csat"), &t.token, None).await;
    assert_eq!(survey["sent_as"], "template");
    stack.deliver(&text_from_customer("wamid.what", "como assim?", stack.now())).await;
    stack.settle().await;
    assert_eq!(survey_sends(&stack, "Desculpe, não entendi"), 1, "one polite retry");
    assert!(stack.sessions(&t.token, "pending").await.is_empty());
    stack.deliver(&text_from_customer("wamid.four", " 4 ", stack.now())).await;
    stack.settle().await;
    assert!(stack.sessions(&t.token, "pending").await.is_empty(), "a late answer opens nothing either");
    let (_, survey) = stack.call(Method::GET, &format!("/v1/sessions/{second}/csat"), &t.token, None).await;
    assert_eq!((survey["status"].as_str(), survey["score"].as_u64()), (Some("answered"), Some(4)));

    // After the answer, the customer's messages are ordinary again.
    stack.deliver(&text_from_customer("wamid.new", "outra coisa", stack.now())).await;
    stack.settle().await;
    assert_eq!(stack.sessions(&t.token, "pending").await.len(), 1);

    let (status, results) = stack.call(Method::GET, "/v1/csat/results", &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let scale = &results["scales"]["1-5"];
    assert_eq!(
        (scale["overall"]["answers"].as_u64(), scale["overall"]["average"].as_f64()),
        (Some(2), Some(4.5))
    );
    assert_eq!(scale["by_agent"][&t.admin]["answers"], 2);
    assert_eq!(scale["by_team"][&t.default_team]["distribution"], json!({"4": 1, "5": 1}));
    // The reports' counters agree, per agent too (answers counted on their local day).
    let (from, to) = (stack.now() - chrono::Duration::days(3), stack.now() + chrono::Duration::days(1));
    let path =
        format!("/v1/reports/summary?from={}&to={}&group_by=agent", from.date_naive(), to.date_naive());
    let (status, report) = stack.call(Method::GET, &path, &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"][0]["key"], format!("agent:{}", t.admin));
    assert_eq!(report["rows"][0]["csat"], json!([{"scale_max": 5, "count": 2, "average": 4.5}]), "{report}");
}
