//! The speech-to-text port: one audio file in, its text out (an OpenAI-compatible
//! transcription endpoint is the implementation, `atende_providers::transcription`).

use super::outage::Outage;
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub bytes: Vec<u8>,
    /// `audio/ogg`, `audio/mpeg`, ...
    pub mime: String,
    /// A name with the format's extension (providers read the format from it).
    pub filename: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscribeError {
    /// The deployment has no transcription provider.
    #[error("no transcription provider is configured")]
    NotConfigured,
    #[error("the file is larger than the provider's limit of {0} bytes")]
    TooLarge(usize),
    /// The provider refused the file or the request (4xx): retrying changes nothing.
    #[error("the provider refused it: {0}")]
    Refused(String),
    /// A failure that may pass: retried.
    #[error(transparent)]
    Outage(#[from] Outage),
}

#[async_trait]
pub trait Transcriber: Send + Sync {
    /// Whether the deployment has a provider (accounts may enable transcription).
    fn configured(&self) -> bool;
    /// The largest file the provider takes.
    fn max_bytes(&self) -> usize;
    /// The audio's text, in `language` (ISO 639-1, `pt`).
    async fn transcribe(&self, audio: &Audio, language: &str) -> Result<String, TranscribeError>;
}
