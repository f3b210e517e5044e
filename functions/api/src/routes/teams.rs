use atende_core::accounts::teams::{self, MemberList, MemberRoles, NewTeam, TeamList, TeamPatch};
use atende_core::accounts::{Membership, Team};
use atende_core::conversations::lifecycle::{self, TeamDeletion};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Teams of the caller's account.
#[utoipa::path(operation_id = "list_teams", get, path = "/v1/teams", tag = "teams", security(("bearer" = [])), responses((status = 200, body = TeamList)))]
pub async fn list(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TeamList>, ApiError> {
    Ok(Json(teams::list(&ctx.deps, &caller).await?))
}

/// Create a team (admins).
#[utoipa::path(operation_id = "create_team", post, path = "/v1/teams", tag = "teams", security(("bearer" = [])), request_body = NewTeam,
    responses((status = 201, body = Team), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewTeam>,
) -> Result<(StatusCode, Json<Team>), ApiError> {
    Ok((StatusCode::CREATED, Json(teams::create(&ctx.deps, &caller, input).await?)))
}

/// One team.
#[utoipa::path(operation_id = "get_team", get, path = "/v1/teams/{id}", tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Team), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Team>, ApiError> {
    Ok(Json(teams::get(&ctx.deps, &caller, &id).await?))
}

/// Rename a team, change its visibility rule, or make it the default (admins).
#[utoipa::path(operation_id = "update_team", patch, path = "/v1/teams/{id}", tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = TeamPatch,
    responses((status = 200, body = Team), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<TeamPatch>,
) -> Result<Json<Team>, ApiError> {
    Ok(Json(teams::update(&ctx.deps, &caller, &id, patch).await?))
}

/// Delete a team that is not the default (admins); its open sessions are completed or
/// moved as `open_sessions` says.
#[utoipa::path(operation_id = "delete_team", delete, path = "/v1/teams/{id}", tag = "teams", security(("bearer" = [])), params(("id" = String, Path), TeamDeletion),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    QueryParams(how): QueryParams<TeamDeletion>,
) -> Result<StatusCode, ApiError> {
    lifecycle::delete_team(&ctx.deps, &caller, &id, how).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team's members and supervisors, in membership order.
#[utoipa::path(operation_id = "list_team_members", get, path = "/v1/teams/{id}/members", tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MemberList), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(teams::members(&ctx.deps, &caller, &id).await?))
}

/// Add a user to a team or change their roles there (admins).
#[utoipa::path(operation_id = "set_team_member", put, path = "/v1/teams/{id}/members/{user_id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = MemberRoles,
    responses((status = 200, body = Membership), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_member(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, user_id)): Path<(String, String)>,
    JsonBody(roles): JsonBody<MemberRoles>,
) -> Result<Json<Membership>, ApiError> {
    Ok(Json(teams::set_member(&ctx.deps, &caller, &id, &user_id, roles).await?))
}

/// Remove a user from a team (admins).
#[utoipa::path(operation_id = "remove_team_member", delete, path = "/v1/teams/{id}/members/{user_id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    teams::remove_member(&ctx.deps, &caller, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(members))
        .routes(routes!(set_member, remove_member))
}
