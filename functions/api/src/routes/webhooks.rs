use atende_core::webhooks::delivery::{self, DeliveryPage, DeliveryQuery, Replay, Replayed};
use atende_core::webhooks::endpoints::{self, EndpointList, EndpointPatch, EndpointWithSecret, NewEndpoint};
use atende_core::webhooks::{EVENT_TYPES, Endpoint};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's outbound webhook endpoints (admins); secrets are never listed.
#[utoipa::path(operation_id = "list_webhook_endpoints", get, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = EndpointList), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
) -> Result<Json<EndpointList>, ApiError> {
    Ok(Json(endpoints::list(&ctx.deps, &c).await?))
}

/// Add an endpoint (admins). Its `whsec_` secret is in this answer only.
#[utoipa::path(operation_id = "create_webhook_endpoint", post, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])), request_body = NewEndpoint,
    responses((status = 201, body = EndpointWithSecret), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    JsonBody(input): JsonBody<NewEndpoint>,
) -> Result<(StatusCode, Json<EndpointWithSecret>), ApiError> {
    Ok((StatusCode::CREATED, Json(endpoints::create(&ctx.deps, &c, input).await?)))
}

#[utoipa::path(operation_id = "get_webhook_endpoint", get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Endpoint), (status = 403, body = ErrorBody)))]
pub async fn get(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoints::get(&ctx.deps, &c, &id).await?))
}

/// Change an endpoint; `enabled: true` re-enables one the system disabled.
#[utoipa::path(operation_id = "update_webhook_endpoint", patch, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)), request_body = EndpointPatch,
    responses((status = 200, body = Endpoint), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<EndpointPatch>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoints::update(&ctx.deps, &c, &id, patch).await?))
}

#[utoipa::path(operation_id = "delete_webhook_endpoint", delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    endpoints::delete(&ctx.deps, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret, in this answer only; the previous one keeps signing for 24 hours (each
/// delivery carries both signatures meanwhile).
#[utoipa::path(operation_id = "rotate_webhook_secret", post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = EndpointWithSecret), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rotate(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<EndpointWithSecret>, ApiError> {
    Ok(Json(endpoints::rotate_secret(&ctx.deps, &c, &id).await?))
}

/// The endpoint's delivery log, newest first: each event's status and attempts (when,
/// the endpoint's status, latency, the start of its answer).
#[utoipa::path(operation_id = "list_webhook_deliveries", get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), DeliveryQuery), responses((status = 200, body = DeliveryPage), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    Ok(Json(delivery::list(&ctx.deps, &c, &id, q).await?))
}

/// Send one event (`event_id`), or every event since a time (`since`), to the endpoint
/// again, with their same `webhook-id`s.
#[utoipa::path(operation_id = "replay_webhooks", post, path = "/v1/webhook-endpoints/{id}/replay", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)), request_body = Replay,
    responses((status = 202, body = Replayed), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn replay(
    State(ctx): State<AppContext>,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(what): JsonBody<Replay>,
) -> Result<(StatusCode, Json<Replayed>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(delivery::replay(&ctx.deps, &c, &id, what).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct EventTypes {
    pub items: Vec<&'static str>,
}

/// The event types an endpoint may take.
#[utoipa::path(operation_id = "list_webhook_event_types", get, path = "/v1/webhook-event-types", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = EventTypes)))]
pub async fn event_types(Authenticated(_caller): Authenticated) -> Json<EventTypes> {
    Json(EventTypes { items: EVENT_TYPES.to_vec() })
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(rotate))
        .routes(routes!(deliveries))
        .routes(routes!(replay))
        .routes(routes!(event_types))
}
