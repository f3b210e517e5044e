//! The `atende` binary as a user runs it: serve, create an account, log in, restart.

use serde_json::{Value, json};

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_atende");

pub(crate) struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start(data_dir: &std::path::Path, port: u16) -> Server {
    let child = Command::new(BIN)
        .env("ATENDE_ADDR", format!("127.0.0.1:{port}"))
        .env("ATENDE_DATA_DIR", data_dir)
        .env("ATENDE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the atende binary starts");
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    wait_healthy(&server).await;
    server
}

/// The binary on `port` and `data_dir`, Meta played by `graph_url`, as the crash tests
/// start it (and start it again after killing it).
fn spawn_with_meta(data_dir: &std::path::Path, port: u16, graph_url: &str) -> Child {
    spawn_with(data_dir, port, graph_url, &[])
}

/// [`spawn_with_meta`], with more settings (other providers' URLs, their timeouts).
pub(crate) fn spawn_with(
    data_dir: &std::path::Path,
    port: u16,
    graph_url: &str,
    settings: &[(&str, String)],
) -> Child {
    Command::new(BIN)
        .env("ATENDE_ADDR", format!("127.0.0.1:{port}"))
        .env("ATENDE_DATA_DIR", data_dir)
        .env("ATENDE_LOG", std::env::var("ATENDE_TEST_SERVER_LOG").unwrap_or_else(|_| "error".into()))
        .env("ATENDE_META_APP_SECRET", crate::stack::APP_SECRET)
        .env("ATENDE_GRAPH_API_URL", graph_url)
        // The crash tests hammer one account: the request limits are not what they test.
        .env("ATENDE_RATE_ACCOUNT_BURST", "1000000")
        .env("ATENDE_RATE_TOKEN_BURST", "1000000")
        .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(if std::env::var_os("ATENDE_TEST_SERVER_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .unwrap()
}

/// An `atende` process with an account, Meta at `graph_url`, for the kill -9 tests: its
/// data directory and port, so `spawn_with_meta` restarts the same installation.
async fn killable(graph_url: &str) -> (tempfile::TempDir, u16, Server, String) {
    killable_with(graph_url, &[]).await
}

/// [`killable`], with more settings (see [`spawn_with`]).
pub(crate) async fn killable_with(
    graph_url: &str,
    settings: &[(&str, String)],
) -> (tempfile::TempDir, u16, Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = spawn_with(dir.path(), port, graph_url, settings);
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    wait_healthy(&server).await;
    create_account(dir.path(), "ana@acme.example");
    let token = login(&server.base, "ana@acme.example").await;
    (dir, port, server, token)
}

/// Waits for a process to listen (not a timer of ours): bounded, and it fails loudly.
pub(crate) async fn wait_healthy(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/health", server.base)).await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "atende did not answer /health");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn create_account(data_dir: &std::path::Path, email: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "admin",
            "create-account",
            "--name",
            "Acme",
            "--admin-email",
            email,
            "--admin-password",
            "correct horse",
        ])
        .env("ATENDE_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub(crate) async fn login(base: &str, email: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

async fn me(base: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new().get(format!("{base}/v1/me")).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn serve_create_an_account_log_in_and_read_me() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), free_port()).await;
    let health: Value = reqwest::get(format!("{}/health", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let account = create_account(dir.path(), "ana@acme.example");
    assert_eq!(account.len(), 26, "a ULID is printed: {account}");
    let token = login(&server.base, "ana@acme.example").await;
    let response = me(&server.base, &token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["account"]["id"], account.as_str());
    assert_eq!(body["account"]["name"], "Acme");
}

#[tokio::test]
async fn sigterm_stops_it_cleanly_and_data_and_sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port).await;
    create_account(dir.path(), "ana@acme.example");
    let token = login(&server.base, "ana@acme.example").await;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    drop(server);
    let server = start(dir.path(), port).await;
    assert_eq!(me(&server.base, &token).await.status(), 200, "the session key is kept in the data directory");
}

