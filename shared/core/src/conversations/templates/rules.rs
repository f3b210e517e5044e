//! What Meta accepts in a template, checked before anything is submitted: a clear 422
//! here instead of a rejection days later.

use crate::conversations::model::{Template, TemplateButton, TemplateHeader};
use crate::error::{ServiceError, ServiceResult};

pub const MAX_BODY: usize = 1024;
pub const MAX_HEADER_TEXT: usize = 60;
pub const MAX_FOOTER: usize = 60;
pub const MAX_BUTTONS: usize = 10;
pub const MAX_BUTTON_TEXT: usize = 25;
pub const MAX_COPY_CODE: usize = 15;
/// Keys of a send's parameters that are not body variables.
pub const RESERVED: [&str; 3] = ["header", "body", "buttons"];

/// The variables of a text, in order: `["1", "2"]` or `["nome"]`.
pub fn variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    out
}

fn is_name(v: &str) -> bool {
    v.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A body's variables are all numbered `{{1}}…{{n}}` (each once, none skipped) or all
/// named (lower-case, digits, underscores; not a reserved key).
fn check_variables(text: &str, what: &str) -> ServiceResult<()> {
    let vars = variables(text);
    if vars.is_empty() {
        return Ok(());
    }
    if vars.iter().all(|v| v.parse::<u32>().is_ok()) {
        let mut numbers: Vec<u32> = vars.iter().filter_map(|v| v.parse().ok()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        if numbers.iter().enumerate().any(|(i, n)| *n != i as u32 + 1) {
            return Err(ServiceError::invalid(format!(
                "the {what}'s numbered variables run {{{{1}}}}, {{{{2}}}}, … without gaps"
            )));
        }
        return Ok(());
    }
    if let Some(bad) = vars.iter().find(|v| !is_name(v)) {
        return Err(ServiceError::invalid(format!(
            "the {what}'s variable {{{{{bad}}}}} is neither a number nor a name of lower-case letters, digits and underscores (numbered and named variables do not mix)"
        )));
    }
    if let Some(reserved) = vars.iter().find(|v| RESERVED.contains(&v.as_str())) {
        return Err(ServiceError::invalid(format!(
            "{{{{{reserved}}}}} is a reserved name (header, body and buttons name the parts of a send's parameters)"
        )));
    }
    Ok(())
}

fn link_ok(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
}

fn label(text: &str, what: &str) -> ServiceResult<()> {
    let n = text.trim().chars().count();
    if n == 0 || n > MAX_BUTTON_TEXT || text.contains("{{") {
        return Err(ServiceError::invalid(format!(
            "a {what} button's text has 1 to {MAX_BUTTON_TEXT} characters and no variables"
        )));
    }
    Ok(())
}

/// Every rule of the template's content; `upload_prefix` is where this account's uploads
/// live (a header file must be one of them).
pub fn check(t: &Template, upload_prefix: &str) -> ServiceResult<()> {
    let name = &t.name;
    if name.is_empty()
        || name.len() > 512
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ServiceError::invalid("a template name uses lower-case letters, digits and underscores"));
    }
    if t.language.trim().is_empty() {
        return Err(ServiceError::invalid("a template needs a language, e.g. pt_BR"));
    }
    if t.content.body.trim().is_empty() || t.content.body.chars().count() > MAX_BODY {
        return Err(ServiceError::invalid("a template body has 1 to 1024 characters"));
    }
    check_variables(&t.content.body, "body")?;
    match &t.content.header {
        None => {}
        Some(TemplateHeader::Text { text }) => {
            if text.trim().is_empty() || text.chars().count() > MAX_HEADER_TEXT {
                return Err(ServiceError::invalid("a text header has 1 to 60 characters"));
            }
            if variables(text).len() > 1 {
                return Err(ServiceError::invalid("a text header has at most one variable"));
            }
            check_variables(text, "header")?;
        }
        Some(
            TemplateHeader::Image { blob_key, link }
            | TemplateHeader::Video { blob_key, link }
            | TemplateHeader::Document { blob_key, link, .. },
        ) => match (blob_key, link) {
            (Some(key), None) if key.starts_with(upload_prefix) => {}
            (Some(_), None) => {
                return Err(ServiceError::invalid(
                    "the header's blob_key is not one of this account's uploads",
                ));
            }
            (None, Some(link)) if link_ok(link) => {}
            (None, Some(_)) => return Err(ServiceError::invalid("the header's link is an http(s) URL")),
            _ => {
                return Err(ServiceError::invalid(
                    "a media header names its file: an upload's blob_key or a link (one of them)",
                ));
            }
        },
    }
    if let Some(footer) = &t.content.footer
        && (footer.trim().is_empty() || footer.chars().count() > MAX_FOOTER || footer.contains("{{"))
    {
        return Err(ServiceError::invalid("a footer has 1 to 60 characters and no variables"));
    }
    if t.content.buttons.len() > MAX_BUTTONS {
        return Err(ServiceError::invalid("a template has at most 10 buttons"));
    }
    let count = |f: fn(&TemplateButton) -> bool| t.content.buttons.iter().filter(|b| f(b)).count();
    if count(|b| matches!(b, TemplateButton::Url { .. })) > 2 {
        return Err(ServiceError::invalid("a template has at most 2 URL buttons"));
    }
    if count(|b| matches!(b, TemplateButton::PhoneNumber { .. })) > 1 {
        return Err(ServiceError::invalid("a template has at most 1 phone-number button"));
    }
    if count(|b| matches!(b, TemplateButton::CopyCode { .. })) > 1 {
        return Err(ServiceError::invalid("a template has at most 1 copy-code button"));
    }
    for b in &t.content.buttons {
        match b {
            TemplateButton::QuickReply { text } => label(text, "quick-reply")?,
            TemplateButton::Url { text, url } => {
                label(text, "URL")?;
                // The one variable a URL may hold is `{{1}}` at its very end.
                let base = url.strip_suffix("{{1}}").unwrap_or(url);
                if url.chars().count() > 2000 || base.contains("{{") || !link_ok(base) {
                    return Err(ServiceError::invalid(
                        "a URL button's url is an http(s) URL of up to 2000 characters; it may end in one variable, {{1}}",
                    ));
                }
            }
            TemplateButton::PhoneNumber { text, phone_number } => {
                label(text, "phone-number")?;
                let digits = phone_number.trim_start_matches('+');
                if !phone_number.starts_with('+')
                    || digits.len() < 8
                    || digits.len() > 15
                    || !digits.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(ServiceError::invalid(
                        "a phone-number button's number is in international form, e.g. +5511987654321",
                    ));
                }
            }
            TemplateButton::CopyCode { example } => {
                let n = example.trim().chars().count();
                if n == 0 || n > MAX_COPY_CODE {
                    return Err(ServiceError::invalid("a copy-code button's example has 1 to 15 characters"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_read_in_order_numbered_or_named() {
        assert_eq!(variables("Oi {{1}}, pedido {{2}}"), vec!["1", "2"]);
        assert_eq!(variables("Oi {{ nome }}!"), vec!["nome"]);
        assert!(variables("sem variáveis").is_empty());
        assert!(check_variables("{{1}} e {{3}}", "body").is_err());
        assert!(check_variables("{{1}} e {{nome}}", "body").is_err());
        assert!(check_variables("{{buttons}}", "body").is_err());
        assert!(check_variables("{{2}} antes de {{1}}", "body").is_ok());
    }
}
