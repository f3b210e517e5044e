use atende_core::accounts::User;
use atende_core::accounts::login::{self, Credentials, Me};
use atende_core::accounts::users::{self, MePatch};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::JsonBody;
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::source::Source;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// Log in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 429, description = "Too many failed logins for this e-mail or address; see Retry-After.", body = ErrorBody)))]
pub async fn login(
    State(ctx): State<AppContext>,
    Source(source): Source,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Json<LoginResponse>, ApiError> {
    let user = login::login(&ctx.deps, &credentials, source).await?;
    let (token, expires_at) = ctx.auth.issue(&user)?;
    Ok(Json(LoginResponse { token, expires_at, user }))
}

/// The caller, their account and their teams.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Me>, ApiError> {
    Ok(Json(login::me(&ctx.deps, &caller).await?))
}

/// Change one's own name, display name or password (the password needs the current one).
#[utoipa::path(patch, path = "/v1/me", tag = "auth", security(("bearer" = [])), request_body = MePatch,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn update_me(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(patch): JsonBody<MePatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(users::update_me(&ctx.deps, &caller, patch).await?))
}

/// `/v1/me` (behind authentication).
pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(me, update_me))
}

/// `/v1/auth/login` (public).
pub fn public_router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(login))
}