#[tokio::test]
async fn a_duplicate_admin_email_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    create_account(dir.path(), "ana@acme.example");
    let out = Command::new(BIN)
        .args([
            "admin",
            "create-account",
            "--name",
            "Other",
            "--admin-email",
            "ana@acme.example",
            "--admin-password",
            "correct horse",
        ])
        .env("ATENDE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in use"));
}

#[tokio::test]
async fn create_account_with_aws_writes_to_the_deployments_table() {
    use atende_aws::{AwsConnection, Clients, provision};
    let moto = atende_testkit::harness::moto_url().await;
    let clients = Clients::connect(&AwsConnection {
        endpoint: Some(moto.clone()),
        region: Some("us-east-1".into()),
        dummy_credentials: true,
        lambda_environment: false,
    })
    .await;
    let table = format!("atende-e2e-{}", ulid::Ulid::new().to_string().to_lowercase());
    provision::create_table(&clients.dynamodb, &table).await.unwrap();
    let out = Command::new(BIN)
        .args([
            "admin",
            "create-account",
            "--aws",
            "--name",
            "Acme",
            "--admin-email",
            "ops@acme.example",
            "--admin-password",
            "correct horse",
        ])
        .env("ATENDE_TABLE_NAME", &table)
        .env("ATENDE_MEDIA_BUCKET", "unused")
        .env("ATENDE_AWS_ENDPOINT", &moto)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let account = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let item = clients
        .dynamodb
        .get_item()
        .table_name(&table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("A#{account}")))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("ACCOUNT".into()))
        .send()
        .await
        .unwrap();
    assert!(item.item.is_some(), "the account is in the deployment's table");
}

