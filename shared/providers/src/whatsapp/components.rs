//! The `components` of a template send, in Meta's wire format.

use atende_core::ports::{ButtonValueKind, HeaderValue, NamedValue, TemplateValues};
use serde_json::{Value, json};

fn text_parameter(v: &NamedValue) -> Value {
    let mut p = json!({"type": "text", "text": v.text});
    if let Some(name) = &v.name {
        p["parameter_name"] = json!(name);
    }
    p
}

/// The `components` of a template send.
pub fn send_components(values: &TemplateValues) -> Vec<Value> {
    let mut out = Vec::new();
    match &values.header {
        None => {}
        Some(HeaderValue::Text(v)) => out.push(json!({"type": "header", "parameters": [text_parameter(v)]})),
        Some(HeaderValue::Media { kind, link, filename, .. }) => {
            let mut media = json!({"link": link.clone().unwrap_or_default()});
            if let Some(f) = filename.as_ref().filter(|_| kind == "document") {
                media["filename"] = json!(f);
            }
            out.push(json!({"type": "header", "parameters": [{"type": kind, kind.as_str(): media}]}));
        }
    }
    if !values.body.is_empty() {
        out.push(
            json!({"type": "body", "parameters": values.body.iter().map(text_parameter).collect::<Vec<_>>()}),
        );
    }
    for b in &values.buttons {
        out.push(match b.kind {
            ButtonValueKind::UrlSuffix => json!({
                "type": "button", "sub_type": "url", "index": b.index.to_string(),
                "parameters": [{"type": "text", "text": b.value}],
            }),
            ButtonValueKind::CopyCode => json!({
                "type": "button", "sub_type": "copy_code", "index": b.index.to_string(),
                "parameters": [{"type": "coupon_code", "coupon_code": b.value}],
            }),
        });
    }
    out
}
