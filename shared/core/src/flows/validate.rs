//! What a flow must be to be published: every exit names a node, every limit of WhatsApp
//! and of the engine holds. Errors name the node, so a builder can point at it.

use super::model::{Action, Content, Definition, Expect, NodeKind, Test, TextOp};
use crate::crm::placeholders::RESERVED;
use std::collections::HashSet;

/// The longest wait of a question or a wait node: 7 days.
pub const MAX_WAIT_SECONDS: u32 = 7 * 24 * 3600;
/// The shortest question timeout.
pub const MIN_TIMEOUT_SECONDS: u32 = 10;
/// The longest join window of a question.
pub const MAX_JOIN_SECONDS: u32 = 40;

/// Every problem of `flow`, each naming its node (empty: it can be published).
pub fn problems(flow: &Definition) -> Vec<String> {
    let mut out = Vec::new();
    let ids: HashSet<&str> = flow.nodes.iter().map(|n| n.id.as_str()).collect();
    if ids.len() != flow.nodes.len() {
        out.push("two nodes have the same id".to_owned());
    }
    if flow.nodes.len() > 500 {
        out.push("a flow has at most 500 nodes".to_owned());
    }
    if !ids.contains(flow.start.as_str()) {
        out.push(format!("start: no node {}", flow.start));
    }
    for node in &flow.nodes {
        let mut bad = |what: String| out.push(format!("node {}: {what}", node.id));
        if node.id.is_empty() || node.id.len() > 64 {
            bad("an id has 1 to 64 characters".into());
        }
        for exit in Definition::exits(&node.kind) {
            if !ids.contains(exit) {
                bad(format!("goes to {exit}, which does not exist"));
            }
        }
        match &node.kind {
            NodeKind::Message { content, .. } => content_problems(content, false, &mut bad),
            NodeKind::Question(q) => {
                content_problems(&q.content, true, &mut bad);
                if let Some(t) = q.timeout_seconds
                    && !(MIN_TIMEOUT_SECONDS..=MAX_WAIT_SECONDS).contains(&t)
                {
                    bad(format!("timeout_seconds is {MIN_TIMEOUT_SECONDS} s to 7 days"));
                }
                if q.join_seconds > MAX_JOIN_SECONDS {
                    bad(format!("join_seconds is at most {MAX_JOIN_SECONDS}"));
                }
                if q.retries > 10 {
                    bad("retries is at most 10".into());
                }
                if let Expect::Regex(p) = &q.expect
                    && regex::Regex::new(p).is_err()
                {
                    bad("expect.regex is not a valid pattern".into());
                }
                if let Some(v) = &q.variable {
                    variable_problems(v, &mut bad);
                }
            }
            NodeKind::Template { template_id, .. } if template_id.is_empty() => {
                bad("template_id is required".into())
            }
            NodeKind::Condition { rules, .. } => rules.iter().for_each(|r| test_problems(&r.when, &mut bad)),
            NodeKind::Action { action, .. } => match action {
                Action::SetVariable { name, .. } => variable_problems(name, &mut bad),
                Action::SetSessionMetadata { key, .. } if key.is_empty() || key.len() > 40 => {
                    bad("a metadata key has 1 to 40 characters".into())
                }
                _ => {}
            },
            NodeKind::Http(h) => {
                if !matches!(h.method.to_uppercase().as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
                    bad("method is GET, POST, PUT, PATCH or DELETE".into());
                }
                if !(h.url.starts_with("https://") || h.url.starts_with("http://")) {
                    bad("url starts with https:// or http://".into());
                }
                for pointer in h.map.values() {
                    if !pointer.is_empty() && !pointer.starts_with('/') {
                        bad(format!("map: {pointer} is not a JSON pointer (/a/b)"));
                    }
                }
                for var in h.map.keys() {
                    variable_problems(var, &mut bad);
                }
            }
            NodeKind::Wait { seconds, .. } if *seconds == 0 || *seconds > MAX_WAIT_SECONDS => {
                bad("seconds is 1 to 7 days".into())
            }
            _ => {}
        }
    }
    out
}

fn variable_problems(name: &str, bad: &mut impl FnMut(String)) {
    let valid = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        bad(format!("variable {name}: 1 to 40 of a-z, 0-9 and _"));
    }
    if RESERVED.contains(&name) || name == "answer" || name == "last_message" {
        bad(format!("variable {name} is a reserved name"));
    }
}

fn content_problems(c: &Content, question: bool, bad: &mut impl FnMut(String)) {
    if c.text.trim().is_empty() && c.media.is_none() {
        bad("text (or media) is required".into());
    }
    if c.text.chars().count() > 1024 && (!c.buttons.is_empty() || c.list.is_some()) {
        bad("a text with buttons or a list has at most 1024 characters".into());
    }
    if c.text.chars().count() > 4096 {
        bad("text has at most 4096 characters".into());
    }
    if !c.buttons.is_empty() && c.list.is_some() {
        bad("buttons or a list, not both".into());
    }
    if !question && (!c.buttons.is_empty() || c.list.is_some()) {
        bad("buttons and lists belong to question nodes (they wait for the tap)".into());
    }
    if c.buttons.len() > 3 {
        bad("at most 3 buttons".into());
    }
    if c.buttons.iter().any(|b| b.title.is_empty() || b.title.chars().count() > 20) {
        bad("a button title has 1 to 20 characters".into());
    }
    if let Some(list) = &c.list {
        if list.rows.is_empty() || list.rows.len() > 10 {
            bad("a list has 1 to 10 rows".into());
        }
        if list.rows.iter().any(|r| r.title.is_empty() || r.title.chars().count() > 24) {
            bad("a list row title has 1 to 24 characters".into());
        }
        if list.button.is_empty() || list.button.chars().count() > 20 {
            bad("a list button has 1 to 20 characters".into());
        }
    }
    let ids: HashSet<&str> = c.choices().map(|x| x.id.as_str()).collect();
    if ids.len() != c.choices().count() || ids.iter().any(|i| i.is_empty() || i.len() > 200) {
        bad("choice ids are unique, 1 to 200 characters".into());
    }
    if let Some(m) = &c.media {
        if !matches!(m.kind.as_str(), "image" | "video" | "audio" | "document") {
            bad("media.kind is image, video, audio or document".into());
        }
        if !m.url.starts_with("https://") && !m.url.starts_with("http://") {
            bad("media.url is an http(s) URL".into());
        }
        if !c.buttons.is_empty() || c.list.is_some() {
            bad("media goes in its own message node, not with buttons or a list".into());
        }
    }
}

fn test_problems(t: &Test, bad: &mut impl FnMut(String)) {
    match t {
        Test::All { of } | Test::Any { of } => of.iter().for_each(|x| test_problems(x, bad)),
        Test::Not { of } => test_problems(of, bad),
        Test::Text { op: TextOp::Regex, to, .. } if regex::Regex::new(to).is_err() => {
            bad(format!("{to} is not a valid pattern"))
        }
        Test::Weekday { days } if days.iter().any(|d| *d > 6) => bad("weekdays are 0 (Sunday) to 6".into()),
        Test::Time { from, to } => {
            let ok = |s: &str| {
                s.split_once(':').is_some_and(|(h, m)| {
                    h.parse::<u32>().is_ok_and(|h| h < 24) && m.parse::<u32>().is_ok_and(|m| m < 60)
                })
            };
            if !ok(from) || !ok(to) {
                bad("time is from HH:MM to HH:MM".into());
            }
        }
        _ => {}
    }
}
