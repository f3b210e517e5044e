use atende_core::audit::{self, AuditPage, AuditQuery};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::QueryParams;
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's audit log, newest first (admins): who changed users, teams, channels,
/// API tokens, webhook endpoints and settings, who completed sessions in bulk or erased a
/// contact, which logins were locked; when, and from which address.
#[utoipa::path(operation_id = "list_audit_entries", get, path = "/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(audit::list(&ctx.deps, &caller, query).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(list))
}
