//! Uploads: files agents attach to messages, kept per account under `uploads/<account>/`.

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use serde::Serialize;
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
    if bytes.is_empty() {
        return Err(ServiceError::invalid("the upload is empty"));
    }
    if bytes.len() > MAX_UPLOAD {
        return Err(ServiceError::invalid("uploads are at most 100 MB"));
    }
    let content_type = content_type.split(';').next().unwrap_or("application/octet-stream").trim().to_owned();
    let key = format!("{}{}", crate::keys::upload_prefix(&caller.account_id), deps.ids.new_id());
    let size = bytes.len();
    deps.blob.put(&key, bytes, &content_type).await?;
    let url = deps.blob.presigned_get_url(&key, Duration::from_secs(3600)).await?;
    Ok(Upload { blob_key: key, content_type, size, url })
}
