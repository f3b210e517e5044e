//! The console in a real browser: Playwright (`console/tests/console.test.mjs`, npm
//! `playwright-core`) drives Debian's Chromium against the `atende` binary, whose Meta is
//! the fake Graph API. This test starts both, gives the script what it needs to play the
//! customer (signed Meta payloads from the shared fixtures), and fails with its output.

use crate::binary::{from_customer, killable_with};
use crate::stack::{APP_SECRET, FIXTURE_PHONE_ID, status_payload, text_from_customer};
use atende_testkit::fake_graph::FakeGraph;
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

fn console_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../console")
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_real_browser_a_message_arrives_live_is_answered_read_transferred_live_and_completed() {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "the browser test needs Debian's chromium at {CHROMIUM} (scripts/test installs it)"
    );
    let graph = FakeGraph::start().await;
    let (_dir, _port, server, token) = killable_with(&graph.base_url, &[]).await;
    let http = reqwest::Client::new();
    let channel = http
        .post(format!("{}/v1/channels", server.base))
        .bearer_auth(&token)
        .json(&json!({"kind": "whatsapp_cloud", "name": "WhatsApp Loja", "phone_number_id": FIXTURE_PHONE_ID,
            "access_token": "tok", "agents_can_start": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(channel.status(), 201);
    let inbound = from_customer(
        text_from_customer("x", "Oi! Meu pedido 4521 ainda não chegou.", chrono::Utc::now()),
        "5511987654321",
        "wamid.console-1",
    );
    let screenshots = console_dir().join("test-results");
    // Screenshots of an earlier run must not pass for this one's.
    let _ = std::fs::remove_dir_all(&screenshots);
    let mut child = tokio::process::Command::new("node")
        .arg("tests/console.test.mjs")
        .current_dir(console_dir())
        .env("ATENDE_URL", &server.base)
        .env("ATENDE_ADMIN_EMAIL", "ana@acme.example")
        .env("ATENDE_ADMIN_PASSWORD", "correct horse")
        .env("ATENDE_META_APP_SECRET", APP_SECRET)
        .env("ATENDE_INBOUND", inbound.to_string())
        .env("ATENDE_STATUS_DELIVERED", status_payload("delivered", "WAMID").to_string())
        .env("ATENDE_STATUS_READ", status_payload("read", "WAMID").to_string())
        .env("ATENDE_SCREENSHOTS", &screenshots)
        .env("CHROMIUM", CHROMIUM)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the browser test (scripts/test installs Node's packages)");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut text).await;
            text
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let status = tokio::time::timeout(Duration::from_secs(300), child.wait()).await;
    let _ = child.kill().await;
    let (out, err) = (out.await.unwrap(), err.await.unwrap());
    let status =
        status.unwrap_or_else(|_| panic!("the browser test ran over 5 minutes\n{out}\n{err}")).unwrap();
    assert!(status.success(), "the browser test failed ({status})\n--- stdout\n{out}\n--- stderr\n{err}");
    println!("{out}");
    // What the browser did reached Meta: the agent's reply, once.
    let replies: Vec<_> = graph.sends().into_iter().filter(|s| s.body["type"] == "text").collect();
    assert_eq!(replies.len(), 1, "one reply went out: {replies:?}");
    for shot in ["login", "inbox", "conversation", "admin-users"] {
        assert!(screenshots.join(format!("{shot}.png")).exists(), "screenshot {shot}.png saved");
    }
}
