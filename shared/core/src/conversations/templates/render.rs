//! A template with a send's parameters filled in: the text the customer reads and the
//! values the provider fills.
//!
//! Parameters are a list (`["Maria", "123"]`: `{{1}}`, `{{2}}` of the body) or an object of
//! named body variables (`{"nome": "Maria"}`). A template whose header has a variable or
//! whose buttons take values (a URL's dynamic end, a code to copy) takes the parts by name:
//! `{"body": [...] or {...}, "header": "…", "buttons": ["suffix or code", …]}` (buttons in
//! their order in the template; only those that take a value). A media header's file is the
//! template's own unless `header` gives another link.

use super::rules::{RESERVED, variables};
use crate::conversations::model::{Template, TemplateButton, TemplateHeader};
use crate::error::{ServiceError, ServiceResult};
use crate::ports::{ButtonValue, ButtonValueKind, HeaderValue, NamedValue, TemplateValues};
use serde_json::{Map, Value};

/// The parts of a send's parameters.
#[derive(Default)]
struct Parts {
    body: Value,
    header: Option<String>,
    buttons: Vec<String>,
}

fn text_of(v: &Value) -> ServiceResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
        _ => Err(ServiceError::invalid("each template parameter is a text")),
    }
}

impl Parts {
    fn of(parameters: &Value) -> ServiceResult<Self> {
        match parameters {
            Value::Null => Ok(Self::default()),
            Value::Array(_) => Ok(Self { body: parameters.clone(), ..Self::default() }),
            Value::Object(map) => {
                let structured = map.contains_key("header")
                    || map.contains_key("buttons")
                    || map.get("body").is_some_and(|b| b.is_array() || b.is_object());
                if !structured {
                    return Ok(Self { body: parameters.clone(), ..Self::default() });
                }
                let body = match map.get("body") {
                    Some(b @ (Value::Array(_) | Value::Object(_))) => b.clone(),
                    _ => Value::Object(
                        map.iter()
                            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<Map<_, _>>(),
                    ),
                };
                let header = map.get("header").map(text_of).transpose()?;
                let buttons = match map.get("buttons") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(list)) => list.iter().map(text_of).collect::<ServiceResult<_>>()?,
                    Some(_) => {
                        return Err(ServiceError::invalid("parameters.buttons is a list of texts"));
                    }
                };
                Ok(Self { body, header, buttons })
            }
            _ => Err(ServiceError::invalid("template parameters are a list or an object")),
        }
    }
}

/// `text` with its variables replaced from `values` (a list: numbered; an object: named).
fn fill(text: &str, values: &Value) -> ServiceResult<(String, Vec<NamedValue>)> {
    let mut out = text.to_owned();
    let mut named = Vec::new();
    match values {
        Value::Null => {}
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                let value = text_of(v)?;
                out = out.replace(&format!("{{{{{}}}}}", i + 1), &value);
                named.push(NamedValue { name: None, text: value });
            }
        }
        Value::Object(map) => {
            // In the order the text names them (Meta fills named parameters by name, but
            // the list reads best in the text's order).
            for var in variables(text) {
                if named.iter().any(|n: &NamedValue| n.name.as_deref() == Some(var.as_str())) {
                    continue;
                }
                if let Some(v) = map.get(&var) {
                    let value = text_of(v)?;
                    out = out.replace(&format!("{{{{{var}}}}}"), &value);
                    named.push(NamedValue { name: Some(var), text: value });
                }
            }
        }
        _ => return Err(ServiceError::invalid("template parameters are a list or an object")),
    }
    if out.contains("{{") {
        return Err(ServiceError::invalid("some template parameters are missing"));
    }
    Ok((out, named))
}

