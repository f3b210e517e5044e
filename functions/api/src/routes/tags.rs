use crate::dto::SessionView;
use atende_core::conversations::{sessions, tagging};
use atende_core::crm::tags::{self, NewTag, Tag, TagList, TagPatch};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::JsonBody;
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's tags, by name.
#[utoipa::path(operation_id = "list_tags", get, path = "/v1/tags", tag = "tags", security(("bearer" = [])), responses((status = 200, body = TagList)))]
pub async fn list(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TagList>, ApiError> {
    Ok(Json(tags::list(&ctx.deps, &caller).await?))
}

/// Create a tag (admins); names are unique per account, ignoring case.
#[utoipa::path(operation_id = "create_tag", post, path = "/v1/tags", tag = "tags", security(("bearer" = [])), request_body = NewTag,
    responses((status = 201, body = Tag), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewTag>,
) -> Result<(StatusCode, Json<Tag>), ApiError> {
    Ok((StatusCode::CREATED, Json(tags::create(&ctx.deps, &caller, input).await?)))
}

/// One tag.
#[utoipa::path(operation_id = "get_tag", get, path = "/v1/tags/{id}", tag = "tags", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Tag), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Tag>, ApiError> {
    Ok(Json(tags::get(&ctx.deps, &caller, &id).await?))
}

/// Rename or recolour a tag (admins): contacts carry its id, so it changes everywhere.
#[utoipa::path(operation_id = "update_tag", patch, path = "/v1/tags/{id}", tag = "tags", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = TagPatch,
    responses((status = 200, body = Tag), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<TagPatch>,
) -> Result<Json<Tag>, ApiError> {
    Ok(Json(tags::update(&ctx.deps, &caller, &id, patch).await?))
}

/// Delete a tag (admins); it is taken off every contact and session.
#[utoipa::path(operation_id = "delete_tag", delete, path = "/v1/tags/{id}", tag = "tags", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tagging::delete_tag(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A session's tags, all at once.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SessionTags {
    /// Ids of the account's tags (at most 20); `[]` takes them all off.
    pub tags: Vec<String>,
}

/// Set a session's tags (whoever may act on the session).
#[utoipa::path(operation_id = "set_session_tags", put, path = "/v1/sessions/{id}/tags", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SessionTags,
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_session_tags(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SessionTags>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(sessions::set_tags(&ctx.deps, &caller, &id, &body.tags).await?.into()))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(set_session_tags))
}
