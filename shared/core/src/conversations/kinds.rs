//! What each channel kind allows, in one place: its window rule, whether it has templates,
//! whether the business may write first, how a contact is addressed on it, what a channel of
//! it needs to be connected. Nothing else in the domain names a channel kind: sessions,
//! routing, flows, campaigns and the console ask this module.
//!
//! The rules (Meta's and Telegram's documentation):
//! - WhatsApp: free messages for 24 h after the customer's last message; after that only
//!   an approved template.
//! - Messenger and Instagram: free messages for 24 h; a person (not a bot) may answer up to
//!   7 days with the `HUMAN_AGENT` tag; no templates; the business never writes first.
//! - Telegram: no window; no templates; the bot may write to anyone who started it.

use super::model::{ChannelKind, Contact};
use chrono::{DateTime, Duration, Utc};

/// The free-messaging window after the customer's last message.
pub const STANDARD_WINDOW: Duration = Duration::hours(24);
/// How long after the customer's last message a person may still answer on Messenger and
/// Instagram (with the `HUMAN_AGENT` tag).
pub const HUMAN_AGENT_WINDOW: Duration = Duration::days(7);

/// What may be sent on a conversation now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Anything the kind sends.
    Open,
    /// Only a person's message, tagged as a human agent's answer.
    HumanAgentOnly,
    /// Only an approved template.
    TemplatesOnly,
    /// Nothing until the customer writes again; the reason in plain words.
    Closed(&'static str),
}

impl From<Window> for super::channel_kind::WindowState {
    fn from(w: Window) -> Self {
        use super::channel_kind::WindowState as S;
        match w {
            Window::Open => S::Open,
            Window::HumanAgentOnly => S::HumanAgent,
            Window::TemplatesOnly => S::TemplatesOnly,
            Window::Closed(_) => S::Closed,
        }
    }
}

impl Window {
    /// Free messages (text, media, bots' and features' notices) go out now.
    pub fn is_open(self) -> bool {
        self == Window::Open
    }
}

/// The window of a conversation on `kind` whose customer last wrote at `last_inbound`.
pub fn window(kind: ChannelKind, last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Window {
    let since = last_inbound.map(|at| now - at);
    let within = |limit: Duration| since.is_some_and(|s| s < limit);
    match kind {
        ChannelKind::WhatsappCloud | ChannelKind::Sandbox if within(STANDARD_WINDOW) => Window::Open,
        ChannelKind::WhatsappCloud | ChannelKind::Sandbox => Window::TemplatesOnly,
        ChannelKind::Messenger | ChannelKind::Instagram if within(STANDARD_WINDOW) => Window::Open,
        ChannelKind::Messenger | ChannelKind::Instagram if within(HUMAN_AGENT_WINDOW) => {
            Window::HumanAgentOnly
        }
        ChannelKind::Messenger | ChannelKind::Instagram if last_inbound.is_none() => Window::Closed(
            "Messenger and Instagram never let a business write first: the customer must write",
        ),
        ChannelKind::Messenger | ChannelKind::Instagram => Window::Closed(
            "more than 7 days since the customer last wrote: Messenger and Instagram take nothing until they write again",
        ),
        ChannelKind::Telegram => Window::Open,
    }
}

/// Where a kind's templates are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    /// At Meta, in the WhatsApp Business Account (submitted for approval).
    Meta,
    /// Here only, approved at once (the sandbox).
    Local,
}

/// Where the kind's approved templates live; `Err` with the reason when it has none.
pub fn catalog(kind: ChannelKind) -> Result<Catalog, &'static str> {
    match kind {
        ChannelKind::WhatsappCloud => Ok(Catalog::Meta),
        ChannelKind::Sandbox => Ok(Catalog::Local),
        ChannelKind::Messenger | ChannelKind::Instagram => {
            Err("Messenger and Instagram have no templates: answer within the window instead")
        }
        ChannelKind::Telegram => Err("Telegram has no templates: send the text itself"),
    }
}

/// Whether the kind has approved templates; `Err` with the reason otherwise.
pub fn templates(kind: ChannelKind) -> Result<(), &'static str> {
    catalog(kind).map(|_| ())
}

/// Whether the business may write first on the kind (an agent's start, a campaign); `Err`
/// with the reason otherwise.
pub fn business_initiated(kind: ChannelKind) -> Result<(), &'static str> {
    match kind {
        ChannelKind::WhatsappCloud | ChannelKind::Sandbox | ChannelKind::Telegram => Ok(()),
        ChannelKind::Messenger | ChannelKind::Instagram => {
            Err("Messenger and Instagram never let a business write first: the customer must write")
        }
    }
}

