//! The Graph API client: `POST /{version}/{phone-number id}/messages` to send and mark
//! read, `GET /{version}/{media id}` then the media URL to download.

use async_trait::async_trait;
use atende_core::ports::{ChannelAccess, Messaging, OutboundContent, OutboundRequest, ProviderError};
use serde_json::{Value, json};
use std::time::Duration;

pub struct CloudApi {
    http: reqwest::Client,
    base: String,
    version: String,
}

impl CloudApi {
    /// `base`: e.g. `https://graph.facebook.com`; `version`: e.g. `v23.0`.
    pub fn new(base: &str, version: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().unwrap_or_default();
        Self { http, base: base.trim_end_matches('/').to_owned(), version: version.to_owned() }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.base, self.version)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` with `token` as its bearer and reads Meta's answer (see [`read`]).
    pub(crate) async fn call(
        &self,
        request: reqwest::RequestBuilder,
        token: &atende_core::secret::Secret,
    ) -> Result<Value, ProviderError> {
        let response = request.bearer_auth(token.expose()).send().await.map_err(transport)?;
        read(response).await
    }

    async fn post(&self, channel: &ChannelAccess, body: &Value) -> Result<Value, ProviderError> {
        let url = self.url(&format!("{}/messages", channel.phone_number_id));
        self.call(self.http.post(url).json(body), &channel.access_token).await
    }
}

pub(super) fn transport(e: reqwest::Error) -> ProviderError {
    crate::unanswered(e).into()
}

/// A Graph API answer: the JSON body, or Meta's `error.code` when there is one.
pub(super) async fn read(response: reqwest::Response) -> Result<Value, ProviderError> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if let Some(code) = body["error"]["code"].as_i64() {
        let title = body["error"]["error_data"]["details"]
            .as_str()
            .or_else(|| body["error"]["message"].as_str())
            .unwrap_or("error")
            .to_owned();
        return Err(ProviderError::Coded { code, title });
    }
    if !status.is_success() {
        return Err(ProviderError::Http(status.as_u16()));
    }
    Ok(body)
}

/// The documented request body of a send.
pub fn message_body(request: &OutboundRequest) -> Value {
    let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": request.to});
    match &request.content {
        OutboundContent::Text { body: text } => {
            body["type"] = json!("text");
            body["text"] = json!({"preview_url": false, "body": text});
        }
        OutboundContent::Media { kind, link, caption, filename } => {
            let mut media = json!({"link": link});
            if let Some(c) = caption.as_ref().filter(|_| kind != "audio" && kind != "sticker") {
                media["caption"] = json!(c);
            }
            if let Some(f) = filename.as_ref().filter(|_| kind == "document") {
                media["filename"] = json!(f);
            }
            body["type"] = json!(kind);
            body[kind.as_str()] = media;
        }
        OutboundContent::Interactive { body: text, choices, list_button } => {
            body["type"] = json!("interactive");
            body["interactive"] = match list_button {
                None => json!({
                    "type": "button",
                    "body": {"text": text},
                    "action": {"buttons": choices.iter().map(|c| json!({"type": "reply", "reply": {"id": c.id, "title": c.title}})).collect::<Vec<_>>()},
                }),
                Some(button) => {
                    let rows: Vec<Value> = choices
                        .iter()
                        .map(|c| {
                            let mut row = json!({"id": c.id, "title": c.title});
                            if let Some(d) = &c.description {
                                row["description"] = json!(d);
                            }
                            row
                        })
                        .collect();
                    json!({
                        "type": "list",
                        "body": {"text": text},
                        "action": {"button": button, "sections": [{"title": button, "rows": rows}]},
                    })
                }
            };
        }
        OutboundContent::Template { name, language, values } => {
            body["type"] = json!("template");
            let mut template =
                json!({"name": name, "language": {"policy": "deterministic", "code": language}});
            let components = super::components::send_components(values);
            if !components.is_empty() {
                template["components"] = json!(components);
            }
            body["template"] = template;
        }
    }
    if let Some(reply) = &request.reply_to {
        body["context"] = json!({"message_id": reply});
    }
    body
}

#[async_trait]
impl Messaging for CloudApi {
    async fn send(
        &self,
        channel: &ChannelAccess,
        request: &OutboundRequest,
    ) -> Result<String, ProviderError> {
        let answer = self.post(channel, &message_body(request)).await?;
        answer["messages"][0]["id"].as_str().map(str::to_owned).ok_or(ProviderError::Http(502))
    }

    async fn mark_read(&self, channel: &ChannelAccess, provider_id: &str) -> Result<(), ProviderError> {
        self.post(
            channel,
            &json!({"messaging_product": "whatsapp", "status": "read", "message_id": provider_id}),
        )
        .await?;
        Ok(())
    }

    async fn fetch_media(
        &self,
        channel: &ChannelAccess,
        media_id: &str,
    ) -> Result<(Vec<u8>, String), ProviderError> {
        let meta = self.call(self.http.get(self.url(media_id)), &channel.access_token).await?;
        let url = meta["url"].as_str().ok_or(ProviderError::Http(502))?;
        let mime = meta["mime_type"].as_str().unwrap_or("application/octet-stream").to_owned();
        let (bytes, _) =
            crate::download(self.http.get(url).bearer_auth(channel.access_token.expose())).await?;
        Ok((bytes, mime))
    }
}
