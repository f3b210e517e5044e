//! Messenger's and Instagram's webhook payloads into normalised events: messages (text,
//! attachments, quick replies), postbacks (a tapped button), reactions, `delivery` and `read`
//! events. Echoes of the page's own messages are skipped; any other event is kept raw as an
//! `unsupported` message, never dropped.

use atende_core::conversations::events::{
    ChannelRef, DeliveryStatus, InboundEvent, InboundMessage, StatusUpdate, Watermark,
};
use atende_core::conversations::{ChannelKind, Identity, MessageKind};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::inbound::text as s;
pub use crate::inbound::{ParseError, Route};

fn millis(v: &Value) -> DateTime<Utc> {
    v.as_i64().and_then(DateTime::from_timestamp_millis).unwrap_or_else(Utc::now)
}

/// A Messenger payload's events (`object: page`).
pub fn parse_messenger(body: &[u8], route: &Route) -> Result<Vec<InboundEvent>, ParseError> {
    parse(body, ChannelKind::Messenger, ("page", "a Messenger webhook"), route)
}

/// An Instagram payload's events (`object: instagram`).
pub fn parse_instagram(body: &[u8], route: &Route) -> Result<Vec<InboundEvent>, ParseError> {
    parse(body, ChannelKind::Instagram, ("instagram", "an Instagram webhook"), route)
}

