//! The data key that seals stored secrets, under a KMS key (envelope encryption): KMS makes
//! a 256-bit data key once and returns it with its encrypted copy; only the encrypted copy
//! is stored, and each cold start asks KMS to decrypt it.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("KMS failed: {0}")]
    Backend(String),
    #[error("KMS gave a data key that is not 32 bytes")]
    BadKey,
}

#[derive(Clone)]
pub struct KmsKeys {
    client: aws_sdk_kms::Client,
    key_id: String,
}

fn key32(bytes: &[u8]) -> Result<[u8; 32], KmsError> {
    bytes.try_into().map_err(|_| KmsError::BadKey)
}

impl KmsKeys {
    pub fn new(client: aws_sdk_kms::Client, key_id: &str) -> Self {
        Self { client, key_id: key_id.to_owned() }
    }

    /// A new data key: (the key, its copy encrypted under the KMS key).
    pub async fn generate(&self) -> Result<([u8; 32], Vec<u8>), KmsError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await
            .map_err(|e| KmsError::Backend(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
        let plain = out.plaintext().ok_or(KmsError::BadKey)?;
        let encrypted = out.ciphertext_blob().ok_or(KmsError::BadKey)?;
        Ok((key32(plain.as_ref())?, encrypted.as_ref().to_vec()))
    }

    /// The data key an encrypted copy holds.
    pub async fn decrypt(&self, encrypted: &[u8]) -> Result<[u8; 32], KmsError> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(encrypted.to_vec()))
            .send()
            .await
            .map_err(|e| KmsError::Backend(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
        key32(out.plaintext().ok_or(KmsError::BadKey)?.as_ref())
    }
}

/// Makes a symmetric KMS key (for tests and local stacks on moto); its id.
pub async fn create_key(client: &aws_sdk_kms::Client, description: &str) -> Result<String, KmsError> {
    let out = client
        .create_key()
        .description(description)
        .send()
        .await
        .map_err(|e| KmsError::Backend(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
    out.key_metadata().map(|m| m.key_id().to_owned()).ok_or(KmsError::BadKey)
}
