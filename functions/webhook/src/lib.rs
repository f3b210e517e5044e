//! The `webhook` function: Meta's verify handshake and signed event deliveries (WhatsApp,
//! Messenger, Instagram), Telegram's updates, and Asaas' payment events. Checks the
//! signature (Meta) or the secret token (Telegram, Asaas) before anything else, turns the
//! payload into one queue message per event, and answers 200 only once all of them are
//! durably enqueued.

use atende_core::conversations::channels;
use atende_core::conversations::events::InboundEvent;
use atende_core::ports::OutgoingMessage;
use atende_core::secret::Secret;
use atende_providers::inbound::{ParseError, Route};
use atende_providers::meta_direct::webhook as direct;
use atende_providers::telegram;
use atende_providers::whatsapp::{signature, webhook};
use atende_runtime::http::with_standard_layers;
use atende_runtime::{ApiError, AppContext};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// The `webhook` function: Meta's routes, behind the HTTP API.
pub fn function() -> atende_runtime::function::FunctionSpec {
    use atende_runtime::function::{FunctionSpec, Trigger};
    FunctionSpec {
        name: "webhook",
        trigger: Trigger::Http {
            paths: vec![
                "/webhooks/whatsapp".into(),
                "/webhooks/whatsapp/{channel_id}".into(),
                "/webhooks/messenger".into(),
                "/webhooks/messenger/{channel_id}".into(),
                "/webhooks/instagram".into(),
                "/webhooks/instagram/{channel_id}".into(),
                "/webhooks/telegram/{channel_id}".into(),
                "/webhooks/asaas/{account_id}".into(),
            ],
        },
    }
}

/// The webhook routes with the standard layers (what the Lambda serves).
pub fn router(ctx: AppContext) -> Router {
    with_standard_layers(routes(ctx))
}

/// The bare routes, for merging with other functions' routes (the local runtime).
pub fn routes(ctx: AppContext) -> Router {
    Router::new()
        .route("/webhooks/whatsapp", meta_app(webhook::parse))
        .route("/webhooks/whatsapp/{channel_id}", meta_channel(webhook::parse))
        .route("/webhooks/messenger", meta_app(direct::parse_messenger))
        .route("/webhooks/messenger/{channel_id}", meta_channel(direct::parse_messenger))
        .route("/webhooks/instagram", meta_app(direct::parse_instagram))
        .route("/webhooks/instagram/{channel_id}", meta_channel(direct::parse_instagram))
        .route("/webhooks/telegram/{channel_id}", post(ingest_telegram))
        .route("/webhooks/asaas/{account_id}", post(ingest_asaas))
        .with_state(ctx)
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

fn handshake(q: Handshake, expected: &Secret) -> Result<String, ApiError> {
    let token_ok =
        q.token.as_deref().is_some_and(|t| bool::from(t.as_bytes().ct_eq(expected.expose().as_bytes())));
    match (q.mode.as_deref(), q.challenge) {
        (Some("subscribe"), Some(challenge)) if token_ok && !expected.expose().is_empty() => Ok(challenge),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "the verify token does not match")),
    }
}

async fn verify_app(State(ctx): State<AppContext>, Query(q): Query<Handshake>) -> Result<String, ApiError> {
    handshake(q, &ctx.meta.verify_token)
}

async fn verify_channel(
    State(ctx): State<AppContext>,
    Path(channel): Path<String>,
    Query(q): Query<Handshake>,
) -> Result<String, ApiError> {
    let by = atende_core::conversations::events::ChannelRef::Channel(channel);
    let found = channels::resolve(&ctx.deps, &by).await?.ok_or_else(|| ApiError::not_found("channel"))?;
    let own = found.verify_token(&ctx.deps).await?;
    handshake(q, own.as_ref().unwrap_or(&ctx.meta.verify_token))
}

/// A Meta payload's parser (WhatsApp, Messenger, Instagram): one signature scheme, one
/// handshake, one route shape for all three.
type MetaParser = fn(&[u8], &Route) -> Result<Vec<InboundEvent>, ParseError>;

/// `/webhooks/<provider>`: the deployment app's handshake, and its signed deliveries routed
/// by the provider's id they carry.
fn meta_app(parse: MetaParser) -> MethodRouter<AppContext> {
    get(verify_app).post(
        move |State(ctx): State<AppContext>, headers: HeaderMap, body: Result<Bytes, BytesRejection>| async move {
            ingest_meta(&ctx, parse, None, &headers, body).await
        },
    )
}

/// `/webhooks/<provider>/{channel_id}`: a channel with its own app (its verify token and
/// secret, else the deployment's).
fn meta_channel(parse: MetaParser) -> MethodRouter<AppContext> {
    get(verify_channel).post(
        move |State(ctx): State<AppContext>,
              Path(channel): Path<String>,
              headers: HeaderMap,
              body: Result<Bytes, BytesRejection>| async move {
            ingest_meta(&ctx, parse, Some(channel), &headers, body).await
        },
    )
}

