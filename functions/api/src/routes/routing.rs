//! Wallets, business hours, keep-alive, scheduled messages.

use atende_core::conversations::wallets::{self, Wallet, WalletInput, WalletList};
use atende_core::time::business_hours::{self, BusinessHours, HoursStatus};
use atende_core::time::keep_alive::{self, KeepAlive};
use atende_core::time::scheduled::{
    self, NewScheduled, Reschedule, ScheduledFilter, ScheduledList, ScheduledMessage,
};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Ctx = State<AppContext>;

#[utoipa::path(get, path = "/v1/wallets", tag = "routing", security(("bearer" = [])), responses((status = 200, body = WalletList)))]
pub async fn list_wallets(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
) -> Result<Json<WalletList>, ApiError> {
    Ok(Json(wallets::list(&ctx.deps, &c).await?))
}

#[utoipa::path(post, path = "/v1/wallets", tag = "routing", security(("bearer" = [])), request_body = WalletInput,
    responses((status = 201, body = Wallet), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_wallet(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(i): JsonBody<WalletInput>,
) -> Result<(StatusCode, Json<Wallet>), ApiError> {
    Ok((StatusCode::CREATED, Json(wallets::create(&ctx.deps, &c, i).await?)))
}

#[utoipa::path(get, path = "/v1/wallets/{id}", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Wallet), (status = 404, body = ErrorBody)))]
pub async fn get_wallet(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Wallet>, ApiError> {
    Ok(Json(wallets::get(&ctx.deps, &c, &id).await?))
}

#[utoipa::path(put, path = "/v1/wallets/{id}", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)), request_body = WalletInput,
    responses((status = 200, body = Wallet), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_wallet(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<WalletInput>,
) -> Result<Json<Wallet>, ApiError> {
    Ok(Json(wallets::update(&ctx.deps, &c, &id, i).await?))
}

#[utoipa::path(delete, path = "/v1/wallets/{id}", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_wallet(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    wallets::delete(&ctx.deps, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Put a contact in the wallet.
#[utoipa::path(put, path = "/v1/wallets/{id}/contacts/{contact_id}", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), ("contact_id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn join_wallet(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path((id, contact)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    wallets::set_contact(&ctx.deps, &c, &contact, Some(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a contact out of the wallet.
#[utoipa::path(delete, path = "/v1/wallets/{id}/contacts/{contact_id}", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), ("contact_id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn leave_wallet(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path((id, contact)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    wallets::get(&ctx.deps, &c, &id).await?;
    wallets::set_contact(&ctx.deps, &c, &contact, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/business-hours", tag = "routing", security(("bearer" = [])),
    responses((status = 200, body = BusinessHours), (status = 404, body = ErrorBody)))]
pub async fn get_hours(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
) -> Result<Json<BusinessHours>, ApiError> {
    Ok(Json(business_hours::get(&ctx.deps, &c, None).await?))
}

#[utoipa::path(put, path = "/v1/business-hours", tag = "routing", security(("bearer" = [])), request_body = BusinessHours,
    responses((status = 200, body = BusinessHours), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_hours(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(h): JsonBody<BusinessHours>,
) -> Result<Json<BusinessHours>, ApiError> {
    Ok(Json(business_hours::put(&ctx.deps, &c, None, h).await?))
}

#[utoipa::path(delete, path = "/v1/business-hours", tag = "routing", security(("bearer" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_hours(State(ctx): Ctx, Authenticated(c): Authenticated) -> Result<StatusCode, ApiError> {
    business_hours::remove(&ctx.deps, &c, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Whose hours: a channel's own (else the account's).
    pub channel_id: Option<String>,
}

/// Open or closed now, and the next change.
#[utoipa::path(get, path = "/v1/business-hours/status", tag = "routing", security(("bearer" = [])), params(StatusQuery),
    responses((status = 200, body = HoursStatus)))]
