//! The HTTP error: a status and `{"error": "<code>", "message": "<plain words>"}`. 5xx
//! bodies are opaque; their cause is logged.

use atende_core::ServiceError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_schema::ErrorBody;

/// The body of every error response.
pub mod utoipa_schema {
    use serde::Serialize;

    #[derive(Debug, Serialize, utoipa::ToSchema)]
    pub struct ErrorBody {
        /// A stable code to branch on, e.g. `not_found`, `invalid_request` (400: the request
        /// does not fit the schema), `validation_failed` (422: it fits, but breaks a rule).
        pub error: String,
        /// What went wrong, in plain words.
        pub message: String,
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (whole seconds, at least one).
    pub retry_after: Option<std::time::Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// Well-formed input (it fits the OpenAPI schema) that breaks a rule the schema cannot
    /// state: a date in the past, a zone name that is no IANA zone, two flags both off.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// A failure of ours: logged with its cause chain, answered opaquely.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %chain(cause), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; try again",
        )
    }

    /// A backend we depend on is unavailable: logged with its cause chain, answered
    /// opaquely; the same request may succeed later.
    pub fn unavailable(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %chain(cause), "a backend is unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is briefly unavailable; try again",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Invalid(m) => ApiError::unprocessable(m),
            ServiceError::Unauthenticated(m) => ApiError::unauthorized(m),
            ServiceError::TooManyAttempts { message, retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
            },
            ServiceError::BadCursor => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "the cursor is not one this listing returned; start again without it",
            ),
            ServiceError::Provider(cause) => {
                tracing::warn!(error = %cause, "the provider failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_unavailable",
                    "Meta did not answer as expected; try again in a moment",
                )
            }
            e if e.is_unavailable() => ApiError::unavailable(&e),
            e => ApiError::internal(&e),
        }
    }
}

/// "outer: inner: innermost", for logs. Most messages already embed their source's text
/// (`#[error("queue failed: {0}")]`); a source is appended only when it says more.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody { error: self.code.to_owned(), message: self.message }))
                .into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, whole_seconds(wait).max(1).into());
        }
        response
    }
}

/// A wait as the headers state it: whole seconds, rounded up.
pub fn whole_seconds(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