/// The events of a payload whose `object` must be `object`.
fn parse(
    body: &[u8],
    kind: ChannelKind,
    (object, what): (&str, &'static str),
    route: &Route,
) -> Result<Vec<InboundEvent>, ParseError> {
    let root = crate::inbound::json(body)?;
    if root["object"].as_str() != Some(object) {
        return Err(ParseError::NotThis(what));
    }
    let entries = root["entry"].as_array().ok_or(ParseError::NotThis(what))?;
    let mut events = Vec::new();
    for entry in entries {
        let Some(channel) = route.channel(entry["id"].as_str()) else { continue };
        for m in entry["messaging"].as_array().into_iter().flatten() {
            events.extend(event(m, kind, &channel));
        }
    }
    Ok(events)
}

fn event(m: &Value, kind: ChannelKind, channel: &ChannelRef) -> Vec<InboundEvent> {
    let Some(sender) = s(&m["sender"]["id"]) else { return Vec::new() };
    let identity = Identity { kind, id: sender };
    let at = millis(&m["timestamp"]);
    if let Some(delivery) = m.get("delivery") {
        return watermark(channel, identity.clone(), DeliveryStatus::Delivered, &delivery["watermark"])
            .or_else(|| mids(channel, &identity, DeliveryStatus::Delivered, &delivery["mids"], at))
            .unwrap_or_default();
    }
    if let Some(read) = m.get("read") {
        // Messenger names a watermark; Instagram names the message read.
        return watermark(channel, identity.clone(), DeliveryStatus::Read, &read["watermark"])
            .or_else(|| mids(channel, &identity, DeliveryStatus::Read, &json!([read["mid"]]), at))
            .unwrap_or_default();
    }
    let mut base = InboundMessage {
        identity: Some(identity),
        referral: m.get("referral").cloned(),
        ..InboundMessage::new(channel.clone(), String::new(), at)
    };
    if let Some(message) = m.get("message") {
        if message["is_echo"].as_bool() == Some(true) {
            return Vec::new();
        }
        let Some(mid) = s(&message["mid"]) else { return Vec::new() };
        base.provider_id = mid;
        base.reply_to = s(&message["reply_to"]["mid"]);
        return message_events(base, message);
    }
    if let Some(postback) = m.get("postback") {
        // A tapped button: the neutral choice-reply form flows and surveys read.
        base.provider_id =
            s(&postback["mid"]).unwrap_or_else(|| format!("postback:{}", at.timestamp_millis()));
        base.kind = MessageKind::InteractiveReply;
        base.text = s(&postback["title"]);
        base.content = json!({"type": "button_reply", "button_reply": {"id": postback["payload"], "title": postback["title"]}});
        return vec![InboundEvent::Message(Box::new(base))];
    }
    if let Some(reaction) = m.get("reaction") {
        let Some(target) = s(&reaction["mid"]) else { return Vec::new() };
        let emoji = match reaction["action"].as_str() {
            Some("unreact") => String::new(),
            _ => s(&reaction["emoji"]).or_else(|| s(&reaction["reaction"])).unwrap_or_default(),
        };
        base.provider_id = format!("reaction:{target}:{}", at.timestamp_millis());
        base.kind = MessageKind::Reaction;
        base.reaction = Some((target, emoji));
        return vec![InboundEvent::Message(Box::new(base))];
    }
    // Anything else (referrals alone, optins, handovers…): kept whole.
    base.provider_id = format!(
        "event:{}:{}",
        base.identity.as_ref().map(|i| i.id.as_str()).unwrap_or("-"),
        at.timestamp_millis()
    );
    base.content = m.clone();
    vec![InboundEvent::Message(Box::new(base))]
}

/// A message's events: its text (and quick reply), and one per attachment (the first under
/// the message's own id, the others under `<mid>#<n>`).
fn message_events(mut base: InboundMessage, message: &Value) -> Vec<InboundEvent> {
    let text = s(&message["text"]);
    if let Some(payload) = message["quick_reply"]["payload"].as_str() {
        base.kind = MessageKind::InteractiveReply;
        base.text = text;
        base.content = json!({"type": "button_reply", "button_reply": {"id": payload, "title": base.text}});
        return vec![InboundEvent::Message(Box::new(base))];
    }
    let attachments = message["attachments"].as_array().cloned().unwrap_or_default();
    if attachments.is_empty() {
        match text {
            Some(t) => {
                base.kind = MessageKind::Text;
                base.text = Some(t);
            }
            None => base.content = message.clone(),
        }
        return vec![InboundEvent::Message(Box::new(base))];
    }
    let mut out = Vec::new();
    for (n, a) in attachments.iter().enumerate() {
        let mut event = base.clone();
        if n > 0 {
            event.provider_id = format!("{}#{n}", base.provider_id);
        }
        event.text = if n == 0 { text.clone() } else { None };
        let url = s(&a["payload"]["url"]);
        event.kind = match a["type"].as_str() {
            Some("image") if a["payload"]["sticker_id"].is_null() => MessageKind::Image,
            Some("image") => MessageKind::Sticker,
            Some("video") => MessageKind::Video,
            Some("audio") => MessageKind::Audio,
            Some("file") => MessageKind::Document,
            _ => MessageKind::Unsupported,
        };
        if event.kind.is_media() {
            // Meta's attachment URL is the file itself: fetched as it is.
            event.media_id = url;
        }
        event.content = a.clone();
        out.push(InboundEvent::Message(Box::new(event)));
    }
    out
}

fn watermark(
    channel: &ChannelRef,
    identity: Identity,
    status: DeliveryStatus,
    raw: &Value,
) -> Option<Vec<InboundEvent>> {
    let watermark = DateTime::from_timestamp_millis(raw.as_i64()?)?;
    Some(vec![InboundEvent::Watermark(Watermark { channel: channel.clone(), identity, status, watermark })])
}

fn mids(
    channel: &ChannelRef,
    identity: &Identity,
    status: DeliveryStatus,
    raw: &Value,
    at: DateTime<Utc>,
) -> Option<Vec<InboundEvent>> {
    let list: Vec<InboundEvent> = raw
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(|mid| {
            InboundEvent::Status(StatusUpdate {
                channel: channel.clone(),
                provider_id: mid.to_owned(),
                recipient: Some(identity.id.clone()),
                status,
                at,
                error_code: None,
                error_title: None,
            })
        })
        .collect();
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: Value, kind: ChannelKind) -> Vec<InboundEvent> {
        let parse = if kind == ChannelKind::Instagram { parse_instagram } else { parse_messenger };
        parse(body.to_string().as_bytes(), &Route::ByProviderId).unwrap()
    }

    #[test]
    fn junk_and_the_wrong_object_are_parse_errors_not_panics() {
        assert!(matches!(parse_messenger(b"{nope", &Route::ByProviderId), Err(ParseError::NotJson(_))));
        let ig = br#"{"object":"instagram","entry":[]}"#;
        assert!(matches!(parse_messenger(ig, &Route::ByProviderId), Err(ParseError::NotThis(_))));
        assert_eq!(parse_instagram(ig, &Route::ByProviderId), Ok(vec![]));
    }

    #[test]
    fn echoes_are_skipped_and_unknown_events_are_kept_raw() {
        let body = json!({"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [
            {"sender": {"id": "1"}, "recipient": {"id": "9"}, "timestamp": 5, "message": {"mid": "m_1", "is_echo": true, "text": "x"}},
            {"sender": {"id": "9"}, "recipient": {"id": "1"}, "timestamp": 6, "optin": {"ref": "abc"}}
        ]}]});
        let events = one(body, ChannelKind::Messenger);
        assert_eq!(events.len(), 1);
        let InboundEvent::Message(m) = &events[0] else { panic!("a message") };
        assert_eq!(m.kind, MessageKind::Unsupported);
        assert_eq!(m.content["optin"]["ref"], "abc");
    }

    #[test]
    fn a_read_is_a_watermark_on_messenger_and_a_message_on_instagram() {
        let read = |object: &str, read: Value| {
            json!({"object": object, "entry": [{"id": "1", "time": 1, "messaging": [
                {"sender": {"id": "9"}, "recipient": {"id": "1"}, "timestamp": 7, "read": read}]}]})
        };
        let m = one(read("page", json!({"watermark": 1_700_000_000_000_i64})), ChannelKind::Messenger);
        assert!(matches!(&m[0], InboundEvent::Watermark(w) if w.status == DeliveryStatus::Read));
        let i = one(read("instagram", json!({"mid": "aWdfZ"})), ChannelKind::Instagram);
        assert!(
            matches!(&i[0], InboundEvent::Status(s) if s.provider_id == "aWdfZ" && s.status == DeliveryStatus::Read)
        );
    }
}