pub async fn hours_status(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<HoursStatus>, ApiError> {
    if let Some(ch) = &q.channel_id {
        atende_core::conversations::channels::get(&ctx.deps, &c, ch).await?;
    }
    Ok(Json(business_hours::status(&ctx.deps, &c, q.channel_id.as_deref()).await?))
}

/// The channel's own hours; 404 when it has none (the account's apply, see
/// `GET /v1/business-hours/status?channel_id=…`).
#[utoipa::path(get, path = "/v1/channels/{id}/business-hours", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = BusinessHours), (status = 404, body = ErrorBody)))]
pub async fn get_channel_hours(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<BusinessHours>, ApiError> {
    Ok(Json(business_hours::get(&ctx.deps, &c, Some(&id)).await?))
}

#[utoipa::path(put, path = "/v1/channels/{id}/business-hours", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)), request_body = BusinessHours,
    responses((status = 200, body = BusinessHours), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_channel_hours(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(h): JsonBody<BusinessHours>,
) -> Result<Json<BusinessHours>, ApiError> {
    Ok(Json(business_hours::put(&ctx.deps, &c, Some(&id), h).await?))
}

#[utoipa::path(get, path = "/v1/channels/{id}/keep-alive", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = KeepAlive), (status = 404, body = ErrorBody)))]
pub async fn get_keep_alive(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<KeepAlive>, ApiError> {
    Ok(Json(keep_alive::get(&ctx.deps, &c, &id).await?))
}

/// Configure keep-alive; it acts only once `enabled` is true.
#[utoipa::path(put, path = "/v1/channels/{id}/keep-alive", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)), request_body = KeepAlive,
    responses((status = 200, body = KeepAlive), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_keep_alive(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(k): JsonBody<KeepAlive>,
) -> Result<Json<KeepAlive>, ApiError> {
    Ok(Json(keep_alive::put(&ctx.deps, &c, &id, k).await?))
}

#[utoipa::path(get, path = "/v1/scheduled-messages", tag = "routing", security(("bearer" = [])), params(ScheduledFilter),
    responses((status = 200, body = ScheduledList)))]
pub async fn list_scheduled(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    QueryParams(f): QueryParams<ScheduledFilter>,
) -> Result<Json<ScheduledList>, ApiError> {
    Ok(Json(scheduled::list(&ctx.deps, &c, f).await?))
}

#[utoipa::path(post, path = "/v1/scheduled-messages", tag = "routing", security(("bearer" = [])), request_body = NewScheduled,
    responses((status = 201, body = ScheduledMessage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_scheduled(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(i): JsonBody<NewScheduled>,
) -> Result<(StatusCode, Json<ScheduledMessage>), ApiError> {
    Ok((StatusCode::CREATED, Json(scheduled::create(&ctx.deps, &c, i).await?)))
}

#[utoipa::path(get, path = "/v1/scheduled-messages/{id}", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ScheduledMessage), (status = 404, body = ErrorBody)))]
pub async fn get_scheduled(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ScheduledMessage>, ApiError> {
    Ok(Json(scheduled::get(&ctx.deps, &c, &id).await?))
}

#[utoipa::path(post, path = "/v1/scheduled-messages/{id}/cancel", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ScheduledMessage), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_scheduled(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ScheduledMessage>, ApiError> {
    Ok(Json(scheduled::cancel(&ctx.deps, &c, &id).await?))
}

#[utoipa::path(post, path = "/v1/scheduled-messages/{id}/reschedule", tag = "routing", security(("bearer" = [])), params(("id" = String, Path)), request_body = Reschedule,
    responses((status = 200, body = ScheduledMessage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reschedule(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<Reschedule>,
) -> Result<Json<ScheduledMessage>, ApiError> {
    Ok(Json(scheduled::reschedule(&ctx.deps, &c, &id, i).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(list_wallets, create_wallet))
        .routes(routes!(get_wallet, update_wallet, delete_wallet))
        .routes(routes!(join_wallet, leave_wallet))
        .routes(routes!(get_hours, put_hours, delete_hours))
        .routes(routes!(hours_status))
        .routes(routes!(get_channel_hours, put_channel_hours))
        .routes(routes!(get_keep_alive, put_keep_alive))
        .routes(routes!(list_scheduled, create_scheduled))
        .routes(routes!(get_scheduled))
        .routes(routes!(cancel_scheduled))
        .routes(routes!(reschedule))
}
