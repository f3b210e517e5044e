//! The records of campaigns: the campaign people edit, its recipients and their states.

use super::window::SendingWindow;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    /// Waiting for its start time.
    Scheduled,
    /// Materialising its audience and sending.
    Running,
    /// Stopped by an admin, by the allowed hours, or by a safety rule (the reason says).
    Paused,
    /// Every recipient handled; replies are attributed for 5 days.
    Collecting,
    Completed,
    /// Stopped for good; recipients not yet sent are never sent.
    Cancelled,
    /// Could not run (the template or channel went away).
    Failed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Collecting => "collecting",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }
}

/// Whether tags must all be present, or any one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TagMatch {
    #[default]
    Any,
    All,
}

/// Who receives a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Contacts carrying any (or all) of these tags.
    Tags {
        tag_ids: Vec<String>,
        #[serde(default)]
        r#match: TagMatch,
    },
    /// These contacts (up to [`super::MAX_LISTED_CONTACTS`]).
    Contacts { contact_ids: Vec<String> },
    /// The contacts of a finished contact import (its file's numbers).
    Import { import_id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub channel_id: String,
    /// The team that receives the replies.
    pub team_id: String,
    /// The flow (published) that answers replies to the campaign before its team does.
    pub bot_id: Option<String>,
    /// An approved template of the channel.
    pub template_id: String,
    /// The template's parameters: a list (`{{1}}`…) or an object (`{{name}}`…) of texts,
    /// each a fixed value or `{{variables}}` of the contact (`{{first_name}}`,
    /// `{{custom.plano}}`), filled per recipient.
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub audience: Audience,
    /// When to start; none means when an admin starts it.
    pub start_at: Option<DateTime<Utc>>,
    /// Allowed sending hours: paused outside, resumed inside.
    pub window: Option<SendingWindow>,
    pub status: CampaignStatus,
    /// Why it paused or failed, in plain words.
    pub status_reason: Option<String>,
    /// Paused by its allowed hours (resumed by them), not by a person or a safety rule.
    #[serde(default)]
    pub paused_by_window: bool,
    #[serde(default)]
    pub archived: bool,
    /// Messages per second it may take (the channel's limit, lowered by Meta's 130429).
    pub rate_per_second: u32,
    /// When Meta's 130429 last lowered the rate.
    #[serde(default)]
    pub slowed_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    /// Replies are attributed until then.
    pub collecting_until: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    Queued,
    /// Claimed by the send: becomes sent or failed.
    Sending,
    Sent,
    Delivered,
    Read,
    Replied,
    Failed,
    Skipped,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Replied => "replied",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    /// Forward order of the funnel; failed and skipped are terminal (None).
    pub fn rank(self) -> Option<u8> {
        match self {
            Self::Queued => Some(0),
            Self::Sending => Some(1),
            Self::Sent => Some(2),
            Self::Delivered => Some(3),
            Self::Read => Some(4),
            Self::Replied => Some(5),
            Self::Failed | Self::Skipped => None,
        }
    }

    /// Reached the provider (sent or beyond).
    pub fn went_out(self) -> bool {
        self.rank().is_some_and(|r| r >= 2)
    }
}

/// Why a recipient was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    OptedOut,
    Blocked,
    Erased,
    DuplicateNumber,
    InvalidNumber,
    /// Listed but no longer exists.
    ContactMissing,
    /// The campaign was cancelled before it was sent.
    Cancelled,
}

impl SkipReason {
    pub const ALL: [SkipReason; 7] = [
        Self::OptedOut,
        Self::Blocked,
        Self::Erased,
        Self::DuplicateNumber,
        Self::InvalidNumber,
        Self::ContactMissing,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::Blocked => "blocked",
            Self::Erased => "erased",
            Self::DuplicateNumber => "duplicate_number",
            Self::InvalidNumber => "invalid_number",
            Self::ContactMissing => "contact_missing",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One recipient of a campaign, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    pub contact_id: String,
    pub name: Option<String>,
    /// The WhatsApp number it was sent to.
    pub wa_id: Option<String>,
    pub status: RecipientStatus,
    /// Why it failed (Meta's reason in plain words) or was skipped.
    pub reason: Option<String>,
    pub error_code: Option<i64>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    /// The session its reply opened.
    pub session_id: Option<String>,
}
