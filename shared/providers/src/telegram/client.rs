//! The Bot API client. The bot token is part of every URL (`/bot<token>/<method>`), so no
//! URL ever reaches an error or a log line (`without_url`). Files out go by their link,
//! which Telegram fetches (it fetches photos of up to 5 MB and other files of up to 20 MB
//! that way; documents by link only as PDF or ZIP); files in come through `getFile` then
//! `/file/bot<token>/<path>`.

use async_trait::async_trait;
use atende_core::ports::{ChannelAccess, Messaging, OutboundContent, OutboundRequest, ProviderError};
use atende_core::secret::Secret;
use serde_json::{Value, json};
use std::time::Duration;

pub struct BotApi {
    http: reqwest::Client,
    base: String,
}

impl BotApi {
    /// `base`: `https://api.telegram.org`.
    pub fn new(base: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().unwrap_or_default();
        Self { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn method(&self, token: &Secret, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base, token.expose())
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let response = request.send().await.map_err(unanswered)?;
        read(response).await
    }
}

/// No answer: the timeout or the connection, with the URL (and its token) taken out.
fn unanswered(e: reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Transport(e.without_url().to_string())
    }
}

/// A Bot API answer: `result`, or what its error means.
async fn read(response: reqwest::Response) -> Result<Value, ProviderError> {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if body["ok"].as_bool() == Some(true) {
        return Ok(body["result"].clone());
    }
    let code = body["error_code"].as_u64().map_or(status, |c| c as u16);
    let description = body["description"].as_str().unwrap_or("no description").to_owned();
    Err(verdict(code, &description, body["parameters"]["retry_after"].as_u64()))
}

/// What a Bot API error means.
pub fn verdict(code: u16, description: &str, retry_after: Option<u64>) -> ProviderError {
    match code {
        429 => ProviderError::RateLimited { retry_after: retry_after.map(Duration::from_secs) },
        401 | 404 => {
            ProviderError::Refused("Telegram refused the bot token: update it on the channel.".into())
        }
        403 => ProviderError::Refused(
            "The person blocked the bot or never started it: Telegram takes nothing until they write.".into(),
        ),
        400..=499 => ProviderError::Refused(format!("Telegram refused the message: {description}")),
        _ => ProviderError::Http(code),
    }
}

/// The Bot API method and file field of a media kind.
fn media_method(kind: &str, voice: bool) -> (&'static str, &'static str) {
    match kind {
        "image" => ("sendPhoto", "photo"),
        "video" => ("sendVideo", "video"),
        "audio" if voice => ("sendVoice", "voice"),
        "audio" => ("sendAudio", "audio"),
        "sticker" => ("sendSticker", "sticker"),
        _ => ("sendDocument", "document"),
    }
}

/// The reply target: our id of a Telegram message is `<chat id>:<message id>`.
fn reply_parameters(reply_to: Option<&str>) -> Option<Value> {
    let id = reply_to?.rsplit_once(':')?.1.parse::<i64>().ok()?;
    Some(json!({"message_id": id, "allow_sending_without_reply": true}))
}

/// The JSON body of a text or buttons send.
pub fn text_body(request: &OutboundRequest) -> Result<Value, ProviderError> {
    let mut body = match &request.content {
        OutboundContent::Text { body } => json!({"chat_id": request.to, "text": body}),
        OutboundContent::Interactive { body, choices, .. } => json!({
            "chat_id": request.to,
            "text": body,
            "reply_markup": {"inline_keyboard": choices.iter().map(|c| vec![json!({"text": c.title, "callback_data": c.id})]).collect::<Vec<_>>()},
        }),
        OutboundContent::Template { .. } => {
            return Err(ProviderError::Refused("Telegram has no templates.".into()));
        }
        OutboundContent::Media { .. } => return Err(ProviderError::Refused("media goes as a file".into())),
    };
    if let Some(reply) = reply_parameters(request.reply_to.as_deref()) {
        body["reply_parameters"] = reply;
    }
    Ok(body)
}

