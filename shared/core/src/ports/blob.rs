//! Object storage for media and exports.

use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob key is not valid: {0}")]
    InvalidKey(String),
    #[error("blob storage failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where and how a client uploads one object straight to storage: a `PUT` of the file's
/// bytes to `url` with `headers` (its content type among them), until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

#[async_trait]
pub trait Blob: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// `None` when there is no object under `key`.
    async fn get(&self, key: &str) -> Result<Option<StoredBlob>, BlobError>;
    /// Deleting a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// A URL anyone holding it can GET the object from until it expires.
    async fn presigned_get_url(&self, key: &str, expires_in: Duration) -> Result<String, BlobError>;
    /// A URL the holder can `PUT` one object of `content_type` and `size` bytes to until it
    /// expires (uploads too big for a request to the API go straight to storage).
    async fn presigned_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedPut, BlobError>;
    /// The object's size and content type without its bytes; `None` when absent.
    async fn head(&self, key: &str) -> Result<Option<(u64, String)>, BlobError>;
}

/// Keys are relative paths of safe characters: no `..`, no leading `/`, no backslash.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 1024
        && !key.starts_with('/')
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=".contains(c));
    if ok { Ok(()) } else { Err(BlobError::InvalidKey(key.to_owned())) }
}
