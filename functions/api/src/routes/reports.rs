use atende_core::reports::exports::{self, ReportExport};
use atende_core::reports::waiting::{self, WaitingNow};
use atende_core::reports::{self, Report, ReportQuery};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The period's figures from the counters (admins): sessions opened and completed; first
/// response, reply and resolution times (average wall-clock and business-hours seconds,
/// and the 0–1 h, 1–4 h, 4–8 h, 8–24 h, 24 h+ distribution); completions per
/// classification category and reason with their amounts; CSAT answers and averages per
/// scale; payments received. In one row or per day, team, agent or channel; days are the
/// account's local days.
#[utoipa::path(operation_id = "report_summary", get, path = "/v1/reports/summary", tag = "reports", security(("bearer" = [])),
    params(ReportQuery), responses((status = 200, body = Report), (status = 403, body = ErrorBody)))]
pub async fn summary(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(reports::summary(&ctx.deps, &caller, query).await?))
}

/// What waits now in each team's queue (admins): pending sessions and the oldest start.
#[utoipa::path(operation_id = "report_waiting", get, path = "/v1/reports/waiting", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = WaitingNow), (status = 403, body = ErrorBody)))]
pub async fn waiting(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<WaitingNow>, ApiError> {
    Ok(Json(waiting::now(&ctx.deps, &caller).await?))
}

/// Ask for a period's report as CSV (admins; `;`-separated, one column per figure). It is
/// written by a job: read the export until it is `ready`, then download its `url`.
#[utoipa::path(operation_id = "request_report_export", post, path = "/v1/reports/exports", tag = "reports", security(("bearer" = [])),
    request_body = ReportQuery,
    responses((status = 202, body = ReportExport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_export(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(query): JsonBody<ReportQuery>,
) -> Result<(StatusCode, Json<ReportExport>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(exports::request(&ctx.deps, &caller, query).await?)))
}

/// An export (admins); once `ready` it carries a download link valid for an hour.
#[utoipa::path(operation_id = "get_report_export", get, path = "/v1/reports/exports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ReportExport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_export(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ReportExport>, ApiError> {
    Ok(Json(exports::get(&ctx.deps, &caller, &id).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(waiting))
        .routes(routes!(request_export))
        .routes(routes!(get_export))
}