/// The JSON body and method of a media send: Telegram fetches the file from its link
/// itself (so no user-given address is ever fetched from here).
pub fn media_body(request: &OutboundRequest) -> Option<(&'static str, Value)> {
    let OutboundContent::Media { kind, link, caption, filename } = &request.content else { return None };
    let named = filename.as_deref().unwrap_or(link.split('?').next().unwrap_or_default());
    // A voice note is OGG/Opus; any other audio goes as a music file.
    let voice = guess_mime(named) == "audio/ogg";
    let (method, field) = media_method(kind, voice);
    let mut body = json!({"chat_id": request.to, field: link});
    if let Some(c) = caption.as_ref().filter(|_| field != "sticker") {
        body["caption"] = json!(c);
    }
    if let Some(reply) = reply_parameters(request.reply_to.as_deref()) {
        body["reply_parameters"] = reply;
    }
    Some((method, body))
}

#[async_trait]
impl Messaging for BotApi {
    async fn send(
        &self,
        channel: &ChannelAccess,
        request: &OutboundRequest,
    ) -> Result<String, ProviderError> {
        let (method, body) = match media_body(request) {
            Some(media) => media,
            None => ("sendMessage", text_body(request)?),
        };
        let sent = self.call(self.http.post(self.method(&channel.access_token, method)).json(&body)).await?;
        super::webhook::message_id(&sent["chat"]["id"], &sent["message_id"]).ok_or(ProviderError::Http(502))
    }

    /// Bots have no read receipts.
    async fn mark_read(&self, _channel: &ChannelAccess, _provider_id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn fetch_media(
        &self,
        channel: &ChannelAccess,
        file_id: &str,
    ) -> Result<(Vec<u8>, String), ProviderError> {
        let url = self.method(&channel.access_token, "getFile");
        let file = self.call(self.http.post(url).json(&json!({"file_id": file_id}))).await?;
        let path = file["file_path"].as_str().ok_or(ProviderError::Http(502))?;
        let url = format!("{}/file/bot{}/{path}", self.base, channel.access_token.expose());
        let (bytes, mime) = crate::download(self.http.get(url)).await?;
        // Telegram serves files as `application/octet-stream`: the path's ending tells more.
        let mime =
            mime.filter(|m| m != "application/octet-stream").unwrap_or_else(|| guess_mime(path).to_owned());
        Ok((bytes, mime))
    }

    async fn connect(
        &self,
        channel: &ChannelAccess,
        url: &str,
        secret: &Secret,
    ) -> Result<(), ProviderError> {
        let body = json!({"url": url, "secret_token": secret.expose(), "allowed_updates": ["message", "edited_message", "callback_query"]});
        self.call(self.http.post(self.method(&channel.access_token, "setWebhook")).json(&body)).await?;
        Ok(())
    }
}

/// A file's type from its path's ending.
fn guess_mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default().to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "oga" | "ogg" | "opus" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_api_errors_become_slowdowns_reasons_or_retries() {
        assert_eq!(
            verdict(429, "Too Many Requests: retry after 7", Some(7)),
            ProviderError::RateLimited { retry_after: Some(Duration::from_secs(7)) }
        );
        assert!(
            matches!(verdict(403, "Forbidden: bot was blocked by the user", None), ProviderError::Refused(r) if r.contains("blocked"))
        );
        assert_eq!(verdict(502, "Bad Gateway", None), ProviderError::Http(502));
    }

    #[test]
    fn a_reply_names_the_telegram_message_number() {
        let request = OutboundRequest {
            to: "42".into(),
            content: OutboundContent::Text { body: "Oi".into() },
            reply_to: Some("42:7".into()),
            human_agent: false,
        };
        let body = text_body(&request).unwrap();
        assert_eq!(body["reply_parameters"]["message_id"], 7);
        assert_eq!(body["chat_id"], "42");
    }
}
