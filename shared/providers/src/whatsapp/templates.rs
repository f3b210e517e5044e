//! Templates in Meta's wire format: the `message_templates` catalogue of a WhatsApp
//! Business Account (create, edit, delete, list with paging) with the Resumable Upload API
//! for a media header's example. Meta's status, category and quality words are read by the
//! domain's one reading of them (`conversations::templates::*_from_provider`).

use super::client::{CloudApi, read, transport};
use async_trait::async_trait;
use atende_core::conversations::model::{
    Template, TemplateButton, TemplateCategory, TemplateContent, TemplateHeader,
};
use atende_core::conversations::templates::rules::variables;
use atende_core::conversations::templates::{category_from_provider, quality_from_provider};
use atende_core::ports::{CatalogAccess, Created, ProviderError, RemoteTemplate, TemplateCatalog};
use serde_json::{Value, json};

fn category_word(c: TemplateCategory) -> &'static str {
    match c {
        TemplateCategory::Marketing => "MARKETING",
        TemplateCategory::Utility => "UTILITY",
        TemplateCategory::Authentication => "AUTHENTICATION",
    }
}

/// Sample values for a text's variables: Meta reviews a template with examples.
fn examples(text: &str) -> Vec<String> {
    variables(text).iter().map(|v| format!("exemplo_{v}")).collect()
}

fn named(text: &str) -> bool {
    variables(text).first().is_some_and(|v| v.parse::<u32>().is_err())
}

/// The `components` of a template definition (creation and edit).
pub fn definition_components(t: &Template, example_handle: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    match &t.content.header {
        None => {}
        Some(TemplateHeader::Text { text }) => {
            let mut h = json!({"type": "HEADER", "format": "TEXT", "text": text});
            let vars = variables(text);
            if let Some(var) = vars.first() {
                h["example"] = if named(text) {
                    json!({"header_text_named_params": [{"param_name": var, "example": format!("exemplo_{var}")}]})
                } else {
                    json!({"header_text": examples(text)})
                };
            }
            out.push(h);
        }
        Some(header) => {
            let format = match header {
                TemplateHeader::Image { .. } => "IMAGE",
                TemplateHeader::Video { .. } => "VIDEO",
                _ => "DOCUMENT",
            };
            let mut h = json!({"type": "HEADER", "format": format});
            if let Some(handle) = example_handle {
                h["example"] = json!({"header_handle": [handle]});
            }
            out.push(h);
        }
    }
    let mut body = json!({"type": "BODY", "text": t.content.body});
    if !variables(&t.content.body).is_empty() {
        body["example"] = if named(&t.content.body) {
            let mut seen: Vec<String> = Vec::new();
            let params: Vec<Value> = variables(&t.content.body)
                .into_iter()
                .filter(|v| {
                    let fresh = !seen.contains(v);
                    seen.push(v.clone());
                    fresh
                })
                .map(|v| json!({"param_name": v, "example": format!("exemplo_{v}")}))
                .collect();
            json!({"body_text_named_params": params})
        } else {
            let mut numbers: Vec<u32> =
                variables(&t.content.body).iter().filter_map(|v| v.parse().ok()).collect();
            numbers.sort_unstable();
            numbers.dedup();
            json!({"body_text": [numbers.iter().map(|n| format!("exemplo_{n}")).collect::<Vec<_>>()]})
        };
    }
    out.push(body);
    if let Some(footer) = &t.content.footer {
        out.push(json!({"type": "FOOTER", "text": footer}));
    }
    if !t.content.buttons.is_empty() {
        let buttons: Vec<Value> = t
            .content
            .buttons
            .iter()
            .map(|b| match b {
                TemplateButton::QuickReply { text } => json!({"type": "QUICK_REPLY", "text": text}),
                TemplateButton::Url { text, url } => {
                    let mut v = json!({"type": "URL", "text": text, "url": url});
                    if url.contains("{{") {
                        v["example"] = json!([url.replace("{{1}}", "exemplo")]);
                    }
                    v
                }
                TemplateButton::PhoneNumber { text, phone_number } => {
                    json!({"type": "PHONE_NUMBER", "text": text, "phone_number": phone_number})
                }
                TemplateButton::CopyCode { example } => json!({"type": "COPY_CODE", "example": example}),
            })
            .collect();
        out.push(json!({"type": "BUTTONS", "buttons": buttons}));
    }
    out
}

