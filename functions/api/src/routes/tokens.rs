use atende_core::accounts::tokens::{self, ApiTokenList, CreatedApiToken, NewApiToken};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::JsonBody;
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// API tokens of the account (admins); secrets are never listed.
#[utoipa::path(operation_id = "list_api_tokens", get, path = "/v1/api-tokens", tag = "api-tokens", security(("bearer" = [])),
    responses((status = 200, body = ApiTokenList), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ApiTokenList>, ApiError> {
    Ok(Json(tokens::list(&ctx.deps, &caller).await?))
}

/// Create an API token (admins). The token is in this response only.
#[utoipa::path(operation_id = "create_api_token", post, path = "/v1/api-tokens", tag = "api-tokens", security(("bearer" = [])), request_body = NewApiToken,
    responses((status = 201, body = CreatedApiToken), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(tokens::create(&ctx.deps, &caller, input).await?)))
}

/// Revoke an API token (admins).
#[utoipa::path(operation_id = "revoke_api_token", delete, path = "/v1/api-tokens/{id}", tag = "api-tokens", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tokens::revoke(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(revoke))
}