/// The text the customer reads (the body) and the provider's values.
pub fn render(template: &Template, parameters: &Value) -> ServiceResult<(String, TemplateValues)> {
    let parts = Parts::of(parameters)?;
    let (text, body) = fill(&template.content.body, &parts.body)?;
    // A media header's file is the template's own unless the send gives another link.
    let other_link = parts.header.clone().filter(|l| l.starts_with("https://") || l.starts_with("http://"));
    let media = |kind: &str, blob_key: &Option<String>, link: &Option<String>, filename: &Option<String>| {
        HeaderValue::Media {
            kind: kind.to_owned(),
            link: other_link.clone().or_else(|| link.clone()),
            blob_key: if other_link.is_some() { None } else { blob_key.clone() },
            filename: filename.clone(),
        }
    };
    let header = match &template.content.header {
        None => None,
        Some(TemplateHeader::Text { text }) => match variables(text).first() {
            None => None,
            Some(var) => {
                let value = parts.header.clone().ok_or_else(|| {
                    ServiceError::invalid(
                        "the template's header has a variable: give its value as parameters.header",
                    )
                })?;
                let name = var.parse::<u32>().is_err().then(|| var.clone());
                Some(HeaderValue::Text(NamedValue { name, text: value }))
            }
        },
        Some(TemplateHeader::Image { blob_key, link }) => Some(media("image", blob_key, link, &None)),
        Some(TemplateHeader::Video { blob_key, link }) => Some(media("video", blob_key, link, &None)),
        Some(TemplateHeader::Document { blob_key, link, filename }) => {
            Some(media("document", blob_key, link, filename))
        }
    };
    let dynamic: Vec<(usize, &TemplateButton)> =
        template.content.buttons.iter().enumerate().filter(|(_, b)| b.is_dynamic()).collect();
    if parts.buttons.len() != dynamic.len() {
        return Err(ServiceError::invalid(format!(
            "the template's buttons take {} value(s) in parameters.buttons (a URL's end, a code to copy), in their order",
            dynamic.len()
        )));
    }
    let buttons = dynamic
        .into_iter()
        .zip(parts.buttons)
        .map(|((index, button), value)| ButtonValue {
            index: index as u8,
            kind: match button {
                TemplateButton::CopyCode { .. } => ButtonValueKind::CopyCode,
                _ => ButtonValueKind::UrlSuffix,
            },
            value,
        })
        .collect();
    Ok((text, TemplateValues { header, body, buttons }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::model::{TemplateCategory, TemplateStatus};
    use serde_json::json;

    fn template(body: &str) -> Template {
        let mut t = Template::pending(
            "t".into(),
            "a",
            "c",
            "n",
            "pt_BR",
            TemplateCategory::Marketing,
            chrono::Utc::now(),
        );
        t.content.body = body.into();
        t.status = TemplateStatus::Approved;
        t
    }

    #[test]
    fn a_list_fills_numbered_variables_and_an_object_named_ones() {
        let (text, values) = render(&template("Oi {{1}}, pedido {{2}}"), &json!(["Maria", 42])).unwrap();
        assert_eq!(text, "Oi Maria, pedido 42");
        assert_eq!(values.body.len(), 2);
        let (text, values) = render(&template("Oi {{nome}}"), &json!({"nome": "Ana"})).unwrap();
        assert_eq!(text, "Oi Ana");
        assert_eq!(values.body[0].name.as_deref(), Some("nome"));
        assert!(render(&template("Oi {{1}}"), &json!([])).is_err());
    }

    #[test]
    fn header_and_buttons_take_their_values_by_part() {
        let mut t = template("Seu pedido {{1}} saiu");
        t.content.header = Some(TemplateHeader::Text { text: "Olá {{1}}".into() });
        t.content.buttons = vec![
            TemplateButton::QuickReply { text: "Ok".into() },
            TemplateButton::Url { text: "Rastrear".into(), url: "https://x.example/r/{{1}}".into() },
            TemplateButton::CopyCode { example: "ABC".into() },
        ];
        let (_, values) =
            render(&t, &json!({"body": ["123"], "header": "Maria", "buttons": ["123", "CUPOM10"]})).unwrap();
        assert_eq!(values.header, Some(HeaderValue::Text(NamedValue { name: None, text: "Maria".into() })));
        assert_eq!(
            values.buttons[0],
            ButtonValue { index: 1, kind: ButtonValueKind::UrlSuffix, value: "123".into() }
        );
        assert_eq!(values.buttons[1].index, 2);
        assert_eq!(values.buttons[1].kind, ButtonValueKind::CopyCode);
        assert!(render(&t, &json!({"body": ["123"], "header": "Maria"})).is_err(), "buttons missing");
    }
}