/// The body of `POST /{waba_id}/message_templates`.
pub fn creation_body(t: &Template, example_handle: Option<&str>) -> Value {
    let mut body = json!({
        "name": t.name,
        "language": t.language,
        "category": category_word(t.category),
        "components": definition_components(t, example_handle),
    });
    if named(&t.content.body) {
        body["parameter_format"] = json!("NAMED");
    }
    body
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// One template of a `GET /{waba_id}/message_templates` page.
pub fn remote_template(v: &Value) -> Option<RemoteTemplate> {
    let mut header = None;
    let mut body = String::new();
    let mut footer = None;
    let mut buttons = Vec::new();
    for c in v["components"].as_array().into_iter().flatten() {
        match c["type"].as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("HEADER") => {
                let link = c["example"]["header_handle"][0].as_str().map(str::to_owned);
                header = match c["format"].as_str().map(str::to_ascii_uppercase).as_deref() {
                    Some("TEXT") => Some(TemplateHeader::Text { text: s(&c["text"]).unwrap_or_default() }),
                    Some("IMAGE") => Some(TemplateHeader::Image { blob_key: None, link }),
                    Some("VIDEO") => Some(TemplateHeader::Video { blob_key: None, link }),
                    Some("DOCUMENT") => {
                        Some(TemplateHeader::Document { blob_key: None, link, filename: None })
                    }
                    // LOCATION and other headers: not ours to send.
                    _ => None,
                };
            }
            Some("BODY") => body = s(&c["text"]).unwrap_or_default(),
            Some("FOOTER") => footer = s(&c["text"]),
            Some("BUTTONS") => {
                for b in c["buttons"].as_array().into_iter().flatten() {
                    let text = s(&b["text"]).unwrap_or_default();
                    match b["type"].as_str().map(str::to_ascii_uppercase).as_deref() {
                        Some("QUICK_REPLY") => buttons.push(TemplateButton::QuickReply { text }),
                        Some("URL") => {
                            buttons.push(TemplateButton::Url { text, url: s(&b["url"]).unwrap_or_default() })
                        }
                        Some("PHONE_NUMBER") => buttons.push(TemplateButton::PhoneNumber {
                            text,
                            phone_number: s(&b["phone_number"]).unwrap_or_default(),
                        }),
                        Some("COPY_CODE") => buttons.push(TemplateButton::CopyCode {
                            example: b["example"]
                                .as_str()
                                .or_else(|| b["example"][0].as_str())
                                .unwrap_or_default()
                                .to_owned(),
                        }),
                        // OTP, FLOW, CATALOG, ... buttons: kept out (we do not send them).
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some(RemoteTemplate {
        provider_id: s(&v["id"])?,
        name: s(&v["name"])?,
        language: s(&v["language"])?,
        category: v["category"].as_str().and_then(category_from_provider)?,
        status: s(&v["status"]).unwrap_or_default(),
        reason: s(&v["rejected_reason"]),
        quality: v["quality_score"]["score"].as_str().map(quality_from_provider),
        content: TemplateContent { header, body, footer, buttons },
    })
}

const FIELDS: &str = "id,name,language,category,status,rejected_reason,quality_score,components";

#[async_trait]
impl TemplateCatalog for CloudApi {
    async fn upload_example(
        &self,
        access: &CatalogAccess,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<String, ProviderError> {
        let app = access.app_id.as_deref().ok_or(ProviderError::Http(400))?;
        let start = self
            .http()
            .post(self.url(&format!("{app}/uploads")))
            .query(&[("file_length", bytes.len().to_string()), ("file_type", mime.to_owned())]);
        let session = self.call(start, &access.access_token).await?;
        let id = session["id"].as_str().ok_or(ProviderError::Http(502))?.to_owned();
        let uploaded = self
            .http()
            .post(self.url(&id))
            .header("authorization", format!("OAuth {}", access.access_token.expose()))
            .header("file_offset", "0")
            .body(bytes)
            .send()
            .await
            .map_err(transport)?;
        let uploaded = read(uploaded).await?;
        uploaded["h"].as_str().map(str::to_owned).ok_or(ProviderError::Http(502))
    }

    async fn create(
        &self,
        access: &CatalogAccess,
        template: &Template,
        example_handle: Option<&str>,
    ) -> Result<Created, ProviderError> {
        let request = self
            .http()
            .post(self.url(&format!("{}/message_templates", access.waba_id)))
            .json(&creation_body(template, example_handle));
        let answer = self.call(request, &access.access_token).await?;
        Ok(Created {
            provider_id: s(&answer["id"]).ok_or(ProviderError::Http(502))?,
            status: s(&answer["status"]).unwrap_or_else(|| "PENDING".into()),
            category: answer["category"].as_str().and_then(category_from_provider),
        })
    }

    async fn edit(
        &self,
        access: &CatalogAccess,
        template: &Template,
        example_handle: Option<&str>,
    ) -> Result<(), ProviderError> {
        let id = template.meta_id.as_deref().ok_or(ProviderError::Http(404))?;
        let body = json!({
            "category": category_word(template.category),
            "components": definition_components(template, example_handle),
        });
        self.call(self.http().post(self.url(id)).json(&body), &access.access_token).await?;
        Ok(())
    }

    async fn delete(&self, access: &CatalogAccess, template: &Template) -> Result<(), ProviderError> {
        let mut query = vec![("name", template.name.clone())];
        if let Some(id) = &template.meta_id {
            query.push(("hsm_id", id.clone()));
        }
        let request =
            self.http().delete(self.url(&format!("{}/message_templates", access.waba_id))).query(&query);
        self.call(request, &access.access_token).await?;
        Ok(())
    }

    async fn list(&self, access: &CatalogAccess) -> Result<Vec<RemoteTemplate>, ProviderError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        // Pages of 100 until Meta gives no `next` (a bound against a paging loop).
        for _ in 0..100 {
            let mut query = vec![("fields", FIELDS.to_owned()), ("limit", "100".to_owned())];
            if let Some(cursor) = &after {
                query.push(("after", cursor.clone()));
            }
            let request =
                self.http().get(self.url(&format!("{}/message_templates", access.waba_id))).query(&query);
            let page = self.call(request, &access.access_token).await?;
            out.extend(page["data"].as_array().into_iter().flatten().filter_map(remote_template));
            match (page["paging"]["next"].as_str(), page["paging"]["cursors"]["after"].as_str()) {
                (Some(_), Some(cursor)) => after = Some(cursor.to_owned()),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }
}
