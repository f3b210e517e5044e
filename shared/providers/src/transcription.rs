//! Speech to text through any OpenAI-compatible `POST {base}/audio/transcriptions`
//! (OpenAI `https://api.openai.com/v1`, Groq `https://api.groq.com/openai/v1`, a
//! self-hosted Whisper server): multipart `file`, `model`, `language`, `response_format=json`;
//! the answer is `{"text": "…"}`; errors `{"error": {"message"}}`.

use async_trait::async_trait;
use atende_core::ports::{Audio, Outage, TranscribeError, Transcriber};
use atende_core::secret::Secret;
use serde_json::Value;
use std::time::Duration;

/// OpenAI's documented upload limit.
pub const MAX_BYTES: usize = 25 * 1024 * 1024;

pub struct OpenAiTranscriber {
    http: reqwest::Client,
    /// `None`: the deployment has no provider.
    base: Option<String>,
    key: Option<Secret>,
    model: String,
}

impl OpenAiTranscriber {
    pub fn new(base: Option<&str>, key: Option<Secret>, model: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().unwrap_or_default();
        Self {
            http,
            base: base.map(|b| b.trim_end_matches('/').to_owned()).filter(|b| !b.is_empty()),
            key,
            model: model.to_owned(),
        }
    }
}

#[async_trait]
impl Transcriber for OpenAiTranscriber {
    fn configured(&self) -> bool {
        self.base.is_some()
    }

    fn max_bytes(&self) -> usize {
        MAX_BYTES
    }

    async fn transcribe(&self, audio: &Audio, language: &str) -> Result<String, TranscribeError> {
        let base = self.base.as_ref().ok_or(TranscribeError::NotConfigured)?;
        if audio.bytes.len() > MAX_BYTES {
            return Err(TranscribeError::TooLarge(MAX_BYTES));
        }
        let file = reqwest::multipart::Part::bytes(audio.bytes.clone())
            .file_name(audio.filename.clone())
            .mime_str(&audio.mime)
            .map_err(|e| TranscribeError::Refused(format!("the audio's type: {e}")))?;
        let form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("model", self.model.clone())
            .text("language", language.to_owned())
            .text("response_format", "json");
        let mut request = self.http.post(format!("{base}/audio/transcriptions")).multipart(form);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(crate::unanswered)?;
        let status = response.status().as_u16();
        let outage = crate::outage(status, response.headers());
        let bytes = response.bytes().await.map_err(crate::unanswered)?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match status {
            200..=299 => body["text"]
                .as_str()
                .map(|t| t.trim().to_owned())
                .ok_or_else(|| Outage::Transport("the answer has no text".into()).into()),
            413 => Err(TranscribeError::TooLarge(MAX_BYTES)),
            400..=499 if status != 429 => Err(TranscribeError::Refused(
                body["error"]["message"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("HTTP {status}")),
            )),
            _ => Err(outage.into()),
        }
    }
}
