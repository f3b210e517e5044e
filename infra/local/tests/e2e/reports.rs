//! Reports from counters: first-response and resolution times, wall clock and inside
//! business hours, against a scenario computed by hand on the injected clock.

use crate::routing::customer;
use crate::stack::*;
use axum::http::{Method, StatusCode};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

/// A São Paulo local time in the week of 27 November 2026 (a Friday).
fn sp(day: u32, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn move_to(stack: &Stack, at: chrono::DateTime<Utc>) {
    stack.advance(at - stack.now()).await;
}

/// The pending session of customer `n`, once its message is applied.
async fn session_of(stack: &Stack, token: &str, n: u32) -> String {
    stack.deliver(&customer(n, "oi", stack.now())).await;
    stack.drain().await;
    let (_, pending) = stack.call(Method::GET, "/v1/sessions?tab=pending", token, None).await;
    pending["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn report(stack: &Stack, token: &str, group: &str) -> Value {
    let path = format!("/v1/reports/summary?from=2026-11-27&to=2026-11-30&group_by={group}");
    let (status, body) = stack.call(Method::GET, &path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn first_response_and_resolution_match_a_hand_computed_week_with_business_hours() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let day = json!([{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]);
    let hours = json!({"timezone": "America/Sao_Paulo",
        "days": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}});
    let (status, body) = stack.call(Method::PUT, "/v1/business-hours", &t.token, Some(hours)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let login = || stack.login("admin@acme.example", "a good password");

    // Friday 17:30: customer 1 writes, half an hour before closing.
    move_to(&stack, sp(27, 17, 30)).await;
    let token = login().await;
    let first = session_of(&stack, &token, 1).await;
    // Monday 08:30: the agent takes it and answers (and once more: only the first counts).
    move_to(&stack, sp(30, 8, 30)).await;
    let token = login().await;
    stack.call(Method::POST, &format!("/v1/sessions/{first}/assume"), &token, None).await;
    let t = Tenant { token: token.clone(), ..t };
    assert_eq!(stack.send_text(&t, &first, "Bom dia!").await.0, StatusCode::CREATED);
    stack.advance(chrono::Duration::minutes(10)).await;
    stack.send_text(&t, &first, "Como posso ajudar?").await;
    // Monday 09:00: customer 2 writes; answered at 09:20.
    move_to(&stack, sp(30, 9, 0)).await;
    let second = session_of(&stack, &token, 2).await;
    move_to(&stack, sp(30, 9, 20)).await;
    stack.call(Method::POST, &format!("/v1/sessions/{second}/assume"), &token, None).await;
    stack.send_text(&t, &second, "Olá!").await;
    // Monday 10:00 and 11:00: both completed.
    move_to(&stack, sp(30, 10, 0)).await;
    assert_eq!(stack.complete_for_good(&t, &first).await.0, StatusCode::OK);
    move_to(&stack, sp(30, 11, 0)).await;
    assert_eq!(stack.complete_for_good(&t, &second).await.0, StatusCode::OK);
    stack.settle().await;

    // By hand:
    // first response 1: Fri 17:30 → Mon 08:30 = 63 h = 226,800 s; open: 30 min Friday + 30 min
    //   Monday = 3,600 s.  first response 2: 20 min = 1,200 s, all open.
    // resolution 1: Fri 17:30 → Mon 10:00 = 64 h 30 = 232,200 s; open: 30 min + 2 h = 9,000 s.
    // resolution 2: Mon 09:00 → 11:00 = 7,200 s, all open.
    let all = report(&stack, &token, "all").await;
    let row = &all["rows"][0];
    assert_eq!((row["opened"].as_i64(), row["completed"].as_i64()), (Some(2), Some(2)), "{all}");
    let fr = &row["first_response"];
    assert_eq!(fr["count"], 2, "{all}");
    assert_eq!(fr["average_seconds"], 114_000.0);
    assert_eq!(fr["average_business_seconds"], 2_400.0);
    assert_eq!(fr["buckets"], json!([1, 0, 0, 0, 1]));
    let res = &row["resolution"];
    assert_eq!(res["count"], 2);
    assert_eq!(res["average_seconds"], 119_700.0);
    assert_eq!(res["average_business_seconds"], 8_100.0);
    assert_eq!(res["buckets"], json!([0, 1, 0, 0, 1]));

    // Per local day: opened on Friday and Monday; answered and completed on Monday.
    let days = report(&stack, &token, "day").await;
    let keys: Vec<&str> =
        days["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["2026-11-27", "2026-11-30"]);
    assert_eq!(days["rows"][0]["opened"], 1);
    assert_eq!(days["rows"][0]["first_response"]["count"], 0);
    assert_eq!(days["rows"][1]["completed"], 2);
    // Per agent and per team: the admin answered and completed both, in the default team.
    let agents = report(&stack, &token, "agent").await;
    assert_eq!(agents["rows"][0]["key"], format!("agent:{}", t.admin));
    assert_eq!(agents["rows"][0]["resolution"]["average_business_seconds"], 8_100.0);
    let teams = report(&stack, &token, "team").await;
    assert_eq!(teams["rows"][0]["key"], format!("team:{}", t.default_team));

    // The whole month is read from the month's counters: the same figures.
    let path = "/v1/reports/summary?from=2026-11-01&to=2026-11-30";
    let (_, month) = stack.call(Method::GET, path, &token, None).await;
    assert_eq!(month["rows"], all["rows"], "{month}");
    let path = "/v1/reports/summary?from=2026-11-01&to=2026-12-31&group_by=agent";
    let (_, two) = stack.call(Method::GET, path, &token, None).await;
    assert_eq!(two["rows"], agents["rows"]);

    // A redelivered completion or reply changes nothing.
    let again = atende_core::events::DomainEvent::SessionCompleted {
        account_id: t.account.clone(),
        session_id: second.clone(),
        at: Some(sp(30, 11, 0)),
    };
    stack.ctx.deps.publish(&[again]).await.unwrap();
    assert_eq!(report(&stack, &token, "all").await, all);
}

#[tokio::test]
async fn reply_times_classifications_waiting_now_and_the_csv_export_match_a_hand_computed_day() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (_, reason) = stack
        .call(
            Method::POST,
            "/v1/classification-reasons",
            &t.token,
            Some(json!({"category": "won", "name": "Plano anual", "requires_amount": true})),
        )
        .await;
    let reason = reason["id"].as_str().unwrap().to_owned();
    let login = || stack.login("admin@acme.example", "a good password");

    // Tuesday 1 December, no business hours (always open): wall clock = business time.
    move_to(&stack, sp_dec(1, 10, 0)).await;
    let token = login().await;
    let t = Tenant { token: token.clone(), ..t };
    let session = session_of(&stack, &token, 1).await;
    move_to(&stack, sp_dec(1, 10, 5)).await;
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &token, None).await;
    stack.send_text(&t, &session, "Bom dia!").await; // the first response: not a reply time
    // Two customer messages at 10:10 and 10:12, answered at 10:20: 600 s from the first.
    move_to(&stack, sp_dec(1, 10, 10)).await;
    stack.deliver(&customer(1, "tenho uma dúvida", stack.now())).await;
    stack.drain().await;
    move_to(&stack, sp_dec(1, 10, 12)).await;
    stack.deliver(&customer(1, "sobre o plano", stack.now())).await;
    stack.drain().await;
    move_to(&stack, sp_dec(1, 10, 20)).await;
    let (_, reply) = stack.send_text(&t, &session, "Claro!").await;
    // 11:00 → 13:30: 9,000 s. A second message with no customer message between: nothing.
    move_to(&stack, sp_dec(1, 11, 0)).await;
    stack.deliver(&customer(1, "e o preço?", stack.now())).await;
    stack.drain().await;
    move_to(&stack, sp_dec(1, 13, 30)).await;
    stack.send_text(&t, &session, "R$ 15,00.").await;
    stack.send_text(&t, &session, "Algo mais?").await;
    // Completed as won with the reason and R$ 15,00.
    let classification = json!({"category": "won", "reason_id": reason, "amount_cents": 1500});
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/complete"),
            &token,
            Some(json!({"archive_policy": "new_session", "classification": classification})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 14:00: another customer waits in the default team.
    move_to(&stack, sp_dec(1, 14, 0)).await;
    session_of(&stack, &token, 2).await;
    stack.settle().await;

    let path = "/v1/reports/summary?from=2026-12-01&to=2026-12-01";
    let (status, day) = stack.call(Method::GET, path, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let row = &day["rows"][0];
    assert_eq!(row["first_response"]["count"], 1, "{day}");
    assert_eq!(row["first_response"]["average_seconds"], 300.0);
    let reply_time = &row["reply"];
    assert_eq!(reply_time["count"], 2, "{day}");
    assert_eq!(reply_time["average_seconds"], 4_800.0); // (600 + 9,000) / 2
    assert_eq!(reply_time["average_business_seconds"], 4_800.0);
    assert_eq!(reply_time["buckets"], json!([1, 1, 0, 0, 0]));
    assert_eq!(row["categories"], json!([{"key": "won", "count": 1, "amount_cents": 1500}]));
    assert_eq!(row["reasons"], json!([{"key": reason, "count": 1, "amount_cents": 1500}]));
    assert_eq!(row["opened"], 2);

    // A redelivered reply counts nothing more.
    let again = atende_core::events::DomainEvent::AgentReplied {
        account_id: t.account.clone(),
        session_id: session.clone(),
        agent_id: t.admin.clone(),
        at: sp_dec(1, 10, 20),
        message_id: reply["id"].as_str().map(str::to_owned),
    };
    stack.ctx.deps.publish(&[again]).await.unwrap();
    let (_, after) = stack.call(Method::GET, path, &token, None).await;
    assert_eq!(after, day);

    // Waiting now: one session in the default team since 14:00.
    let (status, waiting) = stack.call(Method::GET, "/v1/reports/waiting", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(waiting["total"], 1);
    assert_eq!(waiting["teams"][0]["team_id"], t.default_team.as_str());
    let since: chrono::DateTime<Utc> = waiting["teams"][0]["oldest_since"].as_str().unwrap().parse().unwrap();
    assert_eq!(since, sp_dec(1, 14, 0));

    // The CSV: asked for, written by the job (twice: a redelivery), fetched by its link.
    let query = json!({"from": "2026-12-01", "to": "2026-12-01", "group_by": "agent"});
    let (status, export) = stack.call(Method::POST, "/v1/reports/exports", &token, Some(query)).await;
    assert_eq!((status, export["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{export}");
    let id = export["id"].as_str().unwrap().to_owned();
    stack.settle().await;
    atende_core::reports::exports::run(&stack.ctx.deps, &t.account, &id).await.unwrap();
    let (status, export) = stack.call(Method::GET, &format!("/v1/reports/exports/{id}"), &token, None).await;
    assert_eq!(
        (status, export["status"].as_str(), export["rows"].as_u64()),
        (StatusCode::OK, Some("ready"), Some(1))
    );
    let key = format!("exports/{}/report-{id}.csv", t.account);
    assert!(export["url"].as_str().unwrap().contains(&key), "{export}");
    let file = stack.ctx.deps.blob.get(&key).await.unwrap().unwrap();
    let text = String::from_utf8(file.bytes).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().trim_start_matches('\u{feff}').split(';').collect();
    let cells: Vec<&str> = lines.next().unwrap().split(';').collect();
    let cell = |name: &str| cells[header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}"))];
    assert_eq!(cell("agent"), format!("agent:{}", t.admin));
    assert_eq!((cell("reply_count"), cell("reply_average_seconds")), ("2", "4800"));
    assert_eq!(cell("first_response_average_seconds"), "300");
    assert_eq!((cell("category_won_count"), cell("category_won_amount_cents")), ("1", "1500"));
    assert_eq!(cell("completed"), "1");
    assert!(lines.next().is_none(), "{text}");
}

/// A São Paulo local time in December 2026.
fn sp_dec(day: u32, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 12, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}