async fn ingest_meta(
    ctx: &AppContext,
    parse: MetaParser,
    channel: Option<String>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(too_large)?;
    let secret = match &channel {
        Some(id) => channel_app_secret(ctx, id).await?,
        None => ctx.meta.app_secret.clone(),
    };
    signed(&secret, headers, &body)?;
    let route = channel.map_or(Route::ByProviderId, Route::Channel);
    enqueue(ctx, parse(&body, &route).map_err(|e| ApiError::bad_request(e.to_string()))?).await
}

/// The app secret a channel's own URL is signed with: its own app's, else the deployment's.
async fn channel_app_secret(ctx: &AppContext, channel: &str) -> Result<Secret, ApiError> {
    let by = atende_core::conversations::events::ChannelRef::Channel(channel.to_owned());
    let found = channels::resolve(&ctx.deps, &by).await?.ok_or_else(|| ApiError::not_found("channel"))?;
    Ok(found.app_secret(&ctx.deps).await?.unwrap_or_else(|| ctx.meta.app_secret.clone()))
}

/// A bot's updates: `X-Telegram-Bot-Api-Secret-Token` must equal the secret token the
/// channel gave `setWebhook` (compared in constant time; 401 otherwise, nothing queued).
/// Telegram numbers updates (`update_id`) and redelivers until a 2xx: the events' ids
/// make a redelivery the same event.
async fn ingest_telegram(
    State(ctx): State<AppContext>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(too_large)?;
    let unauthorized =
        || ApiError::unauthorized("the X-Telegram-Bot-Api-Secret-Token header is missing or wrong");
    let given =
        headers.get(telegram::SECRET_HEADER).and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let by = atende_core::conversations::events::ChannelRef::Channel(channel.clone());
    let found = channels::resolve(&ctx.deps, &by).await?.ok_or_else(unauthorized)?;
    let expected = found.webhook_secret(&ctx.deps).await?.ok_or_else(unauthorized)?;
    if !bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        return Err(unauthorized());
    }
    enqueue(
        &ctx,
        telegram::webhook::parse(&body, &channel).map_err(|e| ApiError::bad_request(e.to_string()))?,
    )
    .await
}

fn too_large(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "webhook bodies are at most 1 MiB")
    } else {
        ApiError::bad_request(e.body_text())
    }
}

/// 401 unless `X-Hub-Signature-256` is `body`'s HMAC with `secret`.
fn signed(secret: &Secret, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !signature::verify(secret.expose().as_bytes(), body, header) {
        return Err(ApiError::unauthorized("the X-Hub-Signature-256 signature is missing or wrong"));
    }
    Ok(())
}

/// Queues a verified payload's events for the `inbound` function; 200 only once they are.
async fn enqueue(ctx: &AppContext, events: Vec<InboundEvent>) -> Result<StatusCode, ApiError> {
    let messages: Vec<OutgoingMessage> = events
        .iter()
        .map(|event| {
            let body = serde_json::to_string(event).unwrap_or_default();
            OutgoingMessage::new(body).group(event.group()).dedup(event.dedup_id())
        })
        .collect();
    if !messages.is_empty() {
        // Providers retry anything but a 2xx: nothing is acknowledged before it is enqueued.
        ctx.deps.queue.send_batch(atende_core::queues::INBOUND, messages).await.map_err(|e| {
            tracing::error!(error = %e, "webhook events not enqueued");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
        })?;
    }
    tracing::info!(events = events.len(), "webhook accepted");
    Ok(StatusCode::OK)
}

/// Asaas' deliveries for one account: the `asaas-access-token` header must equal the
/// account's webhook token (compared in constant time; 401 otherwise, nothing queued).
/// A payment event is queued for the `payments` function, which applies each event id
/// once; 200 only once it is queued (Asaas retries anything else, and pauses the account's
/// queue after 15 failures in a row, so an event of no interest is answered 200 at once).
async fn ingest_asaas(
    State(ctx): State<AppContext>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(too_large)?;
    let unauthorized = || ApiError::unauthorized("the asaas-access-token header is missing or wrong");
    let token = headers.get("asaas-access-token").and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let expected = atende_core::payments::settings::webhook_token(&ctx.deps, &account)
        .await?
        .ok_or_else(unauthorized)?;
    if !bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes())) {
        return Err(unauthorized());
    }
    let event =
        atende_providers::asaas::webhook::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let Some(event) = event else {
        return Ok(StatusCode::OK);
    };
    let job = atende_core::jobs::PaymentJob::Event { account_id: account, event };
    atende_core::jobs::enqueue_payment(&ctx.deps, &job, std::time::Duration::ZERO).await.map_err(|e| {
        tracing::error!(error = %e, "payment event not enqueued");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
    })?;
    Ok(StatusCode::OK)
}
