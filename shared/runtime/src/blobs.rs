//! Serves the embedded blob store's presigned URLs: `GET /blobs/<key>?expires=&signature=`.

use crate::http_error::ApiError;
use atende_core::ports::Blob;
use atende_embedded::FsBlob;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

#[derive(Deserialize)]
struct Signed {
    expires: i64,
    signature: String,
}

pub fn router(store: FsBlob) -> Router {
    Router::new().route("/blobs/{*key}", get(serve)).with_state(store)
}

async fn serve(
    State(store): State<FsBlob>,
    Path(key): Path<String>,
    Query(signed): Query<Signed>,
) -> Result<Response, ApiError> {
    if !store.verify(&key, signed.expires, &signed.signature) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "the link is not valid or has expired",
        ));
    }
    match store.get(&key).await {
        Ok(Some(blob)) => Ok(([(header::CONTENT_TYPE, blob.content_type)], blob.bytes).into_response()),
        Ok(None) => Err(ApiError::not_found("blob")),
        Err(e) => Err(ApiError::unavailable(&e)),
    }
}
