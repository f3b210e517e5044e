//! Sealing secrets for storage: authenticated encryption, so a copy of the table (a
//! backup, an export, a stolen disk) does not hold customers' credentials in the clear.
//!
//! Sealing and opening are asynchronous because the key may be fetched on first use (in
//! AWS a KMS data key): a function that never touches a secret never needs the key, nor
//! the permission to decrypt it.

use crate::secret::Secret;
use async_trait::async_trait;

/// Why a sealed text does not open (or a text cannot be sealed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed text is damaged or was sealed with another key")]
    Broken,
    /// The sealing key could not be had (KMS unreachable or refusing): retrying may help.
    #[error("the sealing key is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Sealer: Send + Sync {
    /// `plain` sealed for storage; sealing the same text twice gives two different texts.
    async fn seal(&self, plain: &str) -> Result<String, SealError>;
    /// The plain text of what [`Sealer::seal`] gave.
    async fn open(&self, sealed: &str) -> Result<String, SealError>;
}

/// What marks a sealed text (anything else was stored before sealing existed).
pub const SEALED_PREFIX: &str = "sealed:";

/// A secret as it is stored: sealed, and opened only where it is used; or plain (stored
/// before sealing existed, sealed at its record's next write).
#[derive(Debug, Clone)]
pub enum StoredSecret {
    Sealed(String),
    Plain(Secret),
}

impl StoredSecret {
    /// What a stored text is.
    pub fn from_stored(text: String) -> Self {
        if text.starts_with(SEALED_PREFIX) { Self::Sealed(text) } else { Self::Plain(Secret::new(text)) }
    }

    /// The secret, opened.
    pub async fn open(&self, sealer: &dyn Sealer) -> Result<Secret, SealError> {
        match self {
            Self::Sealed(text) => sealer.open(text).await.map(Secret::new),
            Self::Plain(secret) => Ok(secret.clone()),
        }
    }

    /// The text to store: a sealed one as it is, a plain one sealed now (an empty one
    /// stays empty: nothing to hide).
    pub async fn to_stored(&self, sealer: &dyn Sealer) -> Result<String, SealError> {
        match self {
            Self::Sealed(text) => Ok(text.clone()),
            Self::Plain(secret) if secret.expose().is_empty() => Ok(String::new()),
            Self::Plain(secret) => sealer.seal(secret.expose()).await,
        }
    }
}
