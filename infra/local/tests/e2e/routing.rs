//! Routing and time, on the injected clock: distribution, overflow, wallets, keep-alive,
//! business hours, scheduled messages, visibility of completed sessions.

use crate::stack::*;
use axum::http::{Method, StatusCode};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// A text from customer number `n` (each `n` is a different person).
pub(crate) fn customer(n: u32, text: &str, at: chrono::DateTime<Utc>) -> Value {
    let wa = format!("55119{:08}", 10_000_000 + n);
    let mut payload = text_from_customer(&format!("wamid.c{n}.{}", at.timestamp_millis()), text, at);
    first_event(&mut payload, "messages")["from"] = json!(wa);
    payload["entry"][0]["changes"][0]["value"]["contacts"] =
        json!([{"profile": {"name": format!("Cliente {n}")}, "wa_id": wa}]);
    payload
}

pub(crate) struct Team {
    pub id: String,
    pub members: HashMap<&'static str, (String, String)>,
}

/// A default team with distribution: ana, bia (unavailable), caio (supervisor only), duda.
pub(crate) async fn distributing_team(stack: &Stack, t: &Tenant, overflow: Option<Value>) -> Team {
    let (_, team) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Suporte"}))).await;
    let team = id(&team);
    let mut members = HashMap::new();
    for (name, roles) in [
        ("ana", json!({"member": true})),
        ("bia", json!({"member": true})),
        ("caio", json!({"member": false, "supervisor": true})),
        ("duda", json!({"member": true})),
    ] {
        let (user, token) = stack.user(t, &format!("{name}@acme.example"), "agent").await;
        stack.advance(Duration::milliseconds(10)).await;
        let (s, b) =
            stack.call(Method::PUT, &format!("/v1/teams/{team}/members/{user}"), &t.token, Some(roles)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        members.insert(name, (user, token));
    }
    stack
        .call(
            Method::PATCH,
            &format!("/v1/users/{}", members["bia"].0),
            &t.token,
            Some(json!({"available": false})),
        )
        .await;
    let (s, b) = stack
        .call(
            Method::PATCH,
            &format!("/v1/teams/{team}"),
            &t.token,
            Some(json!({"is_default": true, "distribution": {"enabled": true, "overflow": overflow}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    Team { id: team, members }
}

pub(crate) async fn designated(stack: &Stack, t: &Tenant, session: &str) -> Option<String> {
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    s["designated_to"].as_str().map(str::to_owned)
}

pub(crate) async fn newest_pending(stack: &Stack, t: &Tenant) -> String {
    let pending = stack.sessions(&t.token, "pending").await;
    id(pending.iter().max_by_key(|s| s["created_at"].as_str().unwrap().to_owned()).unwrap())
}

async fn round_robin_skips_the_unavailable_and_supervisors_and_follows_membership_order(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = distributing_team(&stack, &t, None).await;
    let name_of = |user: &str| team.members.iter().find(|(_, (u, _))| u == user).map(|(n, _)| *n).unwrap();
    let mut sequence = Vec::new();
    for n in 0..4 {
        stack.deliver(&customer(n, "oi", stack.now())).await;
        stack.settle().await;
        let session = newest_pending(&stack, &t).await;
        sequence.push(name_of(&designated(&stack, &t, &session).await.unwrap()));
    }
    assert_eq!(sequence, vec!["ana", "duda", "ana", "duda"]);
    stack
        .call(
            Method::PATCH,
            &format!("/v1/users/{}", team.members["bia"].0),
            &t.token,
            Some(json!({"available": true})),
        )
        .await;
    for n in 4..7 {
        stack.deliver(&customer(n, "oi", stack.now())).await;
        stack.settle().await;
        let session = newest_pending(&stack, &t).await;
        sequence.push(name_of(&designated(&stack, &t, &session).await.unwrap()));
    }
    assert_eq!(&sequence[4..], &["ana", "bia", "duda"], "back in the rotation, in membership order");
    // Only the designated member (and supervisors, admins) see an offered session.
    let offered = newest_pending(&stack, &t).await;
    assert!(stack.sessions(&team.members["ana"].1, "pending").await.iter().all(|s| id(s) != offered));
    assert!(stack.sessions(&team.members["duda"].1, "pending").await.iter().any(|s| id(s) == offered));
    assert!(stack.sessions(&team.members["caio"].1, "pending").await.iter().any(|s| id(s) == offered));
    let (status, _) = stack
        .call(Method::POST, &format!("/v1/sessions/{offered}/assume"), &team.members["ana"].1, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn fifty_sessions_routed_concurrently_are_spread_evenly(stack: Stack) {
    let stack = std::sync::Arc::new(stack);
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = distributing_team(&stack, &t, None).await;
    stack
        .call(
            Method::PATCH,
            &format!("/v1/users/{}", team.members["bia"].0),
            &t.token,
            Some(json!({"available": true})),
        )
        .await;
    let mut posts = Vec::new();
    for n in 0..50 {
        let stack = stack.clone();
        posts.push(tokio::spawn(async move { stack.deliver(&customer(n, "oi", stack.now())).await }));
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), StatusCode::OK);
    }
    // Apply the messages, then route with 8 consumers at once.
    let inbound = atende_inbound::function();
    while inbound.drain_once(&stack.ctx).await.unwrap() > 0 {}
    let mut routers = Vec::new();
    for _ in 0..8 {
        let (transfer, ctx) = (atende_transfer::function(), stack.ctx.clone());
        routers.push(tokio::spawn(async move { while transfer.drain_once(&ctx).await.unwrap() > 0 {} }));
    }
    for r in routers {
        r.await.unwrap();
    }
    stack.settle().await;
    let mut per_member: HashMap<String, usize> = HashMap::new();
    let (_, page) = stack.call(Method::GET, "/v1/sessions?tab=pending&limit=100", &t.token, None).await;
    let sessions = page["items"].as_array().unwrap();
    assert_eq!(sessions.len(), 50);
    for s in sessions {
        *per_member.entry(s["designated_to"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let counts: Vec<usize> = per_member.values().copied().collect();
    assert_eq!(counts.len(), 3, "ana, bia and duda take turns: {per_member:?}");
    assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() < 2, "{per_member:?}");
    assert!(sessions.iter().all(|s| s["team_id"] == team.id.as_str()), "all in the distributing team");
}

async fn overflow_hands_off_after_handoff_minutes_and_releases_to_the_team_after_max_minutes(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = distributing_team(&stack, &t, Some(json!({"handoff_minutes": 5, "max_minutes": 12}))).await;
    let (ana, duda) = (team.members["ana"].0.clone(), team.members["duda"].0.clone());
    stack.deliver(&customer(1, "oi", stack.now())).await;
    stack.settle().await;
    let session = newest_pending(&stack, &t).await;
    assert_eq!(designated(&stack, &t, &session).await.as_deref(), Some(ana.as_str()));
    stack.pass(Duration::minutes(4)).await;
    assert_eq!(
        designated(&stack, &t, &session).await.as_deref(),
        Some(ana.as_str()),
        "not before handoff_minutes"
    );

    stack.pass(Duration::minutes(1)).await;
    assert_eq!(
        designated(&stack, &t, &session).await.as_deref(),
        Some(duda.as_str()),
        "handed off after 5 minutes"
    );
    stack.pass(Duration::minutes(5)).await;

    assert_eq!(designated(&stack, &t, &session).await.as_deref(), Some(ana.as_str()));
    stack.pass(Duration::minutes(2)).await;
    let t2 = Tenant { token: stack.login("admin@acme.example", "a good password").await, ..t };
    assert_eq!(designated(&stack, &t2, &session).await, None, "released to the whole team after 12 minutes");
    assert!(stack.sessions(&team.members["duda"].1, "pending").await.iter().any(|s| id(s) == session));
}

async fn an_assumed_session_stops_its_overflow(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = distributing_team(&stack, &t, Some(json!({"handoff_minutes": 5, "max_minutes": 12}))).await;
    stack.deliver(&customer(1, "oi", stack.now())).await;
    stack.settle().await;
    let session = newest_pending(&stack, &t).await;
    let (status, _) = stack
        .call(Method::POST, &format!("/v1/sessions/{session}/assume"), &team.members["ana"].1, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    stack.pass(Duration::minutes(6)).await;
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    assert_eq!(
        (s["status"].as_str(), s["owner_id"].as_str()),
        (Some("in_progress"), Some(team.members["ana"].0.as_str())),
        "the stale timer changed nothing"
    );
}

async fn a_wallet_contact_goes_straight_to_its_agent_bypassing_distribution(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let team = distributing_team(&stack, &t, None).await;
    let (_, sales) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Vendas"}))).await;
    let sales = id(&sales);
    let (vip_agent, vip_token) = stack.user(&t, "vip@acme.example", "agent").await;
    stack
        .call(
            Method::PUT,
            &format!("/v1/teams/{sales}/members/{vip_agent}"),
            &t.token,
            Some(json!({"member": true})),
        )
        .await;
    let (status, wallet) = stack
        .call(
            Method::POST,
            "/v1/wallets",
            &t.token,
            Some(json!({"name": "VIP", "kind": "single_agent", "team_id": sales, "agents": [vip_agent]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wallet}");
    let (_, contact) =
        stack.call(Method::POST, "/v1/contacts", &t.token, Some(json!({"phone": "+5511910000007"}))).await;
    stack
        .call(Method::PUT, &format!("/v1/wallets/{}/contacts/{}", id(&wallet), id(&contact)), &t.token, None)
        .await;

    stack.deliver(&customer(7, "sou VIP", stack.now())).await;
    stack.settle().await;
    let mine = stack.sessions(&vip_token, "mine").await;
    assert_eq!(mine.len(), 1, "straight to the wallet's agent");
    assert_eq!(mine[0]["team_id"], sales.as_str());
    assert!(mine[0]["designated_to"].is_null());
    // The rotation was not consumed: the next ordinary customer goes to the first in turn.
    stack.deliver(&customer(8, "oi", stack.now())).await;
    stack.settle().await;
    let session = newest_pending(&stack, &t).await;
    assert_eq!(designated(&stack, &t, &session).await.as_deref(), Some(team.members["ana"].0.as_str()));
}

pub(crate) fn system_texts(stack: &Stack) -> Vec<String> {
    stack.graph.sends().iter().filter_map(|r| r.body["text"]["body"].as_str().map(str::to_owned)).collect()
}

async fn keep_alive_nudges_then_closes_restarts_on_a_reply_and_does_nothing_until_enabled(stack: Stack) {
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let config = json!({"idle_minutes": 30, "inactivity_message": "Ainda está aí?", "close_minutes": 10, "closing_message": "Encerrando, até logo!", "enabled": false});
    let (status, _) = stack
        .call(Method::PUT, &format!("/v1/channels/{channel}/keep-alive"), &t.token, Some(config.clone()))
        .await;
    assert_eq!(status, StatusCode::OK);
    stack.deliver(&customer(1, "oi", stack.now())).await;
    stack.settle().await;
    stack.pass(Duration::minutes(45)).await;
    assert!(system_texts(&stack).is_empty(), "saved but not enabled: nothing");

    let mut enabled = config;
    enabled["enabled"] = json!(true);
    stack.call(Method::PUT, &format!("/v1/channels/{channel}/keep-alive"), &t.token, Some(enabled)).await;
    stack.deliver(&customer(1, "ainda preciso de ajuda", stack.now())).await;
    stack.settle().await;
    stack.pass(Duration::minutes(29)).await;
    assert!(system_texts(&stack).is_empty());
    stack.pass(Duration::minutes(1)).await;
    assert_eq!(system_texts(&stack), vec!["Ainda está aí?"]);
    // The customer answers: the count restarts, no closing.
    stack.deliver(&customer(1, "sim!", stack.now())).await;
    stack.settle().await;
    stack.pass(Duration::minutes(15)).await;
    assert_eq!(system_texts(&stack), vec!["Ainda está aí?"], "no closing after a reply");
    stack.pass(Duration::minutes(15)).await;
    assert_eq!(system_texts(&stack), vec!["Ainda está aí?", "Ainda está aí?"]);
    stack.pass(Duration::minutes(10)).await;
    assert_eq!(system_texts(&stack).last().unwrap(), "Encerrando, até logo!");
    let token = stack.login("admin@acme.example", "a good password").await;
    let completed = stack.sessions(&token, "completed").await;
    assert_eq!(completed.len(), 1, "completed after the closing message");
}

async fn the_out_of_hours_reply_goes_once_per_session_per_closed_period_and_never_inside_hours(stack: Stack) {
    let sp = |d: u32, m: u32, h: u32, min: u32| {
        chrono_tz::America::Sao_Paulo.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap().with_timezone(&Utc)
    };
    stack.clock.set(sp(23, 11, 7, 0));
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let day = json!([{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]);
    let hours = json!({"timezone": "America/Sao_Paulo", "days": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
        "closed_dates": ["2026-12-25"], "auto_reply": {"enabled": true, "text": "Estamos fora do horário; respondemos a partir das 8h."}});
    let (status, body) = stack.call(Method::PUT, "/v1/business-hours", &t.token, Some(hours)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, st) = stack.call(Method::GET, "/v1/business-hours/status", &t.token, None).await;
    assert_eq!(
        (st["open"].as_bool(), st["next_change"].as_str()),
        (Some(false), Some(sp(23, 11, 8, 0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true).as_str()))
    );
    let replies =
        |stack: &Stack| system_texts(stack).iter().filter(|t| t.starts_with("Estamos fora")).count();
    let mut token = t.token.clone();
    for (when, expected) in [
        (sp(23, 11, 12, 10), 1), // lunch
        (sp(23, 11, 12, 40), 1), // same closed period
        (sp(23, 11, 13, 30), 1), // open: never inside hours
        (sp(23, 11, 18, 30), 2), // evening: a new closed period
        (sp(25, 12, 10, 0), 3),  // Christmas, a Friday: closed
        (sp(28, 12, 9, 0), 3),   // open again
    ] {
        stack.clock.set(when);
        token = stack.login("admin@acme.example", "a good password").await;
        stack.deliver(&customer(1, "olá", when)).await;
        stack.settle().await;
        assert_eq!(replies(&stack), expected, "at {when}");
    }
    assert_eq!(stack.sessions(&token, "pending").await.len(), 1, "all in one session");
}

async fn a_scheduled_message_goes_out_once_at_its_time_and_a_cancelled_one_never(stack: Stack) {
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (_, tpl) = stack
        .call(Method::POST, "/v1/templates", &t.token, Some(json!({"channel_id": channel, "name": "lembrete", "language": "pt_BR", "category": "utility", "body": "Sua consulta é {{1}}"})))
        .await;
    stack.deliver(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "lembrete", "message_template_language": "pt_BR"}}]}]})).await;
    stack.settle().await;
    let (_, contact) =
        stack.call(Method::POST, "/v1/contacts", &t.token, Some(json!({"phone": "+5511910000001"}))).await;
    let schedule = |minutes: i64| {
        json!({"contact_id": id(&contact), "channel_id": channel, "team_id": t.default_team, "template_id": id(&tpl),
               "parameters": ["amanhã às 10h"], "due_at": (stack.now() + Duration::minutes(minutes)).to_rfc3339()})
    };
    let (status, keep) =
        stack.call(Method::POST, "/v1/scheduled-messages", &t.token, Some(schedule(10))).await;
    assert_eq!(status, StatusCode::CREATED, "{keep}");
    let (_, drop) = stack.call(Method::POST, "/v1/scheduled-messages", &t.token, Some(schedule(10))).await;
    let (status, cancelled) = stack
        .call(Method::POST, &format!("/v1/scheduled-messages/{}/cancel", id(&drop)), &t.token, None)
        .await;
    assert_eq!((status, cancelled["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    let (status, _) = stack
        .call(Method::POST, &format!("/v1/scheduled-messages/{}/cancel", id(&drop)), &t.token, None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "cancel only while scheduled");

    stack.pass(Duration::minutes(9)).await;
    assert!(stack.graph.sends().is_empty(), "not before its time");
    stack.advance(Duration::minutes(1)).await;
    // The scheduler fires twice at once, and a duplicate job arrives as well.
    let (a, b) = tokio::join!(stack.tick(), stack.tick());
    assert_eq!(a + b, 2, "each of the two timers (one stale) fires once, though two schedulers ran");
    let duplicate = atende_core::jobs::RoutingJob::Scheduled {
        account_id: t.account.clone(),
        id: id(&keep),
        due_ms: chrono::DateTime::parse_from_rfc3339(keep["due_at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis(),
    };
    stack
        .ctx
        .deps
        .queue
        .send("routing", atende_core::ports::OutgoingMessage::new(serde_json::to_string(&duplicate).unwrap()))
        .await
        .unwrap();
    stack.settle().await;
    let sends = stack.graph.sends();
    let (_, state) =
        stack.call(Method::GET, &format!("/v1/scheduled-messages/{}", id(&keep)), &t.token, None).await;
    assert_eq!(sends.len(), 1, "exactly once: {state}");
    assert_eq!(sends[0].body["template"]["name"], "lembrete");
    let (_, sent) =
        stack.call(Method::GET, &format!("/v1/scheduled-messages/{}", id(&keep)), &t.token, None).await;
    assert_eq!(sent["status"], "sent");
    let (_, never) =
        stack.call(Method::GET, &format!("/v1/scheduled-messages/{}", id(&drop)), &t.token, None).await;
    assert_eq!(never["status"], "cancelled");
    let (_, listed) = stack.call(Method::GET, "/v1/scheduled-messages?status=sent", &t.token, None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let (status, again) = stack
        .call(
            Method::POST,
            &format!("/v1/scheduled-messages/{}/reschedule", id(&drop)),
            &t.token,
            Some(json!({"due_at": (stack.now() + Duration::minutes(5)).to_rfc3339()})),
        )
        .await;
    assert_eq!(
        (status, again["status"].as_str()),
        (StatusCode::OK, Some("scheduled")),
        "a cancelled message can be rescheduled"
    );
}

#[tokio::test]
async fn completed_sessions_are_visible_per_the_teams_rule() {
    for (rule, expected) in [
        ("all", [true, true, true, false, true, true]),
        ("team", [true, true, false, false, true, true]),
        ("owner", [true, false, false, false, true, true]),
    ] {
        let stack = Stack::new().await;
        let t = stack.tenant("Acme").await;
        stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
        let (_, team) = stack
            .call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Suporte", "visibility": rule})))
            .await;
        let team = id(&team);
        stack
            .call(Method::PATCH, &format!("/v1/teams/{team}"), &t.token, Some(json!({"is_default": true})))
            .await;
        let (_, other_team) =
            stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Outro"}))).await;
        let mut tokens = Vec::new();
        for (name, profile, team_id, roles) in [
            ("handler", "agent", &team, json!({"member": true})),
            ("member", "agent", &team, json!({"member": true})),
            ("other", "agent", &id(&other_team), json!({"member": true})),
            ("restricted", "restricted_agent", &team, json!({"member": true})),
            ("supervisor", "agent", &team, json!({"member": false, "supervisor": true})),
        ] {
            let (user, token) = stack.user(&t, &format!("{name}@acme.example"), profile).await;
            stack
                .call(Method::PUT, &format!("/v1/teams/{team_id}/members/{user}"), &t.token, Some(roles))
                .await;
            tokens.push(token);
        }
        tokens.push(t.token.clone());
        stack.deliver(&customer(1, "oi", stack.now())).await;
        stack.settle().await;
        let session = newest_pending(&stack, &t).await;
        stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &tokens[0], None).await;
        let (status, _) = stack
            .call(Method::POST, &format!("/v1/sessions/{session}/complete"), &tokens[0], Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::OK);
        let mut seen = [false; 6];
        for (i, token) in tokens.iter().enumerate() {
            let listed = stack.sessions(token, "completed").await.iter().any(|s| id(s) == session);
            let (status, _) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), token, None).await;
            assert_eq!(listed, status == StatusCode::OK, "listing and reading agree ({rule}, user {i})");
            seen[i] = listed;
        }
        assert_eq!(seen, expected, "rule {rule}: handler, member, other team, restricted, supervisor, admin");
    }
}

async fn deleting_a_team_or_a_user_handles_their_open_sessions_and_admins_bulk_complete(stack: Stack) {
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (_, sales) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Vendas"}))).await;
    let sales = id(&sales);
    let (ana, ana_token) = stack.user(&t, "ana@acme.example", "agent").await;
    let (bia, bia_token) = stack.user(&t, "bia@acme.example", "agent").await;
    for user in [&ana, &bia] {
        stack
            .call(
                Method::PUT,
                &format!("/v1/teams/{sales}/members/{user}"),
                &t.token,
                Some(json!({"member": true})),
            )
            .await;
    }
    for n in 0..3 {
        stack.deliver(&customer(n, "oi", stack.now())).await;
    }
    stack.settle().await;
    let pending: Vec<String> = stack.sessions(&t.token, "pending").await.iter().map(id).collect();
    for s in &pending {
        stack
            .call(
                Method::POST,
                &format!("/v1/sessions/{s}/transfer"),
                &t.token,
                Some(json!({"team_id": sales})),
            )
            .await;
    }
    stack.call(Method::POST, &format!("/v1/sessions/{}/assume", pending[0]), &ana_token, None).await;
    stack.call(Method::POST, &format!("/v1/sessions/{}/assume", pending[1]), &ana_token, None).await;

    let (status, body) = stack.call(Method::DELETE, &format!("/v1/users/{ana}"), &t.token, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "the admin must say what happens to ana's sessions: {body}");
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/v1/users/{ana}?open_sessions=transfer&to_user={bia}"),
            &t.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(stack.sessions(&bia_token, "mine").await.len(), 2, "ana's sessions are bia's now");

    let (status, _) = stack.call(Method::DELETE, &format!("/v1/teams/{sales}"), &t.token, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "open sessions: complete or move");
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/v1/teams/{sales}?open_sessions=move&to_team={}", t.default_team),
            &t.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let pending = stack.sessions(&t.token, "pending").await;
    assert_eq!(pending.len(), 3, "moved back to a queue");
    assert!(pending.iter().all(|s| s["team_id"] == t.default_team.as_str()));

    let (status, done) = stack
        .call(Method::POST, "/v1/sessions/bulk-complete", &t.token, Some(json!({"status": "pending"})))
        .await;
    assert_eq!((status, done["completed"].as_u64()), (StatusCode::OK, Some(3)));
    assert!(stack.sessions(&t.token, "pending").await.is_empty());
    assert_eq!(
        stack.call(Method::POST, "/v1/sessions/bulk-complete", &bia_token, Some(json!({}))).await.0,
        StatusCode::FORBIDDEN
    );
}

crate::on_both_backends!(
    round_robin_skips_the_unavailable_and_supervisors_and_follows_membership_order,
    fifty_sessions_routed_concurrently_are_spread_evenly,
    overflow_hands_off_after_handoff_minutes_and_releases_to_the_team_after_max_minutes,
    an_assumed_session_stops_its_overflow,
    a_wallet_contact_goes_straight_to_its_agent_bypassing_distribution,
    keep_alive_nudges_then_closes_restarts_on_a_reply_and_does_nothing_until_enabled,
    the_out_of_hours_reply_goes_once_per_session_per_closed_period_and_never_inside_hours,
    a_scheduled_message_goes_out_once_at_its_time_and_a_cancelled_one_never,
    deleting_a_team_or_a_user_handles_their_open_sessions_and_admins_bulk_complete,
);
