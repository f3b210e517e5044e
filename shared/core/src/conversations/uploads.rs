//! Uploads: files agents attach to messages (and contact files to import), kept per
//! account under `uploads/<account>/`.
//!
//! Two ways in: the bytes in a request to the API (`store`, up to what the HTTP front
//! takes: API Gateway and Lambda cap a request at 6–10 MB), or straight to object storage
//! through a presigned `PUT` the API issues (`presign`: WhatsApp documents reach 100 MB).
//! The type and size are checked before the link is issued, the link holds exactly them,
//! and whoever uses the file checks them again (`check_stored`).

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// Nothing over 100 MB is accepted (WhatsApp's document limit).
pub const MAX_UPLOAD: usize = 100 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Upload {
    /// Pass as `blob_key` of a media message.
    pub blob_key: String,
    pub content_type: String,
    pub size: usize,
    /// A link to the file, valid for an hour.
    pub url: String,
}

pub async fn store(
    deps: &Deps,
    caller: &Caller,
    content_type: &str,
    bytes: Vec<u8>,
) -> ServiceResult<Upload> {
    let content_type = accepted(content_type, bytes.len() as u64)?;
    let key = new_key(deps, caller);
    let size = bytes.len();
    deps.blob.put(&key, bytes, &content_type).await?;
    let url = deps.blob.presigned_get_url(&key, Duration::from_secs(3600)).await?;
    Ok(Upload { blob_key: key, content_type, size, url })
}

/// What a client is about to upload.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadIntent {
    /// The file's name (kept for the message; not part of the key).
    pub filename: Option<String>,
    /// `image/jpeg`, `application/pdf`, `text/csv`, ...
    pub content_type: String,
    /// In bytes.
    pub size: u64,
}

/// Where to `PUT` the file, and the key to use it by.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadGrant {
    /// Pass as `blob_key` of a media message or of a contact import.
    pub blob_key: String,
    /// Always `PUT`.
    pub method: String,
    pub url: String,
    /// Send these headers with the bytes (the content type among them).
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// How long a presigned upload link lives.
const GRANT_TTL: Duration = Duration::from_secs(15 * 60);

/// The most a file of `content_type` may weigh, or why it is refused: what WhatsApp takes
/// (images 5 MB, audio and video 16 MB, documents 100 MB) and contact files (10 MB).
fn limit_for(content_type: &str) -> ServiceResult<u64> {
    const MB: u64 = 1024 * 1024;
    let limit = match content_type {
        "image/jpeg" | "image/png" | "image/webp" => 5 * MB,
        "audio/aac" | "audio/mp4" | "audio/mpeg" | "audio/amr" | "audio/ogg" | "video/mp4" | "video/3gpp" => {
            16 * MB
        }
        "text/csv" => 10 * MB,
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => 100 * MB,
        other => {
            return Err(ServiceError::invalid(format!(
                "content_type: {other} is not a type WhatsApp delivers (images jpeg/png/webp, audio aac/mp4/mpeg/amr/ogg, video mp4/3gpp, pdf, office documents, text, csv)"
            )));
        }
    };
    Ok(limit)
}

/// The file's type without parameters (`text/csv; charset=utf-8` → `text/csv`), if a file
/// of that type and `size` may be uploaded: the one check of every way in and every use.
fn accepted(content_type: &str, size: u64) -> ServiceResult<String> {
    let content_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let limit = limit_for(&content_type)?;
    if size == 0 {
        return Err(ServiceError::invalid("the file is empty"));
    }
    if size > limit {
        return Err(ServiceError::invalid(format!(
            "a {content_type} file takes at most {limit} bytes; this one has {size}"
        )));
    }
    Ok(content_type)
}

/// A new upload's key, under the account's prefix.
fn new_key(deps: &Deps, caller: &Caller) -> String {
    format!("{}{}", crate::keys::upload_prefix(&caller.account_id), deps.ids.new_id())
}

/// Issues a link to upload one file of the stated type and size straight to storage.
pub async fn presign(deps: &Deps, caller: &Caller, intent: UploadIntent) -> ServiceResult<UploadGrant> {
    let content_type = accepted(&intent.content_type, intent.size)?;
    let key = new_key(deps, caller);
    let put = deps.blob.presigned_put(&key, &content_type, intent.size, GRANT_TTL).await?;
    Ok(UploadGrant {
        blob_key: key,
        method: "PUT".into(),
        url: put.url,
        headers: put.headers.into_iter().collect(),
        expires_at: deps.clock.now() + chrono::Duration::from_std(GRANT_TTL).unwrap_or_default(),
    })
}

/// The stored upload's size and type, checked again where it is used: one of the
/// account's, present, of an accepted type within its limit.
pub async fn check_stored(deps: &Deps, account: &str, blob_key: &str) -> ServiceResult<(u64, String)> {
    // Uploads are per account: a key of another account is simply not found.
    if !crate::keys::is_upload_of(account, blob_key) {
        return Err(ServiceError::NotFound("upload"));
    }
    let (size, content_type) = deps.blob.head(blob_key).await?.ok_or(ServiceError::NotFound("upload"))?;
    Ok((size, accepted(&content_type, size)?))
}
