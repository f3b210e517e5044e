use atende_core::accounts::User;
use atende_core::accounts::users::{self, NewUser, UserPage, UserPatch};
use atende_core::conversations::lifecycle::{self, UserDeletion};
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsers {
    /// Include logically deleted users.
    #[serde(default)]
    pub include_deleted: bool,
    /// The previous page's `next_cursor` (empty or absent: the first page).
    #[param(format = "cursor")]
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Users of the caller's account.
#[utoipa::path(operation_id = "list_users", get, path = "/v1/users", tag = "users", security(("bearer" = [])), params(ListUsers),
    responses((status = 200, body = UserPage)))]
pub async fn list(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<ListUsers>,
) -> Result<Json<UserPage>, ApiError> {
    Ok(Json(users::list(&ctx.deps, &caller, q.include_deleted, q.cursor, q.limit).await?))
}

/// Create a user (admins).
#[utoipa::path(operation_id = "create_user", post, path = "/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(users::create(&ctx.deps, &caller, input).await?)))
}

/// One user of the caller's account.
#[utoipa::path(operation_id = "get_user", get, path = "/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(users::get(&ctx.deps, &caller, &id).await?))
}

/// Change a user (admins).
#[utoipa::path(operation_id = "update_user", patch, path = "/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(users::update(&ctx.deps, &caller, &id, patch).await?))
}

/// Delete a user logically (admins); the sessions they own are completed, transferred or
/// returned to the queue as `open_sessions` says.
#[utoipa::path(operation_id = "delete_user", delete, path = "/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path), UserDeletion),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    QueryParams(how): QueryParams<UserDeletion>,
) -> Result<StatusCode, ApiError> {
    lifecycle::delete_user(&ctx.deps, &caller, &id, how).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get, update, delete))
}
