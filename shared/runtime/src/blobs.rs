//! Serves the embedded blob store's presigned URLs: `GET /blobs/<key>?expires=&signature=`
//! reads an object, `PUT /blobs/<key>?expires=&content_type=&size=&signature=` uploads one
//! (what S3's presigned URLs do on AWS).

use crate::http_error::ApiError;
use atende_core::ports::Blob;
use atende_embedded::{FsBlob, SignedUpload};
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

#[derive(Deserialize)]
struct Signed {
    expires: i64,
    signature: String,
}

pub fn router(store: FsBlob) -> Router {
    Router::new()
        .route("/blobs/{*key}", get(serve).put(receive))
        .layer(DefaultBodyLimit::max(atende_core::conversations::uploads::MAX_UPLOAD))
        .with_state(store)
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

/// An upload to a presigned URL: exactly the type and size it was signed for.
async fn receive(
    State(store): State<FsBlob>,
    Path(key): Path<String>,
    Query(upload): Query<SignedUpload>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !store.verify_upload(&key, &upload) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the link is not valid or has expired",
        ));
    }
    let sent_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if sent_type != upload.content_type {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the Content-Type is not the one the link was issued for",
        ));
    }
    if body.len() as u64 != upload.size {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the body is not the size the link was issued for",
        ));
    }
    match store.put(&key, body.to_vec(), &upload.content_type).await {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(e) => Err(ApiError::unavailable(&e)),
    }
}
