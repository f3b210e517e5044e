//! Blobs on the filesystem under `<data dir>/blobs`, with presigned URLs served by the local
//! runtime at `/blobs/<key>?expires=<epoch>&signature=<hmac>`.

use async_trait::async_trait;
use atende_core::ports::Clock;
use atende_core::ports::blob::{self, BlobError, StoredBlob};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

const CONTENT_TYPE_SUFFIX: &str = ".content-type";

/// The query of a presigned upload: `PUT /blobs/<key>?expires=&content_type=&size=&signature=`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SignedUpload {
    pub expires: i64,
    pub content_type: String,
    pub size: u64,
    pub signature: String,
}

#[derive(Clone)]
pub struct FsBlob {
    root: PathBuf,
    /// Where the local runtime serves `/blobs`, e.g. `http://127.0.0.1:3000`.
    base_url: String,
    signing_key: Arc<Vec<u8>>,
    clock: Arc<dyn Clock>,
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Backend(Box::new(e))
}

impl FsBlob {
    pub fn open(
        root: &Path,
        base_url: &str,
        signing_key: Vec<u8>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)?;
        Ok(Self {
            root: root.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            signing_key: Arc::new(signing_key),
            clock,
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        blob::validate_key(key)?;
        if key.ends_with(CONTENT_TYPE_SUFFIX) {
            return Err(BlobError::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(key))
    }

    fn signature(&self, key: &str, expires: i64) -> String {
        // Keys of any length are accepted by HMAC; this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The signature of an upload: the method, the key, its expiry, type and size.
    fn upload_signature(&self, key: &str, expires: i64, content_type: &str, size: u64) -> String {
        self.signature(&format!("PUT\n{key}\n{content_type}\n{size}"), expires)
    }

    /// Whether a presigned upload's parameters are genuine and not expired.
    pub fn verify_upload(&self, key: &str, upload: &SignedUpload) -> bool {
        let fresh = upload.expires >= self.clock.now().timestamp();
        let expected = self.upload_signature(key, upload.expires, &upload.content_type, upload.size);
        fresh && bool::from(expected.as_bytes().ct_eq(upload.signature.as_bytes()))
    }

    /// Whether a presigned URL's parameters are genuine and not expired.
    pub fn verify(&self, key: &str, expires: i64, signature: &str) -> bool {
        let fresh = expires >= self.clock.now().timestamp();
        let genuine = bool::from(self.signature(key, expires).as_bytes().ct_eq(signature.as_bytes()));
        fresh && genuine
    }
}

#[async_trait]
impl atende_core::ports::Blob for FsBlob {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        // Write aside, then rename: a reader never sees half an object.
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        tokio::fs::write(&tmp, &bytes).await.map_err(io)?;
        tokio::fs::write(meta_path(&path), content_type).await.map_err(io)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<StoredBlob>, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let content_type = tokio::fs::read_to_string(meta_path(&path))
                    .await
                    .unwrap_or_else(|_| "application/octet-stream".into());
                Ok(Some(StoredBlob { bytes, content_type }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        for p in [meta_path(&path), path] {
            match tokio::fs::remove_file(&p).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    async fn presigned_get_url(&self, key: &str, expires_in: Duration) -> Result<String, BlobError> {
        self.path(key)?;
        let expires = self.clock.now().timestamp() + expires_in.as_secs() as i64;
        Ok(format!(
            "{}/blobs/{key}?expires={expires}&signature={}",
            self.base_url,
            self.signature(key, expires)
        ))
    }

    async fn presigned_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<atende_core::ports::blob::PresignedPut, BlobError> {
        self.path(key)?;
        let expires = self.clock.now().timestamp() + expires_in.as_secs() as i64;
        let upload = SignedUpload {
            expires,
            content_type: content_type.to_owned(),
            size,
            signature: self.upload_signature(key, expires, content_type, size),
        };
        let query = serde_urlencoded::to_string(&upload).map_err(|e| BlobError::Backend(Box::new(e)))?;
        Ok(atende_core::ports::blob::PresignedPut {
            url: format!("{}/blobs/{key}?{query}", self.base_url),
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
        })
    }

    async fn head(&self, key: &str) -> Result<Option<(u64, String)>, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => {
                let content_type = tokio::fs::read_to_string(meta_path(&path))
                    .await
                    .unwrap_or_else(|_| "application/octet-stream".into());
                Ok(Some((meta.len(), content_type)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
}

fn meta_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(CONTENT_TYPE_SUFFIX);
    PathBuf::from(s)
}
