//! Payments through Asaas: the account's app settings, requests from a session, cancel,
//! refund, and the lists (all of the account's, a session's, a contact's).

use crate::dto::{PaymentListView, PaymentView};
use atende_core::payments::requests::{self, PaymentFilter, PaymentRequest, RefundRequest};
use atende_core::payments::settings::{self, PaymentSettingsInput, PaymentSettingsView};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The payment app (admins): enabled, environment, and whether the key and the webhook
/// token are set (they are never returned).
#[utoipa::path(operation_id = "get_payment_settings", get, path = "/v1/payment-settings", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = PaymentSettingsView), (status = 403, body = ErrorBody)))]
pub async fn get_payment_settings(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PaymentSettingsView>, ApiError> {
    Ok(Json(settings::get(&ctx.deps, &caller).await?))
}

/// Set the payment app (admins): the Asaas API key and the token Asaas will send in
/// `asaas-access-token` are stored sealed; a secret left out keeps the stored one.
#[utoipa::path(operation_id = "put_payment_settings", put, path = "/v1/payment-settings", tag = "payments", security(("bearer" = [])),
    request_body = PaymentSettingsInput,
    responses((status = 200, body = PaymentSettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_payment_settings(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<PaymentSettingsInput>,
) -> Result<Json<PaymentSettingsView>, ApiError> {
    Ok(Json(settings::put(&ctx.deps, &caller, input).await?))
}

/// Request a payment from the contact of a session the caller attends: the charge is made
/// at Asaas and its link sent to the contact right after (the answer is `requested`).
#[utoipa::path(operation_id = "request_payment", post, path = "/v1/sessions/{id}/payments", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PaymentRequest,
    responses((status = 201, body = PaymentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_payment(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PaymentRequest>,
) -> Result<(StatusCode, Json<PaymentView>), ApiError> {
    Ok((StatusCode::CREATED, Json(requests::request(&ctx.deps, &caller, &id, input).await?.into())))
}

/// A session's payments, with totals.
#[utoipa::path(operation_id = "list_session_payments", get, path = "/v1/sessions/{id}/payments", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PaymentListView), (status = 404, body = ErrorBody)))]
pub async fn list_session_payments(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentListView>, ApiError> {
    Ok(Json(requests::of_session(&ctx.deps, &caller, &id).await?.into()))
}

/// A contact's payments (in the sessions the caller may read), with totals.
#[utoipa::path(operation_id = "list_contact_payments", get, path = "/v1/contacts/{id}/payments", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PaymentListView), (status = 404, body = ErrorBody)))]
pub async fn list_contact_payments(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentListView>, ApiError> {
    Ok(Json(requests::of_contact(&ctx.deps, &caller, &id).await?.into()))
}

/// Every payment of the account (admins), newest first, filtered, with totals.
#[utoipa::path(operation_id = "list_payments", get, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(PaymentFilter), responses((status = 200, body = PaymentListView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_payments(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(filter): QueryParams<PaymentFilter>,
) -> Result<Json<PaymentListView>, ApiError> {
    Ok(Json(requests::list(&ctx.deps, &caller, filter).await?.into()))
}

/// A payment with its history.
#[utoipa::path(operation_id = "get_payment", get, path = "/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PaymentView), (status = 404, body = ErrorBody)))]
pub async fn get_payment(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    Ok(Json(requests::get(&ctx.deps, &caller, &id).await?.into()))
}

/// Cancel an unpaid payment (requested, pending or overdue; 409 otherwise): the charge is
/// deleted at Asaas.
#[utoipa::path(operation_id = "cancel_payment", post, path = "/v1/payments/{id}/cancel", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn cancel_payment(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    Ok(Json(requests::cancel(&ctx.deps, &caller, &id).await?.into()))
}

/// Refund a paid payment (confirmed or received; 409 otherwise), all of it or a part
/// (admins).
#[utoipa::path(operation_id = "refund_payment", post, path = "/v1/payments/{id}/refund", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RefundRequest,
    responses((status = 200, body = PaymentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn refund_payment(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RefundRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    Ok(Json(requests::refund(&ctx.deps, &caller, &id, input).await?.into()))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(get_payment_settings, put_payment_settings))
        .routes(routes!(request_payment, list_session_payments))
        .routes(routes!(list_contact_payments))
        .routes(routes!(list_payments))
        .routes(routes!(get_payment))
        .routes(routes!(cancel_payment))
        .routes(routes!(refund_payment))
}
