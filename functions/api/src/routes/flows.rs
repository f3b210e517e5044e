//! Chatbot flows: drafts, versions, the format's schema, channel triggers, and runs on a
//! session (start, stop, history).

use atende_core::flows::runs::{self, RunList, RunView, StartFlow};
use atende_core::flows::store::{self, ChannelTriggers, Flow, FlowList, FlowPatch, FlowVersion, NewFlow};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::JsonBody;
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The flow format as a JSON Schema (draft 2020-12): nodes, exits, conditions, actions.
#[utoipa::path(operation_id = "flow_schema", get, path = "/v1/flows/schema", tag = "flows", security(("bearer" = [])),
    responses((status = 200, body = Object)))]
pub async fn flow_schema(Authenticated(_caller): Authenticated) -> Json<Value> {
    Json(store::schema())
}

/// The account's flows.
#[utoipa::path(operation_id = "list_flows", get, path = "/v1/flows", tag = "flows", security(("bearer" = [])),
    responses((status = 200, body = FlowList)))]
pub async fn list_flows(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<FlowList>, ApiError> {
    Ok(Json(store::list(&ctx.deps, &caller).await?))
}

/// Create a flow (admins): a name and its draft graph (it may be incomplete until published).
#[utoipa::path(operation_id = "create_flow", post, path = "/v1/flows", tag = "flows", security(("bearer" = [])),
    request_body = NewFlow,
    responses((status = 201, body = Flow), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewFlow>,
) -> Result<(StatusCode, Json<Flow>), ApiError> {
    Ok((StatusCode::CREATED, Json(store::create(&ctx.deps, &caller, input).await?)))
}

#[utoipa::path(operation_id = "get_flow", get, path = "/v1/flows/{id}", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Flow), (status = 404, body = ErrorBody)))]
pub async fn get_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Flow>, ApiError> {
    Ok(Json(store::get(&ctx.deps, &caller, &id).await?))
}

/// Edit the draft (admins); published versions never change.
#[utoipa::path(operation_id = "update_flow", patch, path = "/v1/flows/{id}", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = FlowPatch,
    responses((status = 200, body = Flow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<FlowPatch>,
) -> Result<Json<Flow>, ApiError> {
    Ok(Json(store::update(&ctx.deps, &caller, &id, patch).await?))
}

/// Delete a flow no channel trigger uses (admins); runs on its versions go on.
#[utoipa::path(operation_id = "delete_flow", delete, path = "/v1/flows/{id}", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    store::delete(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish the draft as the next version (admins): a 422 lists every problem by node.
#[utoipa::path(operation_id = "publish_flow", post, path = "/v1/flows/{id}/publish", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 201, body = FlowVersion), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<FlowVersion>), ApiError> {
    Ok((StatusCode::CREATED, Json(store::publish(&ctx.deps, &caller, &id).await?)))
}

#[utoipa::path(operation_id = "get_flow_version", get, path = "/v1/flows/{id}/versions/{version}", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path), ("version" = u32, Path, minimum = 1)),
    responses((status = 200, body = FlowVersion), (status = 404, body = ErrorBody)))]
pub async fn get_flow_version(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<FlowVersion>, ApiError> {
    // Read as text: a version that is not a number names no version (404, as an unknown one).
    let version = version.parse().map_err(|_| atende_core::ServiceError::NotFound("flow version"))?;
    Ok(Json(store::get_version(&ctx.deps, &caller, &id, version).await?))
}

/// A channel's flows: for business hours, out of hours, on completion, and keywords.
#[utoipa::path(operation_id = "get_flow_triggers", get, path = "/v1/channels/{id}/flow-triggers", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ChannelTriggers), (status = 404, body = ErrorBody)))]
pub async fn get_flow_triggers(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ChannelTriggers>, ApiError> {
    Ok(Json(store::get_triggers(&ctx.deps, &caller, &id).await?))
}

/// Set a channel's flows (admins); each must be published.
#[utoipa::path(operation_id = "put_flow_triggers", put, path = "/v1/channels/{id}/flow-triggers", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ChannelTriggers,
    responses((status = 200, body = ChannelTriggers), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_flow_triggers(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ChannelTriggers>,
) -> Result<Json<ChannelTriggers>, ApiError> {
    Ok(Json(store::put_triggers(&ctx.deps, &caller, &id, input).await?))
}

/// Start a flow in a session (who may act on it): the bot answers until it hands over,
/// or a person assumes, sends, or stops it.
#[utoipa::path(operation_id = "start_session_flow", post, path = "/v1/sessions/{id}/flow", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = StartFlow,
    responses((status = 201, body = RunView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_session_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<StartFlow>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    Ok((StatusCode::CREATED, Json(runs::start(&ctx.deps, &caller, &id, input).await?)))
}

/// Stop the session's flow: nothing it queued is sent.
#[utoipa::path(operation_id = "stop_session_flow", post, path = "/v1/sessions/{id}/flow/stop", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn stop_session_flow(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    runs::stop(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session's flow runs, newest first: who started each, where it waits or how it ended.
#[utoipa::path(operation_id = "list_session_flow_runs", get, path = "/v1/sessions/{id}/flow-runs", tag = "flows", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = RunList), (status = 404, body = ErrorBody)))]
pub async fn list_session_flow_runs(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RunList>, ApiError> {
    Ok(Json(runs::list(&ctx.deps, &caller, &id).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(flow_schema))
        .routes(routes!(list_flows, create_flow))
        .routes(routes!(get_flow, update_flow, delete_flow))
        .routes(routes!(publish_flow))
        .routes(routes!(get_flow_version))
        .routes(routes!(get_flow_triggers, put_flow_triggers))
        .routes(routes!(start_session_flow))
        .routes(routes!(stop_session_flow))
        .routes(routes!(list_session_flow_runs))
}
