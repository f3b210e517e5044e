//! `{{name}}`-style variables in texts agents and automations send (quick replies now,
//! template parameters of campaigns and flows later): one syntax, filled in one place.
//!
//! Names: `name`, `first_name`, `phone`, `email` (the contact), `protocol` (the session),
//! `agent.name`, `agent.first_name` (who sends), and `custom.<key>` for custom fields.
//! A variable with no value becomes empty text; `{{` without a closing `}}` stays as it is.

/// Contact attribute names a custom field key may not take.
pub const RESERVED: &[&str] = &["name", "first_name", "phone", "email", "protocol", "agent", "custom"];

/// `text` with every `{{ variable }}` replaced by `lookup(variable)` (empty when `None`).
pub fn fill(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + len].trim();
        out.push_str(&lookup(name).unwrap_or_default());
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The first word of a name (`{{first_name}}`).
pub fn first_name(name: &str) -> String {
    name.split_whitespace().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_unknown_ones_left_empty() {
        let out = fill("Olá {{ first_name }}, {{agent.name}} aqui. {{nope}}{{ open", |n| match n {
            "first_name" => Some("João".into()),
            "agent.name" => Some("Ana".into()),
            _ => None,
        });
        assert_eq!(out, "Olá João, Ana aqui. {{ open");
    }
}
