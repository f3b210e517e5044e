//! The agents' CRM tools: quick replies, kanban panels, classification reasons and CSAT.

use crate::dto::SessionView;
use atende_core::conversations::variables::{self, RenderFor, RenderedReply};
use atende_core::conversations::{cards, sessions};
use atende_core::crm::panels::{
    self, Board, Card, CardMove, CardPatch, NewCard, Panel, PanelInput, PanelList,
};
use atende_core::crm::quick_replies::{self, QuickReply, QuickReplyInput, QuickReplyList};
use atende_core::crm::reasons::{self, Classification, Reason, ReasonInput, ReasonList};
use atende_core::csat::{self, CsatResults, CsatSettings, ResultsQuery, Scope, Survey};
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
pub struct QuickReplyQuery {
    /// Only replies whose shortcut starts with this (a leading `/` is ignored).
    pub q: Option<String>,
}

/// The quick replies the caller may use (admins: all), by shortcut.
#[utoipa::path(operation_id = "list_quick_replies", get, path = "/v1/quick-replies", tag = "quick replies", security(("bearer" = [])),
    params(QuickReplyQuery), responses((status = 200, body = QuickReplyList)))]
pub async fn list_replies(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<QuickReplyQuery>,
) -> Result<Json<QuickReplyList>, ApiError> {
    Ok(Json(quick_replies::list(&ctx.deps, &caller, q.q.as_deref()).await?))
}