/// Posts a signed Meta webhook until it is answered 200, as Meta retries.
pub(crate) async fn deliver_meta(http: &reqwest::Client, base: &str, payload: &Value) {
    let body = payload.to_string();
    let sig =
        atende_providers::whatsapp::signature::sign(crate::stack::APP_SECRET.as_bytes(), body.as_bytes());
    loop {
        let sent = http
            .post(format!("{base}/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &sig)
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `payload` (a pywa fixture) as sent by customer `wa`, with message id `id`.
pub(crate) fn from_customer(mut payload: Value, wa: &str, id: &str) -> Value {
    let m = crate::stack::first_event(&mut payload, "messages");
    m["from"] = json!(wa);
    m["id"] = json!(id);
    m["timestamp"] = json!(chrono::Utc::now().timestamp().to_string());
    payload["entry"][0]["changes"][0]["value"]["contacts"] =
        json!([{"profile": {"name": "Cliente"}, "wa_id": wa}]);
    payload
}

/// A call with the bearer token: its status and JSON body (`null` when it has none).
pub(crate) async fn call_api(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let mut request = http.request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json::<Value>().await.unwrap_or(Value::Null))
}

/// A GET with the bearer token, as JSON; `None` on any failure (for polling).
pub(crate) async fn get_json(
    http: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: &str,
) -> Option<Value> {
    http.get(url).bearer_auth(token).send().await.ok()?.json().await.ok()
}

/// Polls `check` until it returns `Some` (the server processes queues in the background):
/// bounded, and it fails loudly.
pub(crate) async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(what, Duration::from_secs(120), check).await
}

/// [`eventually`], waiting up to `limit`.
pub(crate) async fn eventually_within<T, F, Fut>(what: &str, limit: Duration, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn over_http_a_real_fixture_becomes_a_session_that_an_agent_answers_through_the_graph_api() {
    a_fixture_over_http_becomes_a_session_answered_through_the_graph_api(None).await;
}

#[tokio::test]
async fn over_http_on_serve_aws_a_real_fixture_becomes_a_session_that_an_agent_answers_through_the_graph_api()
{
    let lease = atende_testkit::harness::moto_lease().await;
    a_fixture_over_http_becomes_a_session_answered_through_the_graph_api(Some(&lease.url)).await;
}

/// `atende serve`, or with `moto`, `atende serve --aws` on that moto server (fresh names).
async fn a_fixture_over_http_becomes_a_session_answered_through_the_graph_api(moto: Option<&str>) {
    use crate::stack::{APP_SECRET, FIXTURE_PHONE_ID, FIXTURE_WA_ID, fixture, status_payload};
    let graph = atende_testkit::fake_graph::FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let unique = ulid::Ulid::new().to_string().to_lowercase();
    let aws_env = |command: &mut Command| {
        if let Some(moto) = moto {
            command
                .env("ATENDE_AWS_ENDPOINT", moto)
                .env("ATENDE_TABLE_NAME", format!("atende-{unique}"))
                .env("ATENDE_MEDIA_BUCKET", format!("atende-{unique}"))
                .env("ATENDE_QUEUE_PREFIX", format!("b{unique}-"))
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
    };
    let mut serve = Command::new(BIN);
    serve.args(if moto.is_some() { vec!["serve", "--aws"] } else { vec!["serve"] });
    aws_env(&mut serve);
    let child = serve
        .env("ATENDE_ADDR", format!("127.0.0.1:{port}"))
        .env("ATENDE_DATA_DIR", dir.path())
        .env("ATENDE_LOG", "warn")
        .env("ATENDE_GRAPH_API_URL", &graph.base_url)
        .env("ATENDE_META_APP_SECRET", APP_SECRET)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    wait_healthy(&server).await;
    let mut admin = Command::new(BIN);
    admin.args(["admin", "create-account", "--name", "Acme", "--admin-email", "ana@acme.example"]);
    if moto.is_some() {
        admin.arg("--aws");
    }
    aws_env(&mut admin);
    let out = admin
        .env("ATENDE_DATA_DIR", dir.path())
        .env("ATENDE_ADMIN_PASSWORD", "correct horse")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = login(&server.base, "ana@acme.example").await;
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}{path}", server.base);
    let channel: Value = http
        .post(api("/v1/channels"))
        .bearer_auth(&token)
        .json(&json!({"kind": "whatsapp_cloud", "name": "Main", "phone_number_id": FIXTURE_PHONE_ID, "access_token": "tok"}))
        .send().await.unwrap().json().await.unwrap();
    assert!(channel["id"].is_string(), "{channel}");

    let post_webhook = |payload: Value| {
        let http = http.clone();
        let url = api("/webhooks/whatsapp");
        async move {
            let body = payload.to_string();
            let sig = atende_providers::whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
            http.post(url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(post_webhook(fixture("message.json", "text")).await, 200);
    let session: String = eventually("the pending session", || async {
        let page: Value = get_json(&http, api("/v1/sessions?tab=pending"), &token).await?;
        page["items"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    let assumed =
        http.post(api(&format!("/v1/sessions/{session}/assume"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(assumed.status(), 200);
    let sent = http
        .post(api(&format!("/v1/sessions/{session}/messages")))
        .bearer_auth(&token)
        .json(&json!({"type": "text", "text": "Olá!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let recorded = eventually("the send at the Graph API", || async { graph.sends().first().cloned() }).await;
    assert_eq!(
        recorded.body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": FIXTURE_WA_ID, "type": "text", "text": {"preview_url": false, "body": "Olá!"}})
    );
    assert_eq!(
        eventually("the read receipt", || async { graph.read_receipts().first().cloned() }).await.body["message_id"],
        "wamid.xyzxyz"
    );
    let wamid: String = eventually("the sent status", || async {
        let page: Value = get_json(&http, api(&format!("/v1/sessions/{session}/messages")), &token).await?;
        (page["items"][0]["status"] == "sent")
            .then(|| page["items"][0]["provider_id"].as_str().unwrap().to_owned())
    })
    .await;
    for kind in ["read", "delivered"] {
        assert_eq!(post_webhook(status_payload(kind, &wamid)).await, 200);
    }
    eventually("the read status", || async {
        let page: Value = get_json(&http, api(&format!("/v1/sessions/{session}/messages")), &token).await?;
        (page["items"][0]["status"] == "read").then_some(())
    })
    .await;
}

#[tokio::test]
async fn simulate_plays_the_customer_of_a_sandbox_channel() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = start(dir.path(), port).await;
    create_account(dir.path(), "ana@acme.example");
    let token = login(&server.base, "ana@acme.example").await;
    let http = reqwest::Client::new();
    let channel: Value = http
        .post(format!("{}/v1/channels", server.base))
        .bearer_auth(&token)
        .json(&json!({"kind": "sandbox", "name": "Sandbox"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let channel = channel["id"].as_str().unwrap();
    let out = Command::new(BIN)
        .args([
            "simulate",
            "--channel",
            channel,
            "--from",
            "+5511987654321",
            "--name",
            "Maria",
            "Oi, tudo bem?",
        ])
        .env("ATENDE_DATA_DIR", dir.path())
        .env("ATENDE_ADDR", format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text: String = eventually("the simulated message", || async {
        let page: Value = get_json(&http, format!("{}/v1/sessions?tab=pending", server.base), &token).await?;
        let session = page["items"][0]["id"].as_str()?.to_owned();
        let msgs: Value =
            get_json(&http, format!("{}/v1/sessions/{session}/messages", server.base), &token).await?;
        msgs["items"][0]["text"].as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(text, "Oi, tudo bem?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_mid_stream_every_acknowledged_webhook_is_stored_exactly_once() {
    use crate::stack::{APP_SECRET, FIXTURE_PHONE_ID, text_from_customer};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    const EVENTS: usize = 5000;
    let (dir, port, mut server, token) = killable("http://127.0.0.1:9").await;
    let spawn = || spawn_with_meta(dir.path(), port, "http://127.0.0.1:9");
    let http = reqwest::Client::new();
    http.post(format!("{}/v1/channels", server.base))
        .bearer_auth(&token)
        .json(&json!({"kind": "whatsapp_cloud", "name": "Main", "phone_number_id": FIXTURE_PHONE_ID, "access_token": "tok"}))
        .send()
        .await
        .unwrap();

    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let dead = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for worker in 0..16 {
        let (http, acked, dead, url) =
            (http.clone(), acked.clone(), dead.clone(), format!("{}/webhooks/whatsapp", server.base));
        posters.push(tokio::spawn(async move {
            for n in (worker..EVENTS).step_by(16) {
                if dead.load(Ordering::Relaxed) {
                    return;
                }
                let wamid = format!("wamid.crash.{n}");
                let body = text_from_customer(&wamid, &format!("m{n}"), chrono::Utc::now()).to_string();
                let sig = atende_providers::whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
                let sent = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => acked.lock().unwrap().push(wamid),
                    Ok(r) => panic!("unexpected {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    eventually("half the events acknowledged", || async {
        (acked.lock().unwrap().len() >= EVENTS / 2).then_some(())
    })
    .await;
    server.child.kill().unwrap(); // SIGKILL, mid-stream
    server.child.wait().unwrap();
    dead.store(true, Ordering::Relaxed);
    for p in posters {
        p.await.unwrap();
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();

    server.child = spawn();
    wait_healthy(&server).await;
    let token = login(&server.base, "ana@acme.example").await;
    let all = || async {
        let page: Value = get_json(&http, format!("{}/v1/sessions?tab=pending", server.base), &token).await?;
        let session = page["items"][0]["id"].as_str()?.to_owned();
        let mut ids = Vec::new();
        let mut path = format!("/v1/sessions/{session}/messages?limit=100");
        loop {
            let page: Value = get_json(&http, format!("{}{path}", server.base), &token).await?;
            ids.extend(
                page["items"].as_array()?.iter().filter_map(|m| m["provider_id"].as_str().map(str::to_owned)),
            );
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/v1/sessions/{session}/messages?limit=100&cursor={c}"),
                None => return Some(ids),
            }
        }
    };
    let stored: Vec<String> = eventually("every acknowledged event stored (nothing stuck)", || async {
        // Polling the server, not a timer of ours; seldom, so the consumer is not slowed.
        tokio::time::sleep(Duration::from_millis(750)).await;
        let ids = all().await?;
        let have: std::collections::HashSet<&String> = ids.iter().collect();
        acked.iter().all(|a| have.contains(a)).then_some(ids)
    })
    .await;
    let mut unique = stored.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), stored.len(), "no event stored twice");
    assert!(
        acked.len() >= EVENTS / 2 && acked.len() < EVENTS,
        "the kill landed mid-stream: {} acknowledged",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_mid_campaign_every_recipient_is_sent_exactly_once_or_failed_with_a_reason() {
    use crate::stack::{APP_SECRET, FIXTURE_PHONE_ID};
    const RECIPIENTS: usize = 20_000;
    let graph = atende_testkit::fake_graph::FakeGraph::start().await;
    let (dir, port, mut server, token) = killable(&graph.base_url).await;
    let spawn = || spawn_with_meta(dir.path(), port, &graph.base_url);
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, body: Option<Value>, token: String| {
        let (http, base) = (http.clone(), server.base.clone());
        async move { call_api(&http, &base, &token, method, &path, body).await }
    };
    let (status, channel) = call(reqwest::Method::POST, "/v1/channels".into(), Some(json!({"kind": "whatsapp_cloud", "name": "Main",
        "phone_number_id": FIXTURE_PHONE_ID, "waba_id": "1234567890987654321", "access_token": "tok", "rate_limit_per_second": 1000})), token.clone()).await;
    assert_eq!(status, 201, "{channel}");
    let (_, template) = call(
        reqwest::Method::POST,
        "/v1/templates".into(),
        Some(json!({"channel_id": channel["id"], "name": "promo",
        "language": "pt_BR", "category": "marketing", "body": "Olá {{1}}"})),
        token.clone(),
    )
    .await;
    let approval = json!({"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "promo", "message_template_language": "pt_BR"}}]}]})
    .to_string();
    let sig = atende_providers::whatsapp::signature::sign(APP_SECRET.as_bytes(), approval.as_bytes());
    let r = http
        .post(format!("{}/webhooks/whatsapp", server.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(approval)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // 20,000 contacts tagged `kill`, through four 5,000-row imports.
    for part in 0..RECIPIENTS / 5000 {
        let mut csv = String::from("nome;telefone;tags\n");
        for i in 0..5000 {
            let n = part * 5000 + i;
            csv.push_str(&format!("Cliente {n};+55119{:08};kill\n", 10_000_000 + n));
        }
        let r = http
            .post(format!("{}/v1/contact-imports", server.base))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let import = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let mapping = json!({"mapping": {"nome": "name", "telefone": "phone", "tags": "tags"}});
        let (status, body) = call(
            reqwest::Method::POST,
            format!("/v1/contact-imports/{import}/start"),
            Some(mapping),
            token.clone(),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        eventually("the import done", || async {
            let got = get_json(&http, format!("{}/v1/contact-imports/{import}", server.base), &token).await?;
            (got["status"] == "done").then_some(())
        })
        .await;
    }
    let tags = get_json(&http, format!("{}/v1/tags", server.base), &token).await.unwrap();
    let tag = tags["items"][0]["id"].as_str().unwrap().to_owned();
    eventually("the template approved", || async {
        let got =
            get_json(&http, format!("{}/v1/templates/{}", server.base, template["id"].as_str()?), &token)
                .await?;
        (got["status"] == "approved").then_some(())
    })
    .await;
    let account = get_json(&http, format!("{}/v1/account", server.base), &token).await.unwrap();
    let (status, campaign) = call(reqwest::Method::POST, "/v1/campaigns".into(), Some(json!({"name": "Kill", "channel_id": channel["id"],
        "team_id": account["default_team_id"], "template_id": template["id"], "parameters": ["{{first_name}}"],
        "audience": {"kind": "tags", "tag_ids": [tag]}})), token.clone()).await;
    assert_eq!(status, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap().to_owned();
    let (status, body) =
        call(reqwest::Method::POST, format!("/v1/campaigns/{id}/start"), None, token.clone()).await;
    assert_eq!(status, 200, "{body}");
    let templates = |g: &atende_testkit::fake_graph::FakeGraph| {
        g.sends().into_iter().filter(|s| s.body["type"] == "template").count()
    };
    eventually("a quarter of the campaign sent", || async {
        (templates(&graph) >= RECIPIENTS / 4).then_some(())
    })
    .await;
    server.child.kill().unwrap(); // SIGKILL, mid-campaign
    server.child.wait().unwrap();
    let at_kill = templates(&graph);
    assert!(at_kill < RECIPIENTS, "the kill landed mid-campaign: {at_kill} sent");

    server.child = spawn();
    wait_healthy(&server).await;
    let token = login(&server.base, "ana@acme.example").await;
    let report = eventually("every recipient handled after the restart", || async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let c = get_json(&http, format!("{}/v1/campaigns/{id}", server.base), &token).await?;
        if c["status"] != "collecting" {
            return None;
        }
        get_json(&http, format!("{}/v1/campaigns/{id}/report", server.base), &token).await
    })
    .await;
    let mut per_number: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for s in graph.sends().into_iter().filter(|s| s.body["type"] == "template") {
        *per_number.entry(s.body["to"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(per_number.values().all(|n| *n == 1), "no number got the campaign twice");
    let (sent, failed, skipped) = (
        report["sent"].as_i64().unwrap(),
        report["failed"].as_i64().unwrap(),
        report["skipped"].as_i64().unwrap(),
    );
    assert_eq!(report["recipients"].as_i64(), Some(RECIPIENTS as i64), "{report}");
    assert_eq!(sent + failed + skipped, RECIPIENTS as i64, "every recipient ended: {report}");
    // A send cut by the kill is failed with its reason (it may have reached Meta): never sent again.
    let reached = per_number.len() as i64;
    assert!(sent <= reached && reached <= sent + failed, "sent {sent}, failed {failed}, reached {reached}");
    // Each failed recipient carries its reason.
    let mut cursor = String::new();
    loop {
        let mut url = reqwest::Url::parse(&format!("{}/v1/campaigns/{id}/recipients", server.base)).unwrap();
        url.query_pairs_mut()
            .append_pair("status", "failed")
            .append_pair("limit", "200")
            .append_pair("cursor", &cursor);
        let page = get_json(&http, url, &token).await.unwrap();
        for r in page["items"].as_array().unwrap() {
            assert!(r["reason"].as_str().is_some_and(|x| x.len() > 10), "{r}");
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_mid_flow_each_bot_message_is_sent_once_or_failed_with_a_reason_and_none_skipped() {
    use crate::stack::{FIXTURE_PHONE_ID, text_from_customer};
    use std::sync::Arc;
    const CONTACTS: usize = 120;
    const BOT_MESSAGES: usize = 5;
    let graph = Arc::new(atende_testkit::fake_graph::FakeGraph::start().await);
    let (dir, port, mut server, token) = killable(&graph.base_url).await;
    let spawn = || spawn_with_meta(dir.path(), port, &graph.base_url);
    let http = reqwest::Client::new();
    let base = server.base.clone();
    let post = |path: &str, body: Value| {
        let (http, base, path, token) = (http.clone(), base.clone(), path.to_owned(), token.clone());
        async move { call_api(&http, &base, &token, reqwest::Method::POST, &path, Some(body)).await }
    };
    let (status, channel) = post(
        "/v1/channels",
        json!({"kind": "whatsapp_cloud", "name": "Main",
        "phone_number_id": FIXTURE_PHONE_ID, "access_token": "tok", "rate_limit_per_second": 1000}),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let definition = json!({"start": "hi", "nodes": [
        {"id": "hi", "type": "message", "text": "Olá!", "next": "ask"},
        {"id": "ask", "type": "question", "text": "Escolha 1 ou 2", "expect": "number", "answered": "a"},
        {"id": "a", "type": "message", "text": "Anotado: {{answer}}", "next": "b"},
        {"id": "b", "type": "message", "text": "Mais uma coisa", "next": "c"},
        {"id": "c", "type": "message", "text": "Até logo", "next": "end"},
        {"id": "end", "type": "end", "handoff": "quiet"}
    ]});
    let (status, flow) = post("/v1/flows", json!({"name": "Kill", "definition": definition})).await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().unwrap().to_owned();
    assert_eq!(post(&format!("/v1/flows/{flow}/publish"), json!({})).await.0, 201);
    let r = http
        .put(format!("{base}/v1/channels/{}/flow-triggers", channel["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .json(&json!({"business_hours_flow": flow}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Each contact says hello, waits for the question, answers; webhooks are retried until
    // answered 200 (as Meta does), across the kill and the restart.
    let customer = |n: usize| format!("55119{:08}", 30_000_000 + n);
    let deliver = {
        let http = http.clone();
        let base = base.clone();
        move |wa: String, id: String, text: String| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let payload = from_customer(text_from_customer(&id, &text, chrono::Utc::now()), &wa, &id);
                deliver_meta(&http, &base, &payload).await
            }
        }
    };
    // The bot's messages in a contact's transcript, oldest first.
    let transcript = {
        let (http, base) = (http.clone(), base.clone());
        move |wa: String, token: String| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let contacts = get_json(&http, format!("{base}/v1/contacts?phone=%2B{wa}"), &token).await?;
                let contact = contacts["items"][0]["id"].as_str()?.to_owned();
                // The pending tab, page by page, for the contact's session.
                let mut cursor = String::new();
                let session = loop {
                    let url = format!("{base}/v1/sessions?tab=pending&limit=100&cursor={cursor}");
                    let page = get_json(&http, url, &token).await?;
                    let found =
                        page["items"].as_array()?.iter().find(|s| s["contact_id"] == contact.as_str());
                    if let Some(s) = found {
                        break s["id"].as_str()?.to_owned();
                    }
                    cursor = page["next_cursor"].as_str()?.to_owned();
                };
                let page = get_json(&http, format!("{base}/v1/sessions/{session}/messages?limit=50"), &token)
                    .await?;
                Some(
                    page["items"]
                        .as_array()?
                        .iter()
                        .rev()
                        .filter(|m| m["author"] == "bot")
                        .cloned()
                        .collect::<Vec<Value>>(),
                )
            }
        }
    };
    let settled =
        |m: &Value| ["sent", "delivered", "read", "failed"].contains(&m["status"].as_str().unwrap_or(""));
    let mut conversations = Vec::new();
    for n in 0..CONTACTS {
        let (deliver, graph, wa, transcript, token) =
            (deliver.clone(), graph.clone(), customer(n), transcript.clone(), token.clone());
        conversations.push(tokio::spawn(async move {
            deliver(wa.clone(), format!("wamid.k{n}a"), "oi".into()).await;
            let deadline = Instant::now() + Duration::from_secs(240);
            let mut checked = Instant::now();
            loop {
                if graph.arrivals_to(&wa).len() >= 2 {
                    break;
                }
                // A send cut by the kill is failed with its reason, never sent again: if it
                // was the question, there is nothing to answer.
                if checked.elapsed() > Duration::from_secs(3) {
                    checked = Instant::now();
                    if let Some(bot) = transcript(wa.clone(), token.clone()).await
                        && bot.len() == 2
                        && bot.iter().all(settled)
                    {
                        if bot[1]["status"] == "failed" {
                            return false; // nothing was asked: the customer has nothing to answer
                        }
                        break;
                    }
                }
                assert!(Instant::now() < deadline, "{wa} was never asked");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            deliver(wa.clone(), format!("wamid.k{n}b"), "1".into()).await;
            true
        }));
    }
    eventually("a third of the bot's messages sent", || async {
        (graph.sends().len() >= CONTACTS * BOT_MESSAGES / 3).then_some(())
    })
    .await;
    server.child.kill().unwrap(); // SIGKILL, mid-flow
    server.child.wait().unwrap();
    let at_kill = graph.sends().len();
    assert!(at_kill < CONTACTS * BOT_MESSAGES, "the kill landed mid-flow: {at_kill}");
    server.child = spawn();
    wait_healthy(&server).await;
    let mut answered = Vec::new();
    for c in conversations {
        answered.push(c.await.unwrap());
    }
    // Meta redelivers everything once more for good measure.
    for (n, answered) in answered.iter().enumerate() {
        deliver(customer(n), format!("wamid.k{n}a"), "oi".into()).await;
        if *answered {
            deliver(customer(n), format!("wamid.k{n}b"), "1".into()).await;
        }
    }
    let token = login(&server.base, "ana@acme.example").await;
    let all = ["Olá!", "Escolha 1 ou 2", "Anotado: 1", "Mais uma coisa", "Até logo"];
    let mut cut = 0;
    for (n, answered) in answered.iter().enumerate() {
        let wa = customer(n);
        // The transcript: every bot message stored, each sent once or failed with a reason.
        // A question cut by the kill is failed; if it never reached Meta the customer had
        // nothing to answer and the conversation ends there; if it did (the kill came after
        // the call, before its answer was recorded), they answered and it went on.
        let deadline = Instant::now() + Duration::from_secs(60);
        let length = if *answered { BOT_MESSAGES } else { 2 };
        let bot = loop {
            let bot = transcript(wa.clone(), token.clone()).await.unwrap_or_default();
            if bot.len() == length && bot.iter().all(settled) {
                break bot;
            }
            let seen: Vec<(&Value, &Value)> = bot.iter().map(|m| (&m["text"], &m["status"])).collect();
            assert!(Instant::now() < deadline, "{wa}'s conversation never settled: {seen:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let expected = &all[..bot.len()];
        if !answered {
            assert_eq!(bot[1]["status"], "failed", "{wa}: only a failed question goes unanswered");
            cut += 1;
        }
        let texts: Vec<&str> = bot.iter().map(|m| m["text"].as_str().unwrap_or("")).collect();
        assert_eq!(texts, expected, "{wa}: none skipped, none doubled in the transcript");
        let at_meta: Vec<String> = graph
            .sends()
            .iter()
            .filter(|s| s.body["to"] == wa.as_str())
            .map(|s| s.body["text"]["body"].as_str().unwrap_or("").to_owned())
            .collect();
        for (m, text) in bot.iter().zip(expected.iter().copied()) {
            let reached = at_meta.iter().filter(|t| t.as_str() == text).count();
            match m["status"].as_str() {
                Some("failed") => {
                    assert!(reached <= 1, "{wa}: {text} reached Meta {reached} times");
                    assert!(m["error"]["reason"].as_str().is_some_and(|r| r.len() > 10), "{m}");
                }
                _ => assert_eq!(reached, 1, "{wa}: {text} reached Meta {reached} times"),
            }
        }
    }
    assert!(cut < CONTACTS / 10, "only sends in flight at the kill may fail: {cut} conversations cut");
}
