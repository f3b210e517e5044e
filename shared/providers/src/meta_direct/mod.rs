//! Meta's Direct channels, Messenger and Instagram: one wire format for both. Webhooks
//! arrive as `{"object": "page" | "instagram", "entry": [{"id", "time", "messaging": […]}]}`
//! signed like WhatsApp's (`X-Hub-Signature-256`, the app secret); sends go to
//! `POST /{page or Instagram account id}/messages` with `recipient.id`, `messaging_type`
//! and, for a person's answer past 24 h, `tag: HUMAN_AGENT`.

pub mod client;
pub mod webhook;
