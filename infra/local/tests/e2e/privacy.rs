//! LGPD: export everything about a contact, erase it, and prove nothing of it remains
//! readable through the routes or in the table.

use crate::stack::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_erased_contact_leaves_no_body_media_note_phone_or_name_readable_and_never_comes_back_by_itself() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, _) = stack
        .call(
            Method::POST,
            "/v1/custom-fields",
            &t.token,
            Some(json!({"key": "cpf", "label": "CPF", "type": "text"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    stack.graph.add_media("65463453", b"\xff\xd8the customer's photo", "image/jpeg");
    let session = stack.assumed_session(&t, "wamid.first").await;
    stack.deliver(&text_from_customer("wamid.second", "meu cpf é 123.456.789-09", stack.now())).await;
    stack.deliver(&fixture("message.json", "image")).await;
    stack.settle().await;
    stack.send_text(&t, &session, "Olá Test Name, recebido").await;
    stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/notes"),
            &t.token,
            Some(json!({"text": "cliente pediu boleto"})),
        )
        .await;
    stack.settle().await;
    let (_, s) = stack.call(Method::GET, &format!("/v1/sessions/{session}"), &t.token, None).await;
    let contact = s["contact_id"].as_str().unwrap().to_owned();
    let (status, c) = stack
        .call(
            Method::PATCH,
            &format!("/v1/contacts/{contact}"),
            &t.token,
            Some(json!({"email": "test.name@example.com", "custom": {"cpf": "123.456.789-09"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let image = stack.messages(&t.token, &session).await.into_iter().find(|m| m["kind"] == "image").unwrap();
    let blob_key = image["media"]["blob_key"].as_str().unwrap().to_owned();

    // The export holds everything.
    let (status, export) =
        stack.call(Method::GET, &format!("/v1/contacts/{contact}/export"), &t.token, None).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    let text = export.to_string();
    for expected in [
        "Test Name",
        "+972987654321",
        "test.name@example.com",
        "meu cpf é 123.456.789-09",
        "cliente pediu boleto",
        "Olá",
    ] {
        assert!(text.contains(expected), "the export has {expected:?}: {export}");
    }
    assert_eq!(export["sessions"][0]["session"]["id"], json!(session));
    assert_eq!(export["media"].as_array().unwrap().len(), 1);
    let (_, agent_token) = stack.user(&t, "agent@acme.example", "agent").await;
    let (status, _) =
        stack.call(Method::GET, &format!("/v1/contacts/{contact}/export"), &agent_token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let before = stack.table_dump().join("\n");
    for secret in ["Test Name", "972987654321", "cliente pediu boleto", "meu cpf"] {
        assert!(before.contains(secret), "the walk reads the real table: {secret:?} is there before");
    }

    // Erase (asked twice: one erasure), then run the job twice (a redelivery).
    let (status, erasure) =
        stack.call(Method::POST, &format!("/v1/contacts/{contact}/erasure"), &t.token, None).await;
    assert_eq!((status, erasure["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")));
    let (status, again) =
        stack.call(Method::POST, &format!("/v1/contacts/{contact}/erasure"), &t.token, None).await;
    assert_eq!((status, &again["requested_at"]), (StatusCode::ACCEPTED, &erasure["requested_at"]));
    stack.settle().await;
    atende_core::privacy::erase(&stack.ctx.deps, &t.account, &contact).await.unwrap();
    let (_, done) = stack.call(Method::GET, &format!("/v1/contacts/{contact}/erasure"), &t.token, None).await;
    assert_eq!(
        (done["status"].as_str(), done["requested_by"].as_str()),
        (Some("done"), Some(t.admin.as_str()))
    );

    let secrets = [
        "Test Name",
        "972987654321",
        "test.name@example.com",
        "123.456.789-09",
        "cliente pediu boleto",
        "recebido",
        "the customer's photo",
    ];
    // Through every route that shows a contact's data.
    let mut seen = Vec::new();
    for path in [
        format!("/v1/contacts/{contact}"),
        format!("/v1/contacts/{contact}/export"),
        format!("/v1/sessions/{session}"),
        format!("/v1/sessions/{session}/messages"),
        format!("/v1/sessions/{session}/notes"),
        "/v1/contacts?status=erased".to_owned(),
        "/v1/sessions?tab=completed".to_owned(),
    ] {
        let (status, body) = stack.call(Method::GET, &path, &t.token, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        seen.push(body.to_string());
    }
    // And in the table itself, item by item.
    seen.extend(stack.table_dump());
    for text in &seen {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret:?} is still readable: {text}");
        }
    }
    assert!(stack.ctx.deps.blob.get(&blob_key).await.unwrap().is_none(), "the media blob is gone");
    let (_, erased) = stack.call(Method::GET, &format!("/v1/contacts/{contact}"), &t.token, None).await;
    assert_eq!(erased["status"], "erased");
    let (_, msgs) =
        stack.call(Method::GET, &format!("/v1/sessions/{session}/messages"), &t.token, None).await;
    assert_eq!(msgs["items"].as_array().unwrap().len(), 4, "the messages stay, for the counts: {msgs}");

    // The number writes again: ignored, no contact, no session.
    stack.deliver(&text_from_customer("wamid.third", "voltei", stack.now())).await;
    stack.settle().await;
    let (_, found) = stack.call(Method::GET, "/v1/contacts?phone=%2B972987654321", &t.token, None).await;
    assert_eq!(found["items"], json!([]));
    assert!(stack.sessions(&t.token, "pending").await.is_empty());
    let (status, _) =
        stack.call(Method::POST, "/v1/contacts", &t.token, Some(json!({"phone": "+972987654321"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "not even by hand until unblocked");
    // Until an admin unblocks it.
    let (status, _) = stack
        .call(Method::POST, "/v1/contacts/unblock", &t.token, Some(json!({"phone": "+972987654321"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    stack.deliver(&text_from_customer("wamid.fourth", "voltei de novo", stack.now())).await;
    stack.settle().await;
    let (_, found) = stack.call(Method::GET, "/v1/contacts?phone=%2B972987654321", &t.token, None).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_ne!(found["items"][0]["id"], json!(contact), "a new contact, nothing of the old one");
}

#[tokio::test]
async fn a_channels_access_token_is_sealed_in_the_table_and_still_authenticates_its_sends() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let (status, _) = stack
        .call(
            Method::PATCH,
            &format!("/v1/channels/{channel}"),
            &t.token,
            Some(json!({"access_token": "EAAB-rotated-token-999"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let session = stack.assumed_session(&t, "wamid.first").await;
    let (status, _) = stack
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": "Olá!"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    stack.settle().await;
    let sends = stack.graph.sends();
    assert_eq!(
        sends.last().unwrap().authorization,
        "Bearer EAAB-rotated-token-999",
        "the token opens for sends"
    );
    let dump = stack.table_dump();
    let channel_item =
        dump.iter().find(|row| row.contains("secret_access_token")).expect("the channel's item");
    assert!(channel_item.contains("sealed:v1:"), "{channel_item}");
    for secret in ["EAAB-rotated-token-999", "test-token"] {
        assert!(dump.iter().all(|row| !row.contains(secret)), "{secret} is stored in the clear");
    }
}

#[tokio::test]
async fn on_aws_the_sealing_key_is_made_once_under_kms_on_first_use_and_every_process_opens_the_same() {
    use atende_aws::kms::{KmsKeys, create_key};
    use atende_aws::{AwsConnection, Clients, DynamoTable, provision};
    use atende_core::ports::{SealError, Sealer, Table};
    use atende_runtime::seal::kms_data_key;
    use atende_runtime::seal::{AesGcmSealer, KmsSealer};
    use std::sync::Arc;

    let lease = atende_testkit::harness::moto_lease().await;
    let clients = Clients::connect(&AwsConnection {
        endpoint: Some(lease.url.clone()),
        region: Some("us-east-1".into()),
        dummy_credentials: true,
        lambda_environment: false,
    })
    .await;
    let names = atende_testkit::harness::fresh_names();
    provision::ensure_all(&clients, &names, &[]).await.unwrap();
    let clock: Arc<dyn atende_core::ports::Clock> = Arc::new(atende_core::ports::SystemClock);
    let table = DynamoTable::new(clients.dynamodb.clone(), names.table, clock);
    let key_id = create_key(&clients.kms, "atende test").await.unwrap();
    let kms = KmsKeys::new(clients.kms.clone(), &key_id);

    // Two cold starts at once: one makes the key, both end with it.
    let (a, b) = tokio::join!(kms_data_key(&table, &kms), kms_data_key(&table, &kms));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert_eq!(kms_data_key(&table, &kms).await.unwrap(), a, "a later start opens the same key");
    let stored =
        table.get(&atende_core::keys::sealing_key()).await.unwrap().expect("the encrypted key is stored");
    let encrypted =
        atende_core::ports::table::attr::get_s(&stored, "encrypted_key").expect("its KMS-encrypted copy");
    assert!(encrypted.len() > 60, "KMS's ciphertext, not a bare 32-byte key: {encrypted}");
    let sealed = AesGcmSealer::new(&a).seal_text("EAAB-token");
    assert_eq!(AesGcmSealer::new(&b).open_text(&sealed).unwrap(), "EAAB-token");
    // The functions' sealer asks KMS on first use: what one process seals, another opens.
    let table: Arc<dyn Table> = Arc::new(table);
    let one = KmsSealer::new(table.clone(), kms.clone());
    let other = KmsSealer::new(table, kms.clone());
    let sealed = one.seal("EAAB-token").await.unwrap();
    assert_eq!(other.open(&sealed).await.unwrap(), "EAAB-token");
    assert_eq!(AesGcmSealer::new(&a).open_text(&sealed).unwrap(), "EAAB-token", "the same data key");
    let wrong = KmsKeys::new(clients.kms.clone(), "no-such-key");
    let other_table: Arc<dyn Table> = {
        let names = atende_testkit::harness::fresh_names();
        provision::ensure_all(&clients, &names, &[]).await.unwrap();
        Arc::new(DynamoTable::new(
            clients.dynamodb.clone(),
            names.table,
            Arc::new(atende_core::ports::SystemClock),
        ))
    };
    assert!(kms_data_key(other_table.as_ref(), &wrong).await.is_err(), "no KMS key, no silent fallback");
    // Without KMS a secret neither seals nor opens (a 5xx, retried), and the failure is not
    // kept: each use asks again.
    let refused = KmsSealer::new(other_table, wrong);
    for _ in 0..2 {
        assert!(matches!(refused.seal("EAAB-token").await, Err(SealError::Unavailable(_))));
    }
    assert!(matches!(refused.open(&sealed).await, Err(SealError::Unavailable(_))));
}
