//! Campaigns and sequences end to end, on the injected clock: each recipient once however
//! the jobs are repeated, skips and failures with their reasons, agents first on the
//! channel, replies attributed, opt-outs, sequences' steps in their allowed hours.

use crate::stack::{
    FIXTURE_PHONE_ID, FIXTURE_WA_ID, Stack, Tenant, Thrice, first_event, status_payload, text_from_customer,
};
use atende_core::conversations::delivery::{BULK_RESERVE_AHEAD, Lane, PACING_WINDOW, Slot, take_slot};
use atende_testkit::fake_graph::Fault;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A channel on the fake Graph API with an approved marketing template `promo`
/// (`Olá {{1}}, use o cupom {{2}}`): (channel, template).
async fn channel_and_template(stack: &Stack, t: &Tenant) -> (String, String) {
    let channel = stack.cloud_channel(t, FIXTURE_PHONE_ID).await;
    let (status, tpl) = stack
        .call(Method::POST, "/v1/templates", &t.token, Some(json!({"channel_id": channel, "name": "promo", "language": "pt_BR", "category": "marketing", "body": "Olá {{1}}, use o cupom {{2}}"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tpl}");
    stack.deliver(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "promo", "message_template_language": "pt_BR"}}]}]})).await;
    stack.settle().await;
    (channel, tpl["id"].as_str().unwrap().to_owned())
}

async fn tag(stack: &Stack, t: &Tenant, name: &str) -> String {
    let (status, tag) = stack.call(Method::POST, "/v1/tags", &t.token, Some(json!({"name": name}))).await;
    assert_eq!(status, StatusCode::CREATED, "{tag}");
    tag["id"].as_str().unwrap().to_owned()
}