/// Create a quick reply: `me` (anyone), `team` (its supervisors, admins), `everyone` (admins).
#[utoipa::path(operation_id = "create_quick_reply", post, path = "/v1/quick-replies", tag = "quick replies", security(("bearer" = [])),
    request_body = QuickReplyInput,
    responses((status = 201, body = QuickReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_reply(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<QuickReplyInput>,
) -> Result<(StatusCode, Json<QuickReply>), ApiError> {
    Ok((StatusCode::CREATED, Json(quick_replies::create(&ctx.deps, &caller, input).await?)))
}

/// One quick reply the caller may use.
#[utoipa::path(operation_id = "get_quick_reply", get, path = "/v1/quick-replies/{id}", tag = "quick replies", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = QuickReply), (status = 404, body = ErrorBody)))]
pub async fn get_reply(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<QuickReply>, ApiError> {
    Ok(Json(quick_replies::usable(&ctx.deps, &caller, &id).await?))
}

/// Replace a quick reply (whoever may create it).
#[utoipa::path(operation_id = "update_quick_reply", put, path = "/v1/quick-replies/{id}", tag = "quick replies", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = QuickReplyInput,
    responses((status = 200, body = QuickReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_reply(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<QuickReplyInput>,
) -> Result<Json<QuickReply>, ApiError> {
    Ok(Json(quick_replies::update(&ctx.deps, &caller, &id, input).await?))
}

/// Delete a quick reply (whoever may create it).
#[utoipa::path(operation_id = "delete_quick_reply", delete, path = "/v1/quick-replies/{id}", tag = "quick replies", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_reply(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    quick_replies::delete(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A quick reply filled for a session: `{{name}}`, `{{first_name}}`, `{{phone}}`,
/// `{{email}}`, `{{protocol}}`, `{{agent.name}}`, `{{custom.<key>}}`.
#[utoipa::path(operation_id = "render_quick_reply", post, path = "/v1/quick-replies/{id}/render", tag = "quick replies", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RenderFor,
    responses((status = 200, body = RenderedReply), (status = 404, body = ErrorBody)))]
pub async fn render_reply(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RenderFor>,
) -> Result<Json<RenderedReply>, ApiError> {
    Ok(Json(variables::render_quick_reply(&ctx.deps, &caller, &id, input).await?))
}

/// The account's kanban panels, by name.
#[utoipa::path(operation_id = "list_panels", get, path = "/v1/panels", tag = "panels", security(("bearer" = [])),
    responses((status = 200, body = PanelList), (status = 403, body = ErrorBody)))]
pub async fn list_panels(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PanelList>, ApiError> {
    Ok(Json(panels::list(&ctx.deps, &caller).await?))
}

/// Create a panel with its columns (admins).
#[utoipa::path(operation_id = "create_panel", post, path = "/v1/panels", tag = "panels", security(("bearer" = [])),
    request_body = PanelInput,
    responses((status = 201, body = Panel), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_panel(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<PanelInput>,
) -> Result<(StatusCode, Json<Panel>), ApiError> {
    Ok((StatusCode::CREATED, Json(panels::create(&ctx.deps, &caller, input).await?)))
}

/// A panel's board: its columns in order, each with its cards in order.
#[utoipa::path(operation_id = "get_panel_board", get, path = "/v1/panels/{id}", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Board), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_board(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(panels::board(&ctx.deps, &caller, &id).await?))
}

/// Rename a panel, or add, rename, reorder and remove columns (admins; a column with
/// cards stays).
#[utoipa::path(operation_id = "update_panel", put, path = "/v1/panels/{id}", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PanelInput,
    responses((status = 200, body = Panel), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_panel(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PanelInput>,
) -> Result<Json<Panel>, ApiError> {
    Ok(Json(panels::update(&ctx.deps, &caller, &id, input).await?))
}

/// Delete a panel and its cards (admins).
#[utoipa::path(operation_id = "delete_panel", delete, path = "/v1/panels/{id}", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_panel(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    panels::delete(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a card for a contact (at the end of its column).
#[utoipa::path(operation_id = "create_card", post, path = "/v1/panels/{id}/cards", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewCard,
    responses((status = 201, body = Card), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_card(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<NewCard>,
) -> Result<(StatusCode, Json<Card>), ApiError> {
    Ok((StatusCode::CREATED, Json(cards::add(&ctx.deps, &caller, &id, input).await?)))
}

/// Change a card's title, value, owner or due date.
#[utoipa::path(operation_id = "update_card", patch, path = "/v1/panels/{id}/cards/{card_id}", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path), ("card_id" = String, Path)), request_body = CardPatch,
    responses((status = 200, body = Card), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_card(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, card)): Path<(String, String)>,
    JsonBody(patch): JsonBody<CardPatch>,
) -> Result<Json<Card>, ApiError> {
    Ok(Json(panels::update_card(&ctx.deps, &caller, &id, &card, patch).await?))
}

/// Delete a card.
#[utoipa::path(operation_id = "delete_card", delete, path = "/v1/panels/{id}/cards/{card_id}", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path), ("card_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_card(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, card)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    panels::delete_card(&ctx.deps, &caller, &id, &card).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move a card to a column, right after another card (or to the top).
#[utoipa::path(operation_id = "move_card", post, path = "/v1/panels/{id}/cards/{card_id}/move", tag = "panels", security(("bearer" = [])),
    params(("id" = String, Path), ("card_id" = String, Path)), request_body = CardMove,
    responses((status = 200, body = Card), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_card(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, card)): Path<(String, String)>,
    JsonBody(to): JsonBody<CardMove>,
) -> Result<Json<Card>, ApiError> {
    Ok(Json(panels::move_card(&ctx.deps, &caller, &id, &card, to).await?))
}

/// The account's classification reasons, by category then name.
#[utoipa::path(operation_id = "list_classification_reasons", get, path = "/v1/classification-reasons", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = ReasonList)))]
pub async fn list_reasons(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ReasonList>, ApiError> {
    Ok(Json(reasons::list(&ctx.deps, &caller).await?))
}

/// Create a classification reason (admins) under `won`, `lost`, `question` or `other`.
#[utoipa::path(operation_id = "create_classification_reason", post, path = "/v1/classification-reasons", tag = "sessions", security(("bearer" = [])),
    request_body = ReasonInput,
    responses((status = 201, body = Reason), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_reason(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<ReasonInput>,
) -> Result<(StatusCode, Json<Reason>), ApiError> {
    Ok((StatusCode::CREATED, Json(reasons::create(&ctx.deps, &caller, input).await?)))
}

/// One classification reason.
#[utoipa::path(operation_id = "get_classification_reason", get, path = "/v1/classification-reasons/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Reason), (status = 404, body = ErrorBody)))]
pub async fn get_reason(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Reason>, ApiError> {
    Ok(Json(reasons::get(&ctx.deps, &caller, &id).await?))
}

/// Change a classification reason (admins).
#[utoipa::path(operation_id = "update_classification_reason", put, path = "/v1/classification-reasons/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReasonInput,
    responses((status = 200, body = Reason), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_reason(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ReasonInput>,
) -> Result<Json<Reason>, ApiError> {
    Ok(Json(reasons::update(&ctx.deps, &caller, &id, input).await?))
}

/// Delete a classification reason (admins); classified sessions keep its id.
#[utoipa::path(operation_id = "delete_classification_reason", delete, path = "/v1/classification-reasons/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_reason(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    reasons::delete(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a completed session's classification (only who completed it).
#[utoipa::path(operation_id = "reclassify_session", put, path = "/v1/sessions/{id}/classification", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Classification,
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reclassify(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Classification>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(sessions::reclassify(&ctx.deps, &caller, &id, input).await?.into()))
}

/// A team's CSAT settings (disabled when never set).
#[utoipa::path(operation_id = "get_team_csat", get, path = "/v1/teams/{id}/csat", tag = "csat", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CsatSettings), (status = 404, body = ErrorBody)))]
pub async fn get_team_csat(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CsatSettings>, ApiError> {
    Ok(Json(csat::get_settings(&ctx.deps, &caller, Scope::Team, &id).await?))
}

/// Set a team's CSAT settings (admins).
#[utoipa::path(operation_id = "put_team_csat", put, path = "/v1/teams/{id}/csat", tag = "csat", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CsatSettings,
    responses((status = 200, body = CsatSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_team_csat(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<CsatSettings>,
) -> Result<Json<CsatSettings>, ApiError> {
    Ok(Json(csat::put_settings(&ctx.deps, &caller, Scope::Team, &id, input).await?))
}

/// A channel's CSAT settings (they override its teams').
#[utoipa::path(operation_id = "get_channel_csat", get, path = "/v1/channels/{id}/csat", tag = "csat", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CsatSettings), (status = 404, body = ErrorBody)))]
pub async fn get_channel_csat(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CsatSettings>, ApiError> {
    Ok(Json(csat::get_settings(&ctx.deps, &caller, Scope::Channel, &id).await?))
}

/// Set a channel's CSAT settings (admins).
#[utoipa::path(operation_id = "put_channel_csat", put, path = "/v1/channels/{id}/csat", tag = "csat", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CsatSettings,
    responses((status = 200, body = CsatSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_channel_csat(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<CsatSettings>,
) -> Result<Json<CsatSettings>, ApiError> {
    Ok(Json(csat::put_settings(&ctx.deps, &caller, Scope::Channel, &id, input).await?))
}

/// A session's survey and its answer.
#[utoipa::path(operation_id = "get_session_csat", get, path = "/v1/sessions/{id}/csat", tag = "csat", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Survey), (status = 404, body = ErrorBody)))]
pub async fn session_csat(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Survey>, ApiError> {
    Ok(Json(csat::of_session(&ctx.deps, &caller, &id).await?))
}

/// CSAT results of a period per agent and team, per scale (admins; a team's supervisors
/// with its `team_id`).
#[utoipa::path(operation_id = "csat_results", get, path = "/v1/csat/results", tag = "csat", security(("bearer" = [])),
    params(ResultsQuery), responses((status = 200, body = CsatResults), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn csat_results(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<ResultsQuery>,
) -> Result<Json<CsatResults>, ApiError> {
    Ok(Json(csat::results(&ctx.deps, &caller, q).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(list_replies, create_reply))
        .routes(routes!(get_reply, update_reply, delete_reply))
        .routes(routes!(render_reply))
        .routes(routes!(list_panels, create_panel))
        .routes(routes!(get_board, update_panel, delete_panel))
        .routes(routes!(create_card))
        .routes(routes!(update_card, delete_card))
        .routes(routes!(move_card))
        .routes(routes!(list_reasons, create_reason))
        .routes(routes!(get_reason, update_reason, delete_reason))
        .routes(routes!(reclassify))
        .routes(routes!(get_team_csat, put_team_csat))
        .routes(routes!(get_channel_csat, put_channel_csat))
        .routes(routes!(session_csat))
        .routes(routes!(csat_results))
}
