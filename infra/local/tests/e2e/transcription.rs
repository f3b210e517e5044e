//! Voice notes transcribed end to end, against the fake speech-to-text server: the note
//! reaches agents at once, the transcript follows; provider faults end `done` or `failed`
//! with the reason, never `processing`; a redelivered job never calls the provider again.
//! Also: no secret (Asaas key, webhook token, transcription key) in any answer or log.

use crate::payments::{TOKEN, enable};
use crate::stack::{FIXTURE_PHONE_ID, Stack, Tenant, first_event, fixture};
use atende_testkit::fake_stt::{self, Fault};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MEDIA_ID: &str = "1234567890987654321";

async fn transcribing_tenant(stack: &Stack) -> Tenant {
    let t = stack.tenant("Ouvidoria").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, account) = stack
        .call(Method::PATCH, "/v1/account", &t.token, Some(json!({"transcription_enabled": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    stack.graph.add_media(MEDIA_ID, &atende_testkit::audio::ogg_opus(3), "audio/ogg; codecs=opus");
    t
}

fn voice_note(stack: &Stack, wamid: &str) -> Value {
    let mut payload = fixture("message.json", "voice");
    let m = first_event(&mut payload, "messages");
    m["id"] = json!(wamid);
    m["timestamp"] = json!(stack.now().timestamp().to_string());
    payload
}

/// The voice note of the tenant's only session.
async fn the_note(stack: &Stack, t: &Tenant) -> Value {
    let session = stack.sessions(&t.token, "pending").await[0]["id"].as_str().unwrap().to_owned();
    let messages = stack.messages(&t.token, &session).await;
    messages.into_iter().find(|m| m["kind"] == "voice" || m["kind"] == "audio").expect("the voice note")
}

#[tokio::test]
async fn a_voice_note_reaches_agents_at_once_and_its_transcript_follows() {
    let stack = Stack::new().await;
    let t = transcribing_tenant(&stack).await;
    assert_eq!(stack.deliver(&voice_note(&stack, "wamid.voice-1")).await, StatusCode::OK);
    // Only the inbound function has run: the note is there for agents, its text on the way.
    stack.drain_function("inbound").await;
    let note = the_note(&stack, &t).await;
    assert_eq!(note["transcription"]["status"], "processing", "{note}");
    assert!(note["media"]["blob_key"].as_str().is_some());
    assert_eq!(stack.stt.calls(), 0);

    stack.settle().await;
    let note = the_note(&stack, &t).await;
    assert_eq!(note["transcription"]["status"], "done", "{note}");
    assert_eq!(note["transcription"]["text"], fake_stt::TEXT);
    assert_eq!(stack.stt.calls(), 1);

    // Redelivered: the webhook, and the job itself. The provider is not called again.
    stack.deliver(&voice_note(&stack, "wamid.voice-1")).await;
    let job = atende_core::jobs::TranscriptionJob {
        account_id: t.account.clone(),
        message_id: note["id"].as_str().unwrap().to_owned(),
    };
    for _ in 0..3 {
        atende_core::jobs::enqueue_transcription(&stack.ctx.deps, &job, Duration::ZERO).await.unwrap();
    }
    stack.settle().await;
    assert_eq!(stack.stt.calls(), 1);
    assert_eq!(the_note(&stack, &t).await["transcription"]["text"], fake_stt::TEXT);
}

#[tokio::test]
async fn provider_faults_end_done_or_failed_with_the_reason_and_never_stay_processing() {
    let stack = Stack::new().await;
    let t = transcribing_tenant(&stack).await;
    // A 429 and a 500, then an answer: done after three calls.
    stack.stt.fail_next(Fault::Status(429));
    stack.stt.fail_next(Fault::Status(500));
    stack.deliver(&voice_note(&stack, "wamid.voice-retry")).await;
    stack.settle().await;
    let note = the_note(&stack, &t).await;
    assert_eq!(note["transcription"]["status"], "done", "{note}");
    assert_eq!(note["transcription"]["provider_calls"], 3);
    assert_eq!(stack.stt.calls(), 3);
    stack.complete_for_good(&t, note["session_id"].as_str().unwrap()).await;

    // A refusal (4xx) is not retried.
    let before = stack.stt.calls();
    stack.stt.fail_next(Fault::Status(400));
    stack.deliver(&voice_note(&stack, "wamid.voice-refused")).await;
    stack.settle().await;
    let note = the_note(&stack, &t).await;
    assert_eq!(note["transcription"]["status"], "failed", "{note}");
    assert!(note["transcription"]["error"].as_str().unwrap().contains("refused"), "{note}");
    assert_eq!(stack.stt.calls(), before + 1);
    stack.complete_for_good(&t, note["session_id"].as_str().unwrap()).await;

    // A provider that never answers in time: failed after the last attempt, with why.
    let before = stack.stt.calls();
    for _ in 0..atende_core::transcription::MAX_ATTEMPTS {
        stack.stt.fail_next(Fault::Stall(Duration::from_millis(1200)));
    }
    stack.deliver(&voice_note(&stack, "wamid.voice-silent")).await;
    stack.settle().await;
    let note = the_note(&stack, &t).await;
    assert_eq!(note["transcription"]["status"], "failed", "{note}");
    let error = note["transcription"]["error"].as_str().unwrap();
    assert!(error.contains("5 times") && error.contains("in time"), "{error}");
    assert_eq!(stack.stt.calls(), before + u64::from(atende_core::transcription::MAX_ATTEMPTS));
}

/// A provider whose limit is tiny: what a file over the real 25 MB limit meets.
struct TinyLimit(Arc<dyn atende_core::ports::Transcriber>);

#[async_trait::async_trait]
impl atende_core::ports::Transcriber for TinyLimit {
    fn configured(&self) -> bool {
        true
    }
    fn max_bytes(&self) -> usize {
        100
    }
    async fn transcribe(
        &self,
        audio: &atende_core::ports::Audio,
        language: &str,
    ) -> Result<String, atende_core::ports::TranscribeError> {
        self.0.transcribe(audio, language).await
    }
}

#[tokio::test]
async fn a_file_over_the_providers_limit_fails_with_that_reason_without_a_call() {
    let stack =
        Stack::with_deps(|deps| deps.transcriber = Arc::new(TinyLimit(deps.transcriber.clone()))).await;
    let t = transcribing_tenant(&stack).await;
    stack.deliver(&voice_note(&stack, "wamid.voice-big")).await;
    stack.settle().await;
    let note = the_note(&stack, &t).await;
    assert_eq!(note["transcription"]["status"], "failed");
    assert!(note["transcription"]["error"].as_str().unwrap().contains("larger than the provider's limit"));
    assert_eq!(stack.stt.calls(), 0);
}

#[tokio::test]
async fn an_account_without_transcription_leaves_voice_notes_alone() {
    let stack = Stack::new().await;
    let t = stack.tenant("Calada").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    stack.graph.add_media(MEDIA_ID, &atende_testkit::audio::ogg_opus(1), "audio/ogg; codecs=opus");
    stack.deliver(&voice_note(&stack, "wamid.voice-off")).await;
    stack.settle().await;
    assert!(the_note(&stack, &t).await.get("transcription").is_none());
    assert_eq!(stack.stt.calls(), 0);
}

/// Collects every log line written while it is the thread's default subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_answer_and_no_log_line_holds_the_asaas_key_the_webhook_token_or_the_transcription_key() {
    // A process-wide subscriber: a thread-local one misses events whose callsites other
    // tests' threads (with no subscriber) cached as uninteresting.
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let logs = LOGS
        .get_or_init(|| {
            let logs = Captured::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other test sets one");
            tracing::callsite::rebuild_interest_cache();
            logs
        })
        .clone();

    let stack = Stack::new().await;
    let t = transcribing_tenant(&stack).await;
    enable(&stack, &t).await;
    let mut answers = Vec::new();
    stack.deliver(&voice_note(&stack, "wamid.voice-secret")).await;
    stack.stt.fail_next(Fault::Status(401));
    stack.settle().await;
    let session = stack.sessions(&t.token, "pending").await[0]["id"].as_str().unwrap().to_owned();
    stack.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
    let body = json!({"amount_cents": 1000, "method": "pix", "description": "x", "payer_name": "Ana",
        "payer_document": "529.982.247-25", "due_date": (stack.now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string()});
    answers.push(
        stack.call(Method::POST, &format!("/v1/sessions/{session}/payments"), &t.token, Some(body)).await.1,
    );
    stack.settle().await;
    for e in stack.asaas.take_events() {
        answers.push(stack.post_asaas(&t.account, TOKEN, &e).await.1);
        answers.push(stack.post_asaas(&t.account, "wrong", &e).await.1);
    }
    stack.settle().await;
    answers.push(stack.call(Method::GET, "/v1/payment-settings", &t.token, None).await.1);
    answers.push(stack.call(Method::GET, "/v1/payments", &t.token, None).await.1);
    answers.push(stack.call(Method::GET, "/v1/account", &t.token, None).await.1);
    answers.push(stack.messages(&t.token, &session).await.into());
    let bad =
        json!({"enabled": true, "environment": "sandbox", "api_key": "has a space", "webhook_token": TOKEN});
    answers.push(stack.call(Method::PUT, "/v1/payment-settings", &t.token, Some(bad)).await.1);

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 1000, "the logs were captured ({} bytes)", logs.len());
    let answers = serde_json::to_string(&answers).unwrap();
    assert!(answers.contains("failed"), "the transcription's failure is in the answers");
    for secret in [atende_testkit::fake_asaas::API_KEY, TOKEN, fake_stt::KEY] {
        assert!(!logs.contains(secret), "a log line holds {secret}");
        assert!(!answers.contains(secret), "an answer holds {secret}");
    }
    // Nor does the table hold them in the clear.
    assert!(stack.table_dump().iter().all(|row| !row.contains(TOKEN) && !row.contains("aact_test_key")));
}
