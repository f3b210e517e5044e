//! Sealing secrets for storage: authenticated encryption, so a copy of the table (a
//! backup, an export, a stolen disk) does not hold customers' credentials in the clear.

/// Why a sealed text does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed text is damaged or was sealed with another key")]
    Broken,
}

pub trait Sealer: Send + Sync {
    /// `plain` sealed for storage; sealing the same text twice gives two different texts.
    fn seal(&self, plain: &str) -> String;
    /// The plain text of what [`Sealer::seal`] gave.
    fn open(&self, sealed: &str) -> Result<String, SealError>;
}
