//! The sealer: AES-256-GCM (the `aes-gcm` crate) with a random 96-bit nonce per seal, the
//! text stored as `sealed:v1:` + base64(nonce ‖ ciphertext ‖ tag). The key is derived
//! from the runtime's master secret (locally `<data dir>/secret.key`), or on AWS is the
//! deployment's data key, fetched from KMS on the first seal or open ([`KmsSealer`]): a
//! function that never touches a secret never calls KMS, and is not allowed to.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::Context;
use async_trait::async_trait;
use atende_aws::kms::KmsKeys;
use atende_core::ports::{SealError, Sealer, Table};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;

/// What marks a sealed text (anything else was stored before sealing existed).
pub const PREFIX: &str = "sealed:v1:";
const NONCE: usize = 12;

pub struct AesGcmSealer {
    cipher: Aes256Gcm,
}

impl AesGcmSealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)) }
    }

    pub fn seal_text(&self, plain: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed =
            self.cipher.encrypt(&nonce, plain.as_bytes()).expect("AES-GCM seals any text under 64 GiB");
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(raw))
    }

    pub fn open_text(&self, sealed: &str) -> Result<String, SealError> {
        let raw = sealed.strip_prefix(PREFIX).ok_or(SealError::Broken)?;
        let raw = STANDARD.decode(raw).map_err(|_| SealError::Broken)?;
        if raw.len() < NONCE {
            return Err(SealError::Broken);
        }
        let (nonce, body) = raw.split_at(NONCE);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), body).map_err(|_| SealError::Broken)?;
        String::from_utf8(plain).map_err(|_| SealError::Broken)
    }
}

#[async_trait]
impl Sealer for AesGcmSealer {
    async fn seal(&self, plain: &str) -> Result<String, SealError> {
        Ok(self.seal_text(plain))
    }

    async fn open(&self, sealed: &str) -> Result<String, SealError> {
        self.open_text(sealed)
    }
}

/// The AWS sealer: the deployment's data key (see [`kms_data_key`]) is
/// had from KMS on first use and kept for the life of the process; a failure is not kept,
/// so the next use asks again.
pub struct KmsSealer {
    table: Arc<dyn Table>,
    kms: KmsKeys,
    sealer: tokio::sync::OnceCell<AesGcmSealer>,
}

impl KmsSealer {
    pub fn new(table: Arc<dyn Table>, kms: KmsKeys) -> Self {
        Self { table, kms, sealer: tokio::sync::OnceCell::new() }
    }

    async fn sealer(&self) -> Result<&AesGcmSealer, SealError> {
        self.sealer
            .get_or_try_init(|| async {
                kms_data_key(self.table.as_ref(), &self.kms)
                    .await
                    .map(|key| AesGcmSealer::new(&key))
                    .map_err(|e| SealError::Unavailable(format!("{e:#}")))
            })
            .await
    }
}

#[async_trait]
impl Sealer for KmsSealer {
    async fn seal(&self, plain: &str) -> Result<String, SealError> {
        Ok(self.sealer().await?.seal_text(plain))
    }

    async fn open(&self, sealed: &str) -> Result<String, SealError> {
        self.sealer().await?.open_text(sealed)
    }
}

/// The deployment's data key for sealing secrets (envelope encryption): its copy encrypted
/// under the KMS key is kept in the table; the first cold start has KMS make one and stores
/// it with a not-exists condition (two racing starts keep the first), every start has KMS
/// decrypt the stored copy.
pub async fn kms_data_key(table: &dyn atende_core::ports::Table, kms: &KmsKeys) -> anyhow::Result<[u8; 32]> {
    use atende_core::ports::table::attr;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let key = atende_core::keys::sealing_key();
    for _ in 0..2 {
        if let Some(item) = table.get(&key).await.context("reading the sealing key")? {
            let encrypted = attr::get_s(&item, "encrypted_key")
                .and_then(|e| STANDARD.decode(e).ok())
                .context("the stored sealing key is not base64")?;
            return kms.decrypt(&encrypted).await.context("KMS did not decrypt the sealing key");
        }
        let (plain, encrypted) = kms.generate().await.context("KMS did not make a data key")?;
        let item = atende_core::ports::Item::from([
            ("pk".to_owned(), attr::s(&key.pk)),
            ("sk".to_owned(), attr::s(&key.sk)),
            ("encrypted_key".to_owned(), attr::s(STANDARD.encode(&encrypted))),
        ]);
        match table.put(item, Some(atende_core::ports::Condition::NotExists)).await {
            Ok(()) => return Ok(plain),
            // Another start stored one first: use that one.
            Err(atende_core::ports::TableError::ConditionFailed) => continue,
            Err(e) => return Err(e).context("storing the sealing key"),
        }
    }
    anyhow::bail!("the sealing key could neither be read nor stored")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_text_opens_with_its_key_only_and_never_shows_the_plain_text() {
        let sealer = AesGcmSealer::new(&[7; 32]);
        let a = sealer.seal_text("EAAB-token");
        let b = sealer.seal_text("EAAB-token");
        assert!(a.starts_with(PREFIX) && !a.contains("EAAB"));
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(sealer.open_text(&a).unwrap(), "EAAB-token");
        assert_eq!(AesGcmSealer::new(&[8; 32]).open_text(&a), Err(SealError::Broken), "another key");
        let mut tampered = a.clone();
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert_eq!(sealer.open_text(&tampered), Err(SealError::Broken), "a changed byte");
        assert_eq!(sealer.open_text("EAAB-token"), Err(SealError::Broken), "not sealed");
    }
}