/// Where a message to `contact` goes on `kind`: the WhatsApp id, or the contact's id on the
/// kind. `None`: the contact cannot be reached there.
pub fn address(kind: ChannelKind, contact: &Contact) -> Option<String> {
    match kind {
        ChannelKind::WhatsappCloud | ChannelKind::Sandbox => contact.wa_id.clone(),
        ChannelKind::Messenger | ChannelKind::Instagram | ChannelKind::Telegram => {
            contact.identities.get(kind.as_str()).cloned()
        }
    }
}

/// Why a contact cannot be reached on `kind`, in plain words.
pub fn unreachable(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::WhatsappCloud | ChannelKind::Sandbox => "The contact has no WhatsApp number.",
        ChannelKind::Messenger => "The contact has never written on Messenger.",
        ChannelKind::Instagram => "The contact has never written on Instagram.",
        ChannelKind::Telegram => "The contact has never started the Telegram bot.",
    }
}

/// Whether a send on `kind` reads the window again when it goes out (Meta's Direct
/// channels: the tag depends on the hour; WhatsApp's refusal comes back from Meta itself).
pub fn judged_at_send(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::Messenger | ChannelKind::Instagram)
}

/// The messages per second a channel of `kind` sends at unless told otherwise: Meta's
/// default throughput per number or page (80), a Telegram bot's bulk limit (30; Telegram
/// answers faster sends with 429 and `retry_after`, which is waited out).
pub fn default_rate(kind: ChannelKind) -> u32 {
    match kind {
        ChannelKind::Telegram => 30,
        ChannelKind::WhatsappCloud
        | ChannelKind::Sandbox
        | ChannelKind::Messenger
        | ChannelKind::Instagram => 80,
    }
}

/// What connecting a channel of a kind needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing: the sandbox.
    None,
    /// The provider's numeric id of what the channel speaks as, given in this field, and
    /// an access token.
    IdAndToken(IdField),
    /// A bot token (`<bot id>:<secret>`); the bot id is its number before the colon, and a
    /// webhook secret token is generated for the provider to send back.
    BotToken,
}

/// Where a new channel's provider id is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField {
    /// WhatsApp's `phone_number_id`.
    PhoneNumberId,
    /// The Page's (Messenger) or the Instagram account's (Instagram) `page_id`.
    PageId,
}

impl IdField {
    pub fn name(self) -> &'static str {
        match self {
            IdField::PhoneNumberId => "phone_number_id",
            IdField::PageId => "page_id",
        }
    }
}

pub fn credentials(kind: ChannelKind) -> Credentials {
    match kind {
        ChannelKind::Sandbox => Credentials::None,
        ChannelKind::WhatsappCloud => Credentials::IdAndToken(IdField::PhoneNumberId),
        ChannelKind::Messenger | ChannelKind::Instagram => Credentials::IdAndToken(IdField::PageId),
        ChannelKind::Telegram => Credentials::BotToken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Option<DateTime<Utc>> {
        Some(DateTime::<Utc>::UNIX_EPOCH + Duration::days(30) - Duration::hours(hours))
    }

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(30)
    }

    #[test]
    fn whatsapp_takes_free_messages_for_24_hours_then_only_templates() {
        assert_eq!(window(ChannelKind::WhatsappCloud, at(23), now()), Window::Open);
        assert_eq!(window(ChannelKind::WhatsappCloud, at(25), now()), Window::TemplatesOnly);
        assert_eq!(window(ChannelKind::WhatsappCloud, None, now()), Window::TemplatesOnly);
    }

    #[test]
    fn meta_direct_channels_take_a_persons_answer_for_7_days_and_nothing_after() {
        for kind in [ChannelKind::Messenger, ChannelKind::Instagram] {
            assert_eq!(window(kind, at(23), now()), Window::Open);
            assert_eq!(window(kind, at(72), now()), Window::HumanAgentOnly);
            assert!(matches!(window(kind, at(8 * 24), now()), Window::Closed(_)));
            assert!(matches!(window(kind, None, now()), Window::Closed(_)));
            assert!(templates(kind).is_err() && business_initiated(kind).is_err());
        }
    }

    #[test]
    fn telegram_has_no_window_and_no_templates() {
        assert_eq!(window(ChannelKind::Telegram, None, now()), Window::Open);
        assert_eq!(window(ChannelKind::Telegram, at(24 * 365), now()), Window::Open);
        assert!(templates(ChannelKind::Telegram).is_err());
        assert!(business_initiated(ChannelKind::Telegram).is_ok());
    }
}
