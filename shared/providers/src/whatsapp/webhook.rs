//! Meta's webhook payloads (`object: whatsapp_business_account`) into normalised events.
//! Unknown `field`s are skipped, unknown message types become `unsupported` with the raw
//! message kept, extra attributes are ignored.

use atende_core::conversations::MessageKind;
use atende_core::conversations::events::{
    ChannelRef, DeliveryStatus, InboundEvent, InboundMessage, QualityUpdate, StatusUpdate, TemplateChange,
    TemplateUpdate,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::inbound::text as s;
pub use crate::inbound::{ParseError, Route};

fn epoch(raw: &Value) -> DateTime<Utc> {
    let secs = match raw {
        Value::String(s) => s.parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    secs.and_then(|s| DateTime::from_timestamp(s, 0)).unwrap_or_else(Utc::now)
}

pub fn parse(body: &[u8], route: &Route) -> Result<Vec<InboundEvent>, ParseError> {
    let root = crate::inbound::json(body)?;
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(ParseError::NotThis("a WhatsApp webhook: no entry list"))?;
    let mut events = Vec::new();
    for entry in entries {
        let waba = entry.get("id").and_then(Value::as_str).unwrap_or_default();
        for change in entry.get("changes").and_then(Value::as_array).into_iter().flatten() {
            let value = &change["value"];
            match change.get("field").and_then(Value::as_str) {
                Some("messages") => parse_messages(value, route, &mut events),
                Some(
                    field @ ("message_template_status_update"
                    | "template_category_update"
                    | "message_template_quality_update"),
                ) => {
                    if let Some(update) = template_update(field, waba, entry.get("time"), value) {
                        events.push(InboundEvent::Template(update));
                    }
                }
                Some("phone_number_quality_update") => {
                    if let Some(event) = s(&value["event"]) {
                        events.push(InboundEvent::Quality(QualityUpdate {
                            waba_id: waba.to_owned(),
                            display_phone_number: s(&value["display_phone_number"]),
                            event,
                            current_limit: s(&value["current_limit"]),
                        }));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(events)
}

/// A template's status, category or quality change. An announced category change
/// (`correct_category`, not yet applied) changes nothing.
fn template_update(field: &str, waba: &str, time: Option<&Value>, value: &Value) -> Option<TemplateUpdate> {
    let change = match field {
        "message_template_status_update" => {
            TemplateChange::Status { event: s(&value["event"])?, reason: s(&value["reason"]) }
        }
        // Only a done change names the previous category; an announcement does not.
        "template_category_update" if value.get("previous_category").is_some() => {
            TemplateChange::Category { new_category: s(&value["new_category"])? }
        }
        "template_category_update" => return None,
        _ => TemplateChange::Quality { score: s(&value["new_quality_score"])? },
    };
    Some(TemplateUpdate {
        waba_id: waba.to_owned(),
        name: s(&value["message_template_name"])?,
        language: s(&value["message_template_language"]).unwrap_or_default(),
        at: time.and_then(|t| t.as_i64().or_else(|| t.as_str().and_then(|x| x.parse().ok()))),
        change,
    })
}

fn parse_messages(value: &Value, route: &Route, events: &mut Vec<InboundEvent>) {
    let Some(channel) = route.channel(value["metadata"]["phone_number_id"].as_str()) else { return };
    let mut profiles: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for c in value["contacts"].as_array().into_iter().flatten() {
        if let Some(wa) = c["wa_id"].as_str() {
            profiles.insert(wa.to_owned(), (s(&c["profile"]["name"]), s(&c["user_id"])));
        }
    }
    for m in value["messages"].as_array().into_iter().flatten() {
        if let Some(event) = message(m, &channel, &profiles) {
            events.push(InboundEvent::Message(Box::new(event)));
        }
    }
    for st in value["statuses"].as_array().into_iter().flatten() {
        let status = match st["status"].as_str() {
            Some("sent") => DeliveryStatus::Sent,
            Some("delivered") => DeliveryStatus::Delivered,
            Some("read") | Some("played") => DeliveryStatus::Read,
            Some("failed") => DeliveryStatus::Failed,
            _ => continue,
        };
        let Some(id) = s(&st["id"]) else { continue };
        let error = &st["errors"][0];
        events.push(InboundEvent::Status(StatusUpdate {
            channel: channel.clone(),
            provider_id: id,
            recipient: s(&st["recipient_id"]),
            status,
            at: epoch(&st["timestamp"]),
            error_code: error["code"].as_i64(),
            error_title: s(&error["title"]).or_else(|| s(&error["message"])),
        }));
    }
}

fn message(
    m: &Value,
    channel: &ChannelRef,
    profiles: &HashMap<String, (Option<String>, Option<String>)>,
) -> Option<InboundMessage> {
    let provider_id = s(&m["id"])?;
    let wa_id = s(&m["from"]);
    let (profile_name, bsuid) = wa_id.as_ref().and_then(|w| profiles.get(w)).cloned().unwrap_or_default();
    let bsuid = bsuid.or_else(|| s(&m["from_user_id"]));
    let kind_raw = m["type"].as_str().unwrap_or("unsupported");
    let mut event = InboundMessage {
        wa_id,
        bsuid,
        profile_name,
        reply_to: s(&m["context"]["id"]),
        forwarded: m["context"]["forwarded"].as_bool().unwrap_or(false)
            || m["context"]["frequently_forwarded"].as_bool().unwrap_or(false),
        referral: m.get("referral").cloned(),
        ..InboundMessage::new(channel.clone(), provider_id, epoch(&m["timestamp"]))
    };
    let body = &m[kind_raw];
    match kind_raw {
        "text" => {
            event.kind = MessageKind::Text;
            event.text = s(&body["body"]);
        }
        "image" | "video" | "document" | "audio" | "sticker" => {
            event.kind = match kind_raw {
                "image" => MessageKind::Image,
                "video" => MessageKind::Video,
                "document" => MessageKind::Document,
                "sticker" => MessageKind::Sticker,
                _ if body["voice"].as_bool() == Some(true) => MessageKind::Voice,
                _ => MessageKind::Audio,
            };
            event.media_id = s(&body["id"]);
            event.mime_type = s(&body["mime_type"]);
            event.filename = s(&body["filename"]);
            event.text = s(&body["caption"]);
            event.content =
                json!({"sha256": body["sha256"], "animated": body["animated"], "url": body["url"]});
        }
        "reaction" => {
            event.kind = MessageKind::Reaction;
            let target = s(&body["message_id"]).unwrap_or_default();
            event.reaction = Some((target, body["emoji"].as_str().unwrap_or_default().to_owned()));
        }
        "location" => {
            event.kind = MessageKind::Location;
            event.text = s(&body["name"]).or_else(|| s(&body["address"]));
            event.content = body.clone();
        }
        "contacts" => {
            event.kind = MessageKind::Contacts;
            event.content = body.clone();
            event.text = body[0]["name"]["formatted_name"].as_str().map(str::to_owned);
        }
        "interactive" if body.is_object() => {
            let reply =
                body.get("button_reply").or_else(|| body.get("list_reply")).or_else(|| body.get("nfm_reply"));
            match reply {
                Some(r) => {
                    event.kind = MessageKind::InteractiveReply;
                    event.text = s(&r["title"]).or_else(|| s(&r["body"]));
                    event.content = body.clone();
                }
                None => unsupported(&mut event, m),
            }
        }
        "button" => {
            event.kind = MessageKind::ButtonReply;
            event.text = s(&body["text"]);
            event.content = body.clone();
        }
        "order" => {
            event.kind = MessageKind::Order;
            event.text = s(&body["text"]);
            event.content = body.clone();
        }
        "system" => {
            event.kind = MessageKind::System;
            event.text = s(&body["body"]);
            event.content = body.clone();
        }
        _ => unsupported(&mut event, m),
    }
    Some(event)
}

/// Kept whole, never dropped: agents see that something arrived.
fn unsupported(event: &mut InboundMessage, raw: &Value) {
    event.kind = MessageKind::Unsupported;
    event.content = raw.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_a_parse_error_not_a_panic() {
        assert!(matches!(parse(b"{nope", &Route::ByProviderId), Err(ParseError::NotJson(_))));
        assert!(matches!(parse(b"[]", &Route::ByProviderId), Err(ParseError::NotThis(_))));
        assert_eq!(
            parse(br#"{"entry":[{"changes":[{"field":"calls","value":{}}]}]}"#, &Route::ByProviderId),
            Ok(vec![])
        );
    }
}
