//! The console, embedded in the binary at build time (see `build.rs`) and served at `/`:
//! `index.html` for `/`, hashed files under `/assets/` cached for a year.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

static CONSOLE: Dir<'static> = include_dir!("$OUT_DIR/console");

/// What the console may load: itself, the API on its origin, and files from object storage
/// (presigned links: the local server's on one machine, S3's on AWS).
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob: https: http:; media-src 'self' blob: https: http:; \
    connect-src 'self' https: http: wss:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(index)).route("/assets/{*file}", get(asset))
}

async fn index() -> Response {
    file("index.html", "no-cache")
}

async fn asset(Path(name): Path<String>) -> Response {
    file(&format!("assets/{name}"), "public, max-age=31536000, immutable")
}

fn file(path: &str, cache: &'static str) -> Response {
    let Some(found) = CONSOLE.get_file(path) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "not_found", "message": "no such file"})),
        )
            .into_response();
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = found.contents().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.essence_str()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
