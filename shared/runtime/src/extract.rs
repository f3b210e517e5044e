//! Extractors whose rejections are the API's JSON errors instead of axum's plain text.

use crate::http_error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body: always a JSON object. Malformed JSON, another top-level value or wrong
/// fields → 400, wrong content type → 415, too large → 413. A number with a zero fraction
/// (`2.0`) is read as the integer it is, as JSON Schema counts it.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<serde_json::Value>::from_request(request, state).await {
            Ok(axum::Json(mut value)) => {
                if !value.is_object() {
                    return Err(ApiError::bad_request("the body must be a JSON object"));
                }
                integral_floats_as_integers(&mut value);
                serde_json::from_value(value)
                    .map(JsonBody)
                    .map_err(|e| ApiError::bad_request(format!("the body does not fit: {e}")))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            )),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the body is too large"),
            ),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::bad_request(format!("the body does not fit: {}", e.body_text())))
            }
            Err(e) => Err(ApiError::bad_request(format!("the body is not valid JSON: {}", e.body_text()))),
        }
    }
}

/// `2.0` → `2`, everywhere in `value` (serde refuses a float for an integer field).
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 every integer is exact in an f64.
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// Query parameters; anything malformed → 400.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(QueryParams(value)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(ApiError::bad_request(format!("the query string does not fit: {}", e.body_text())))
            }
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}
