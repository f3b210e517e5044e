//! The Send API of Messenger and Instagram: `POST /{version}/{page id}/messages` with the
//! page's access token; attachments go by URL; a person's answer past 24 h carries
//! `messaging_type: MESSAGE_TAG` and `tag: HUMAN_AGENT`. Meta's error codes are read into
//! the neutral verdicts here (retry, slow down, or refused with a reason in plain words).

use crate::whatsapp::CloudApi;
use async_trait::async_trait;
use atende_core::ports::{ChannelAccess, Messaging, OutboundContent, OutboundRequest, ProviderError};
use serde_json::{Value, json};

/// The Send API, through the Graph API client (same host, version and timeout).
pub struct DirectApi {
    pub graph: std::sync::Arc<CloudApi>,
}

/// The documented request body of a send.
pub fn message_body(request: &OutboundRequest) -> Result<Value, ProviderError> {
    let message = match &request.content {
        OutboundContent::Text { body } => json!({"text": body}),
        OutboundContent::Media { kind, link, .. } => {
            let kind = match kind.as_str() {
                "image" | "sticker" => "image",
                "audio" => "audio",
                "video" => "video",
                _ => "file",
            };
            json!({"attachment": {"type": kind, "payload": {"url": link, "is_reusable": false}}})
        }
        // Quick replies: Messenger shows up to 13 under the text; the payload comes back.
        OutboundContent::Interactive { body, choices, .. } => json!({
            "text": body,
            "quick_replies": choices.iter().take(13).map(|c| json!({"content_type": "text", "title": c.title, "payload": c.id})).collect::<Vec<_>>(),
        }),
        OutboundContent::Template { .. } => {
            return Err(ProviderError::Refused("Messenger and Instagram have no templates.".into()));
        }
    };
    let mut body = json!({"recipient": {"id": request.to}, "message": message});
    if request.human_agent {
        body["messaging_type"] = json!("MESSAGE_TAG");
        body["tag"] = json!("HUMAN_AGENT");
    } else {
        body["messaging_type"] = json!("RESPONSE");
    }
    Ok(body)
}

/// What a Send API error means (Meta's Messenger Platform error codes).
pub fn verdict(error: ProviderError) -> ProviderError {
    let ProviderError::Coded { code, title } = error else { return error };
    match code {
        // Throttled: the page, the app or the user's thread.
        4 | 17 | 32 | 613 | 80006 => ProviderError::RateLimited { retry_after: None },
        1 | 2 => ProviderError::Http(503),
        10 if title.contains("window") => ProviderError::Refused(
            "Outside the window Messenger and Instagram allow: the customer must write again.".into(),
        ),
        551 => {
            ProviderError::Refused("This person is not available on Messenger or Instagram right now.".into())
        }
        190 => ProviderError::Refused(
            "Meta refused the page's access token (error 190): update it on the channel.".into(),
        ),
        10 | 200 | 230 => ProviderError::Refused(format!(
            "The page has not granted the permission this send needs (error {code}): {title}"
        )),
        other => ProviderError::Refused(format!("Meta refused the message: {title} (code {other})")),
    }
}

impl DirectApi {
    async fn post(&self, channel: &ChannelAccess, body: &Value) -> Result<Value, ProviderError> {
        let url = self.graph.url(&format!("{}/messages", channel.phone_number_id));
        self.graph.call(self.graph.http().post(url).json(body), &channel.access_token).await.map_err(verdict)
    }
}

#[async_trait]
impl Messaging for DirectApi {
    async fn send(
        &self,
        channel: &ChannelAccess,
        request: &OutboundRequest,
    ) -> Result<String, ProviderError> {
        let answer = self.post(channel, &message_body(request)?).await?;
        answer["message_id"].as_str().map(str::to_owned).ok_or(ProviderError::Http(502))
    }

    /// Messenger's `mark_seen` goes to a person, not a message: the webhook's sender is
    /// not known here, so nothing is sent (Instagram has no such action at all).
    async fn mark_read(&self, _channel: &ChannelAccess, _provider_id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    /// `media_id` is the attachment's URL from the webhook: the file itself.
    async fn fetch_media(
        &self,
        _channel: &ChannelAccess,
        url: &str,
    ) -> Result<(Vec<u8>, String), ProviderError> {
        let (bytes, mime) = crate::download(self.graph.http().get(url)).await?;
        Ok((bytes, mime.unwrap_or_else(|| "application/octet-stream".to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(human_agent: bool) -> OutboundRequest {
        OutboundRequest {
            to: "6789".into(),
            content: OutboundContent::Text { body: "Oi".into() },
            reply_to: None,
            human_agent,
        }
    }

    #[test]
    fn a_reply_inside_the_window_is_a_response_and_later_a_human_agent_tag() {
        assert_eq!(
            message_body(&text(false)).unwrap(),
            json!({"recipient": {"id": "6789"}, "message": {"text": "Oi"}, "messaging_type": "RESPONSE"})
        );
        let tagged = message_body(&text(true)).unwrap();
        assert_eq!(tagged["messaging_type"], "MESSAGE_TAG");
        assert_eq!(tagged["tag"], "HUMAN_AGENT");
    }

    #[test]
    fn meta_codes_become_retries_slowdowns_or_reasons() {
        let coded = |code: i64, title: &str| verdict(ProviderError::Coded { code, title: title.into() });
        assert_eq!(
            coded(613, "Calls to this api have exceeded the rate limit."),
            ProviderError::RateLimited { retry_after: None }
        );
        assert_eq!(coded(2, "Service temporarily unavailable"), ProviderError::Http(503));
        assert!(
            matches!(coded(10, "This message is sent outside of allowed window."), ProviderError::Refused(r) if r.contains("window"))
        );
        assert!(matches!(coded(551, "This person isn't available right now."), ProviderError::Refused(_)));
    }
}