async fn contact(stack: &Stack, t: &Tenant, name: &str, phone: &str, tags: &[&String]) -> String {
    let (status, c) = stack
        .call(
            Method::POST,
            "/v1/contacts",
            &t.token,
            Some(json!({"name": name, "phone": phone, "tags": tags})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

/// `n` contacts carrying `tag`, numbers `+55 11 9<8 digits>`: their WhatsApp ids.
async fn tagged_contacts(stack: &Stack, t: &Tenant, tag: &String, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let phone = format!("+55119{:08}", 10_000_000 + i);
        contact(stack, t, &format!("Cliente {i}"), &phone, &[tag]).await;
        out.push(phone.trim_start_matches('+').to_owned());
    }
    out
}

async fn draft(stack: &Stack, t: &Tenant, body: Value) -> String {
    let (status, c) = stack.call(Method::POST, "/v1/campaigns", &t.token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

async fn campaign(stack: &Stack, t: &Tenant, id: &str) -> Value {
    stack.call(Method::GET, &format!("/v1/campaigns/{id}"), &t.token, None).await.1
}

async fn funnel(stack: &Stack, t: &Tenant, id: &str) -> Value {
    let (status, f) = stack.call(Method::GET, &format!("/v1/campaigns/{id}/report"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{f}");
    f
}

/// The template sends the fake Graph API accepted, per number.
fn template_sends(stack: &Stack) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for s in stack.graph.sends() {
        if s.body["type"] == "template" {
            out.entry(s.body["to"].as_str().unwrap().to_owned()).or_default().push(s.wamid.clone());
        }
    }
    out
}

/// A customer's text from `wa_id` (the fixture's payload, another sender).
fn text_from(wa_id: &str, id: &str, text: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut payload = text_from_customer(id, text, at);
    first_event(&mut payload, "messages")["from"] = json!(wa_id);
    first_event(&mut payload, "contacts")["wa_id"] = json!(wa_id);
    payload
}

/// A tenant with a channel, the approved `promo` template, `n` contacts tagged VIP and a
/// draft campaign to them (`{{name}}`, `X`): (tenant, campaign, the contacts' numbers).
async fn vip_campaign(stack: &Stack, name: &str, n: usize) -> (Tenant, String, Vec<String>) {
    let t = stack.tenant("Acme").await;
    let (channel, template) = channel_and_template(stack, &t).await;
    let vip = tag(stack, &t, "VIP").await;
    let numbers = tagged_contacts(stack, &t, &vip, n).await;
    let id = draft(
        stack,
        &t,
        json!({"name": name, "channel_id": channel, "team_id": t.default_team, "template_id": template,
        "parameters": ["{{name}}", "X"], "audience": {"kind": "tags", "tag_ids": [vip]}}),
    )
    .await;
    (t, id, numbers)
}

/// An admin starts the campaign; everything it sets off runs.
async fn start(stack: &Stack, t: &Tenant, id: &str) {
    let (status, body) = stack.call(Method::POST, &format!("/v1/campaigns/{id}/start"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.settle().await;
}

#[tokio::test]
async fn a_campaign_reaches_each_number_once_skips_with_reasons_attributes_replies_and_completes() {
    let stack = Stack::new().await;
    let mut t = stack.tenant("Acme").await;
    let (channel, template) = channel_and_template(&stack, &t).await;
    let (vip, promo) = (tag(&stack, &t, "VIP").await, tag(&stack, &t, "Promo").await);
    let (_, sales) = stack.call(Method::POST, "/v1/teams", &t.token, Some(json!({"name": "Vendas"}))).await;
    let sales = sales["id"].as_str().unwrap().to_owned();
    let ana = contact(&stack, &t, "Ana Souza", "+5511988887777", &[&vip, &promo]).await;
    contact(&stack, &t, "Bruno Lima", "+5511977776666", &[&vip]).await;
    // The fixture's customer writes SAIR: opted out, told once.
    stack.deliver(&text_from_customer("wamid.sair", "Sair", stack.now())).await;
    stack.deliver(&text_from_customer("wamid.sair2", "  PARAR ", stack.now())).await;
    stack.settle().await;
    let told: Vec<_> = stack.graph.sends().into_iter().filter(|s| s.body["type"] == "text").collect();
    assert_eq!(told.len(), 1, "the opt-out is confirmed once");
    assert!(told[0].body["text"]["body"].as_str().unwrap().contains("não receberá mais"));
    let (_, page) =
        stack.call(Method::GET, &format!("/v1/contacts?phone=%2B{FIXTURE_WA_ID}"), &t.token, None).await;
    let carla = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert!(page["items"][0]["marketing_opt_out_at"].is_string(), "{page}");
    stack
        .call(Method::PATCH, &format!("/v1/contacts/{carla}"), &t.token, Some(json!({"tags": [promo]})))
        .await;
    let blocked = contact(&stack, &t, "Davi", "+5511966665555", &[&vip]).await;
    let (status, _) = stack
        .call(Method::PATCH, &format!("/v1/contacts/{blocked}"), &t.token, Some(json!({"status": "blocked"})))
        .await;
    assert_eq!(status, StatusCode::OK);

    let id = draft(&stack, &t, json!({"name": "Black Friday", "channel_id": channel, "team_id": sales, "template_id": template,
        "parameters": ["{{first_name}}", "BF10"], "audience": {"kind": "tags", "tag_ids": [vip, promo], "match": "any"}})).await;
    let (_, estimate) =
        stack.call(Method::GET, &format!("/v1/campaigns/{id}/estimate"), &t.token, None).await;
    assert_eq!(estimate["recipients"], 4, "{estimate}");
    assert_eq!(estimate["category"], "marketing");
    let (_, agent) = stack.user(&t, "agente@acme.example", "agent").await;
    let (status, _) = stack.call(Method::POST, &format!("/v1/campaigns/{id}/start"), &agent, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins start");
    let (status, body) = stack.call(Method::POST, &format!("/v1/campaigns/{id}/start"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.settle().await;

    let sends = template_sends(&stack);
    assert_eq!(sends.len(), 2, "Ana (two tags) and Bruno: {sends:?}");
    assert!(sends.values().all(|w| w.len() == 1), "each number once");
    let ana_send = stack.graph.sends().into_iter().find(|s| s.body["to"] == "5511988887777").unwrap();
    assert_eq!(ana_send.body["template"]["components"][0]["parameters"][0]["text"], "Ana");
    assert_eq!(ana_send.body["template"]["components"][0]["parameters"][1]["text"], "BF10");
    let f = funnel(&stack, &t, &id).await;
    assert_eq!(
        (f["recipients"].as_i64(), f["sent"].as_i64(), f["skipped"].as_i64()),
        (Some(4), Some(2), Some(2)),
        "{f}"
    );
    assert_eq!(f["skipped_by_reason"], json!({"blocked": 1, "opted_out": 1}));
    assert_eq!(campaign(&stack, &t, &id).await["status"], "collecting");

    // Statuses move the recipient; a reply is the campaign's and waits in its team.
    stack.deliver(&status_payload("delivered", &ana_send.wamid)).await;
    stack.deliver(&status_payload("read", &ana_send.wamid)).await;
    stack.deliver(&text_from("5511988887777", "wamid.ana.1", "Quero!", stack.now())).await;
    stack.settle().await;
    let f = funnel(&stack, &t, &id).await;
    assert_eq!(
        (f["delivered"].as_i64(), f["read"].as_i64(), f["replied"].as_i64()),
        (Some(1), Some(1), Some(1)),
        "{f}"
    );
    let (_, replied) = stack
        .call(Method::GET, &format!("/v1/campaigns/{id}/recipients?status=replied"), &t.token, None)
        .await;
    assert_eq!(replied["items"].as_array().unwrap().len(), 1, "{replied}");
    assert_eq!(replied["items"][0]["contact_id"], ana.as_str());
    let session = replied["items"][0]["session_id"].as_str().unwrap().to_owned();
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    assert_eq!(
        (s["team_id"].as_str(), s["campaign_id"].as_str()),
        (Some(sales.as_str()), Some(id.as_str())),
        "{s}"
    );
    let (_, by_name) =
        stack.call(Method::GET, &format!("/v1/campaigns/{id}/recipients?name=bruno"), &t.token, None).await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1, "{by_name}");

    // Five days later: the session nobody took is completed, the campaign too.
    stack.pass(chrono::Duration::days(5) + chrono::Duration::minutes(2)).await;
    t.token = stack.login("admin@acme.example", "a good password").await;
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    assert_eq!(s["status"], "completed", "{s}");
    assert_eq!(campaign(&stack, &t, &id).await["status"], "completed");
    let (status, export) =
        stack.call(Method::POST, &format!("/v1/campaigns/{id}/export"), &t.token, None).await;
    assert_eq!((status, export["rows"].as_i64()), (StatusCode::OK, Some(4)), "{export}");
}

/// Every message sent to the campaigns and outbound queues goes three times (distinct
/// deduplication ids: what redeliveries and retried sends look like).
#[tokio::test]
async fn started_twice_at_once_with_every_fan_out_job_three_times_each_recipient_gets_it_once() {
    let stack = Stack::with_deps(|deps| {
        deps.queue = Arc::new(Thrice::of(deps.queue.clone(), |queue, m| {
            queue == "campaigns" || m.body.contains("\"bulk\"")
        }))
    })
    .await;
    let (t, id, numbers) = vip_campaign(&stack, "Twice", 60).await;
    let path = format!("/v1/campaigns/{id}/start");
    let (a, b) = tokio::join!(
        stack.call(Method::POST, &path, &t.token, None),
        stack.call(Method::POST, &path, &t.token, None)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "one start wins: {a:?} {b:?}");
    stack.settle().await;
    let sends = template_sends(&stack);
    assert_eq!(sends.len(), numbers.len(), "every recipient reached");
    assert!(sends.values().all(|w| w.len() == 1), "none twice: {sends:?}");
    let f = funnel(&stack, &t, &id).await;
    assert_eq!((f["recipients"].as_i64(), f["sent"].as_i64()), (Some(60), Some(60)), "{f}");
    assert_eq!(campaign(&stack, &t, &id).await["status"], "collecting");
}

#[tokio::test]
async fn with_30_percent_provider_faults_every_recipient_is_sent_once_or_failed_with_its_reason() {
    let stack = Stack::new().await;
    let (t, id, numbers) = vip_campaign(&stack, "Faulty", 120).await;
    let faults = vec![
        Fault::Meta { code: 131000, status: 500 },
        Fault::Http(503),
        Fault::Meta { code: 131026, status: 400 },
    ];
    stack.graph.fail_randomly(0.3, faults, 7);
    start(&stack, &t, &id).await;
    let sends = template_sends(&stack);
    assert!(sends.values().all(|w| w.len() == 1), "none twice");
    let f = funnel(&stack, &t, &id).await;
    assert_eq!(f["sent"].as_i64().unwrap() + f["failed"].as_i64().unwrap(), numbers.len() as i64, "{f}");
    assert_eq!(f["sent"].as_i64().unwrap(), sends.len() as i64);
    assert!(f["failed"].as_i64().unwrap() > 0, "some failed for good (131026): {f}");
    let (_, failed) = stack
        .call(Method::GET, &format!("/v1/campaigns/{id}/recipients?status=failed&limit=200"), &t.token, None)
        .await;
    for r in failed["items"].as_array().unwrap() {
        assert!(r["reason"].as_str().is_some_and(|s| s.len() > 10), "a reason: {r}");
    }
    assert!(f["failures"].as_array().unwrap().iter().any(|x| x["code"] == 131026), "{f}");
}

#[tokio::test]
async fn metas_spam_limit_pauses_the_campaign_with_the_reason_and_resume_sends_the_rest_once() {
    let stack = Stack::new().await;
    let (t, id, _) = vip_campaign(&stack, "Spam", 30).await;
    stack.graph.fail_next([Fault::Meta { code: 131048, status: 400 }]);
    start(&stack, &t, &id).await;
    let c = campaign(&stack, &t, &id).await;
    assert_eq!(c["status"], "paused", "{c}");
    assert!(c["status_reason"].as_str().unwrap().contains("131048"), "{c}");
    let before = template_sends(&stack).len();
    assert!(before < 30, "the pause stopped it: {before}");
    let (status, _) = stack.call(Method::POST, &format!("/v1/campaigns/{id}/resume"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK);
    stack.settle().await;
    let sends = template_sends(&stack);
    assert_eq!(sends.len(), 29, "all but the one Meta refused");
    assert!(sends.values().all(|w| w.len() == 1));
    let f = funnel(&stack, &t, &id).await;
    assert_eq!((f["sent"].as_i64(), f["failed"].as_i64()), (Some(29), Some(1)), "{f}");
}

#[tokio::test]
async fn a_quality_flag_from_meta_pauses_the_numbers_running_campaigns_with_the_reason() {
    let stack = Stack::new().await;
    let (t, id, _) = vip_campaign(&stack, "Quality", 30).await;
    let (status, body) = stack.call(Method::POST, &format!("/v1/campaigns/{id}/start"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let flagged = json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{
        "field": "phone_number_quality_update",
        "value": {"display_phone_number": "5511999990000", "event": "FLAGGED", "current_limit": "TIER_1K"}}]}]});
    assert_eq!(stack.deliver(&flagged).await, StatusCode::OK);
    stack.settle().await;
    let c = campaign(&stack, &t, &id).await;
    assert_eq!(c["status"], "paused", "{c}");
    assert!(c["status_reason"].as_str().unwrap().contains("quality"), "{c}");
    assert!(template_sends(&stack).len() < 30, "the pause stopped it");
    // An upgrade changes nothing by itself: an admin resumes.
    let upgraded = json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{
        "field": "phone_number_quality_update", "value": {"display_phone_number": "5511999990000", "event": "UPGRADE", "current_limit": "TIER_10K"}}]}]});
    assert_eq!(stack.deliver(&upgraded).await, StatusCode::OK);
    stack.settle().await;
    assert_eq!(campaign(&stack, &t, &id).await["status"], "paused");
}

#[tokio::test]
async fn a_failure_rate_over_the_threshold_pauses_the_campaign() {
    let stack = Stack::new().await;
    let (t, id, _) = vip_campaign(&stack, "Bad list", 60).await;
    let (status, body) = stack
        .call(
            Method::PUT,
            "/v1/campaign-settings",
            &t.token,
            Some(json!({"failure_threshold_percent": 20, "failure_window": 10,
            "prices": {"marketing": 0.35, "utility": 0.04, "authentication": 0.04}, "currency": "BRL"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.graph.fail_randomly(0.6, vec![Fault::Meta { code: 131026, status: 400 }], 3);
    start(&stack, &t, &id).await;
    let c = campaign(&stack, &t, &id).await;
    assert_eq!(c["status"], "paused", "{c}");
    assert!(c["status_reason"].as_str().unwrap().contains("of the last"), "{c}");
}

#[tokio::test]
async fn agent_messages_take_the_channel_before_a_running_campaign() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let deps = &stack.ctx.deps;
    let rate = 80;
    let spacing = chrono::Duration::from_std(PACING_WINDOW / rate).unwrap();
    let now = stack.now();
    // The campaign takes every slot it may: only those free right now.
    let mut bulk = 0;
    while let Slot::At(_) = take_slot(deps, &t.account, &channel, rate, Lane::Bulk).await.unwrap() {
        bulk += 1;
    }
    assert!(bulk >= 1);
    let Slot::At(agent) = take_slot(deps, &t.account, &channel, rate, Lane::Interactive).await.unwrap()
    else {
        panic!("an agent always gets a slot within a second");
    };
    assert!(
        agent - now <= chrono::Duration::from_std(BULK_RESERVE_AHEAD).unwrap() + spacing,
        "the agent waits at most the campaign's short horizon: {:?}",
        agent - now
    );
    // Agents may fill the next second; the campaign then gets nothing until they leave some.
    while let Slot::At(_) = take_slot(deps, &t.account, &channel, rate, Lane::Interactive).await.unwrap() {}
    assert!(matches!(take_slot(deps, &t.account, &channel, rate, Lane::Bulk).await.unwrap(), Slot::Busy(_)));
}

async fn sequence(stack: &Stack, t: &Tenant, body: Value) -> String {
    let (status, s) = stack.call(Method::POST, "/v1/sequences", &t.token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    s["id"].as_str().unwrap().to_owned()
}

async fn enrol(stack: &Stack, t: &Tenant, seq: &str, contacts: &[&String]) -> Value {
    let (status, r) = stack
        .call(
            Method::POST,
            &format!("/v1/sequences/{seq}/enrolments"),
            &t.token,
            Some(json!({"contact_ids": contacts})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r
}

#[tokio::test]
async fn sequence_steps_wait_for_their_allowed_hours_stop_on_reply_and_never_enrol_twice() {
    use chrono::{Datelike, TimeZone, Timelike};
    let stack = Stack::new().await;
    let mut t = stack.tenant("Acme").await;
    let (channel, template) = channel_and_template(&stack, &t).await;
    // To the coming Friday, 19:00 in São Paulo.
    let zone = chrono_tz::America::Sao_Paulo;
    let local = stack.now().with_timezone(&zone);
    let days = (4 + 7 - local.weekday().num_days_from_monday()) % 7 + 7;
    let friday = zone
        .with_ymd_and_hms(local.year(), local.month(), local.day(), 19, 0, 0)
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::days(i64::from(days));
    stack.advance(friday - stack.now()).await;
    t.token = stack.login("admin@acme.example", "a good password").await;
    let ana = contact(&stack, &t, "Ana", "+5511988887777", &[]).await;
    let bruno = contact(&stack, &t, "Bruno", "+5511977776666", &[]).await;
    let step = |delay: u32, window: Value| json!({"channel_id": channel, "template_id": template, "parameters": ["{{first_name}}", "S"], "delay_minutes": delay, "window": window});
    let office = json!({"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"});
    let seq = sequence(
        &stack,
        &t,
        json!({"name": "Boas-vindas", "steps": [step(0, Value::Null), step(60, office)]}),
    )
    .await;

    // Enrolled twice at once: one enrolment.
    let path = format!("/v1/sequences/{seq}/enrolments");
    let body = json!({"contact_ids": [ana, bruno]});
    let (a, b) = tokio::join!(
        stack.call(Method::POST, &path, &t.token, Some(body.clone())),
        stack.call(Method::POST, &path, &t.token, Some(body))
    );
    let enrolled = a.1["enrolled"].as_array().unwrap().len() + b.1["enrolled"].as_array().unwrap().len();
    assert_eq!(enrolled, 2, "each contact once: {a:?} {b:?}");
    assert_eq!(enrol(&stack, &t, &seq, &[&ana]).await["not_enrolled"][0]["reason"], "already_enrolled");
    stack.settle().await;
    assert_eq!(template_sends(&stack).len(), 2, "the first step at once");

    // Bruno answers: his enrolment stops (stop on reply is the default).
    stack.deliver(&text_from("5511977776666", "wamid.bruno.1", "Oi!", stack.now())).await;
    stack.settle().await;

    // The second step is due Friday 20:00, outside its hours: it waits for Monday 09:00.
    stack.pass(chrono::Duration::hours(2)).await;
    assert_eq!(template_sends(&stack).len(), 2, "not on Friday night");
    let monday_0859 =
        friday + chrono::Duration::days(3) - chrono::Duration::hours(10) - chrono::Duration::minutes(1);
    stack.pass(monday_0859 - stack.now()).await;
    t.token = stack.login("admin@acme.example", "a good password").await;
    assert_eq!(template_sends(&stack).len(), 2, "not before 09:00");
    stack.pass(chrono::Duration::minutes(2)).await;
    let sends = template_sends(&stack);
    assert_eq!(sends.len(), 2, "{sends:?}");
    assert_eq!(sends["5511988887777"].len(), 2, "Ana got the second step on Monday");
    assert_eq!(sends["5511977776666"].len(), 1, "Bruno replied: no second step");
    let at = stack.now().with_timezone(&zone);
    assert_eq!((at.weekday(), at.hour()), (chrono::Weekday::Mon, 9));

    let (_, list) = stack.call(Method::GET, &path, &t.token, None).await;
    let status_of = |c: &str| {
        list["items"].as_array().unwrap().iter().find(|e| e["contact_id"] == c).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!((status_of(&ana), status_of(&bruno)), ("completed".into(), "stopped".into()));
    // Without a restart rule, a contact who went through it is not enrolled again.
    assert_eq!(enrol(&stack, &t, &seq, &[&ana]).await["not_enrolled"][0]["reason"], "enrolled_before");
    stack
        .call(
            Method::PATCH,
            &format!("/v1/sequences/{seq}"),
            &t.token,
            Some(json!({"restart": {"max_count": 2, "interval_minutes": 0}})),
        )
        .await;
    assert_eq!(enrol(&stack, &t, &seq, &[&ana]).await["enrolled"], json!([ana]));
}
