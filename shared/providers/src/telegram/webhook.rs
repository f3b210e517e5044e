//! Telegram updates into normalised events. A message's id is `<chat id>:<message id>`
//! (Telegram numbers messages per chat), so a redelivered update is the same event; a
//! button tap (`callback_query`) is a choice reply; any other update is kept raw as an
//! `unsupported` message under `update:<update_id>`, never dropped.

use atende_core::conversations::events::{ChannelRef, InboundEvent, InboundMessage};
use atende_core::conversations::{ChannelKind, Identity, MessageKind};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub use crate::inbound::ParseError;
use crate::inbound::text as s;

const NOT_AN_UPDATE: ParseError = ParseError::NotThis("a Telegram update: it has no update_id");

/// A message's provider id: unique within the bot.
pub fn message_id(chat: &Value, message: &Value) -> Option<String> {
    Some(format!("{}:{}", chat.as_i64()?, message.as_i64()?))
}

fn name_of(user: &Value) -> Option<String> {
    let name = [user["first_name"].as_str(), user["last_name"].as_str()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(name).filter(|n| !n.is_empty()).or_else(|| s(&user["username"]))
}

/// The update's event for `channel` (a bot's updates arrive on the channel's own URL).
pub fn parse(body: &[u8], channel: &str) -> Result<Vec<InboundEvent>, ParseError> {
    let root = crate::inbound::json(body)?;
    let update_id = root["update_id"].as_i64().ok_or(NOT_AN_UPDATE)?;
    let channel = ChannelRef::Channel(channel.to_owned());
    let (message, callback) = (root.get("message"), root.get("callback_query"));
    // Any other update (an edit, a reaction…) is tied to the chat it names.
    let other = root.as_object().and_then(|o| o.values().find(|v| v.get("chat").is_some()));
    let chat = message
        .map(|m| &m["chat"])
        .or_else(|| callback.map(|c| &c["message"]["chat"]))
        .or_else(|| other.map(|o| &o["chat"]));
    let from = message.or(other).map(|m| &m["from"]).or_else(|| callback.map(|c| &c["from"]));
    let Some(chat_id) = chat.and_then(|c| c["id"].as_i64()) else {
        // No chat to tie it to (a poll's result, a bot's own membership change…): nothing
        // a conversation can show.
        return Ok(Vec::new());
    };
    let sent_at = message
        .and_then(|m| m["date"].as_i64())
        .and_then(|d| DateTime::<Utc>::from_timestamp(d, 0))
        .unwrap_or_else(Utc::now);
    let mut event = InboundMessage {
        identity: Some(Identity { kind: ChannelKind::Telegram, id: chat_id.to_string() }),
        profile_name: from.and_then(name_of),
        content: root.clone(),
        ..InboundMessage::new(channel, format!("update:{update_id}"), sent_at)
    };
    if let Some(c) = callback {
        event.kind = MessageKind::InteractiveReply;
        let title = chosen_title(c);
        event.text = title.clone().or_else(|| s(&c["data"]));
        event.content = json!({"type": "button_reply", "button_reply": {"id": c["data"], "title": title}});
        return Ok(vec![InboundEvent::Message(Box::new(event))]);
    }
    let Some(m) = message else { return Ok(vec![InboundEvent::Message(Box::new(event))]) };
    event.provider_id = message_id(&m["chat"]["id"], &m["message_id"]).unwrap_or(event.provider_id);
    event.reply_to = m.get("reply_to_message").and_then(|r| message_id(&m["chat"]["id"], &r["message_id"]));
    event.forwarded = m.get("forward_origin").is_some() || m.get("forward_date").is_some();
    event.text = s(&m["text"]).or_else(|| s(&m["caption"]));
    event.content = Value::Null;
    let media = |field: &str| m.get(field).filter(|v| !v.is_null());
    if event.text.is_some() && m.get("text").is_some() {
        event.kind = MessageKind::Text;
    } else if let Some(sizes) = media("photo").and_then(Value::as_array) {
        // The largest size is last.
        event.kind = MessageKind::Image;
        event.media_id = sizes.last().and_then(|p| s(&p["file_id"]));
        event.mime_type = Some("image/jpeg".into());
    } else if let Some((field, kind)) = [
        ("voice", MessageKind::Voice),
        ("audio", MessageKind::Audio),
        ("video", MessageKind::Video),
        ("video_note", MessageKind::Video),
        ("document", MessageKind::Document),
        ("sticker", MessageKind::Sticker),
    ]
    .into_iter()
    .find(|(field, _)| media(field).is_some())
    {
        let file = &m[field];
        event.kind = kind;
        event.media_id = s(&file["file_id"]);
        event.mime_type = s(&file["mime_type"]);
        event.filename = s(&file["file_name"]);
    } else if let Some(location) = media("location") {
        event.kind = MessageKind::Location;
        event.content = location.clone();
    } else if let Some(contact) = media("contact") {
        event.kind = MessageKind::Contacts;
        event.text = name_of(contact);
        event.content = contact.clone();
    } else {
        event.content = m.clone();
    }
    Ok(vec![InboundEvent::Message(Box::new(event))])
}

/// The label of the inline button tapped, read from the message's keyboard.
fn chosen_title(callback: &Value) -> Option<String> {
    let data = callback["data"].as_str()?;
    callback["message"]["reply_markup"]["inline_keyboard"]
        .as_array()?
        .iter()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .find(|b| b["callback_data"].as_str() == Some(data))
        .and_then(|b| s(&b["text"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_a_parse_error_and_an_update_without_a_chat_is_nothing() {
        assert!(matches!(parse(b"{nope", "c"), Err(ParseError::NotJson(_))));
        assert_eq!(parse(b"{}", "c"), Err(NOT_AN_UPDATE));
        assert_eq!(parse(br#"{"update_id": 3, "poll": {"id": "1"}}"#, "c"), Ok(vec![]));
    }

    #[test]
    fn a_photo_takes_its_largest_size_and_an_edit_is_kept_raw() {
        let photo = json!({"update_id": 10, "message": {"message_id": 7, "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "first_name": "Ana", "last_name": "Lima"},
            "caption": "nota", "photo": [{"file_id": "small"}, {"file_id": "big"}]}});
        let events = parse(photo.to_string().as_bytes(), "c").unwrap();
        let InboundEvent::Message(m) = &events[0] else { panic!("a message") };
        assert_eq!(
            (m.kind, m.media_id.as_deref(), m.text.as_deref()),
            (MessageKind::Image, Some("big"), Some("nota"))
        );
        assert_eq!((m.provider_id.as_str(), m.profile_name.as_deref()), ("42:7", Some("Ana Lima")));
        let edit =
            json!({"update_id": 11, "edited_message": {"message_id": 7, "chat": {"id": 42}, "text": "novo"}});
        let events = parse(edit.to_string().as_bytes(), "c").unwrap();
        let InboundEvent::Message(m) = &events[0] else { panic!("a message") };
        assert_eq!((m.kind, m.provider_id.as_str()), (MessageKind::Unsupported, "update:11"));
        assert_eq!(m.content["edited_message"]["text"], "novo");
    }
}
