//! Telegram's Bot API: updates in (`setWebhook` with a `secret_token` that comes back as
//! `X-Telegram-Bot-Api-Secret-Token`), `sendMessage`, `sendPhoto`, `sendDocument`,
//! `sendVoice`, `sendAudio`, `sendVideo` out, files through `getFile`.

pub mod client;
pub mod webhook;

/// The header Telegram sends the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
