//! The blob port on S3.

use async_trait::async_trait;
use atende_core::ports::blob::{self, BlobError, StoredBlob};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use std::time::Duration;

#[derive(Clone)]
pub struct S3Blob {
    client: Client,
    bucket: String,
}

fn backend(e: impl std::error::Error) -> BlobError {
    BlobError::Backend(Box::new(std::io::Error::other(DisplayErrorContext(e).to_string())))
}

impl S3Blob {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

#[async_trait]
impl atende_core::ports::Blob for S3Blob {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        blob::validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<StoredBlob>, BlobError> {
        blob::validate_key(key)?;
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let content_type =
                    out.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
                let bytes = out.body.collect().await.map_err(backend)?.into_bytes().to_vec();
                Ok(Some(StoredBlob { bytes, content_type }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        blob::validate_key(key)?;
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(backend)?;
        Ok(())
    }

    async fn presigned_get_url(&self, key: &str, expires_in: Duration) -> Result<String, BlobError> {
        blob::validate_key(key)?;
        let config = PresigningConfig::expires_in(expires_in).map_err(backend)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(backend)?;
        Ok(request.uri().to_owned())
    }

    async fn presigned_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<atende_core::ports::blob::PresignedPut, BlobError> {
        blob::validate_key(key)?;
        let config = PresigningConfig::expires_in(expires_in).map_err(backend)?;
        let length = i64::try_from(size).map_err(backend)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(backend)?;
        // What a browser may set itself: the content type and S3's own headers (it sets the
        // length from the body).
        let headers = request
            .headers()
            .filter(|(name, _)| {
                let name = name.to_ascii_lowercase();
                name == "content-type" || name.starts_with("x-amz-")
            })
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok(atende_core::ports::blob::PresignedPut { url: request.uri().to_owned(), headers })
    }

    async fn head(&self, key: &str) -> Result<Option<(u64, String)>, BlobError> {
        blob::validate_key(key)?;
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some((
                out.content_length.unwrap_or(0).max(0) as u64,
                out.content_type.unwrap_or_else(|| "application/octet-stream".into()),
            ))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }
}
