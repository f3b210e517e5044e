//! A message template's record and content types: a leaf (nothing of the crate imported),
//! so the template catalogue port can speak of templates without importing the model.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
    /// Deleted at Meta (by its webhook or found missing by a sync): kept so campaigns and
    /// sequences that name it can say why they stopped.
    Deleted,
}

/// Meta's rating of a template from its readers' reactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateQuality {
    Green,
    Yellow,
    Red,
    Unknown,
}

/// A template's header: a text (at most one `{{1}}` or `{{name}}` variable) or a media
/// file, from an upload (`blob_key`) or a public `link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum TemplateHeader {
    Text {
        text: String,
    },
    Image {
        #[serde(default)]
        blob_key: Option<String>,
        #[serde(default)]
        link: Option<String>,
    },
    Video {
        #[serde(default)]
        blob_key: Option<String>,
        #[serde(default)]
        link: Option<String>,
    },
    Document {
        #[serde(default)]
        blob_key: Option<String>,
        #[serde(default)]
        link: Option<String>,
        #[serde(default)]
        filename: Option<String>,
    },
}

/// A template button. A URL may end in one variable (`https://x.com/pedido/{{1}}`): the
/// dynamic suffix given at each send; a copy-code button's code is given at each send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TemplateButton {
    QuickReply {
        text: String,
    },
    Url {
        text: String,
        url: String,
    },
    PhoneNumber {
        text: String,
        phone_number: String,
    },
    /// Meta names the button itself ("Copiar código"); `example` is a sample code.
    CopyCode {
        example: String,
    },
}

impl TemplateButton {
    /// Whether each send gives this button a value (a URL suffix or a code).
    pub fn is_dynamic(&self) -> bool {
        match self {
            TemplateButton::Url { url, .. } => url.contains("{{"),
            TemplateButton::CopyCode { .. } => true,
            _ => false,
        }
    }
}

/// What a template says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateContent {
    #[serde(default)]
    pub header: Option<TemplateHeader>,
    /// ≤ 1024 characters with `{{1}}` or `{{name}}` parameters.
    pub body: String,
    /// ≤ 60 characters, no variables.
    #[serde(default)]
    pub footer: Option<String>,
    /// Up to 10: quick replies, URLs (≤ 2), a phone number (≤ 1), a copy code (≤ 1).
    #[serde(default)]
    pub buttons: Vec<TemplateButton>,
}

impl TemplateContent {
    /// The same content with its texts trimmed (as an admin's input is kept).
    pub fn trimmed(self) -> Self {
        Self { body: self.body.trim().to_owned(), footer: self.footer.map(|f| f.trim().to_owned()), ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Template {
    pub id: String,
    pub account_id: String,
    pub channel_id: String,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    #[serde(flatten)]
    pub content: TemplateContent,
    pub status: TemplateStatus,
    pub status_reason: Option<String>,
    /// Meta's id of the template (absent on the sandbox).
    #[serde(default)]
    pub meta_id: Option<String>,
    #[serde(default)]
    pub quality: Option<TemplateQuality>,
    /// The category before Meta recategorised it, when it did.
    #[serde(default)]
    pub previous_category: Option<TemplateCategory>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl Template {
    /// A new record, `pending`, with no content yet and nothing known of it at Meta.
    pub fn pending(
        id: String,
        account_id: &str,
        channel_id: &str,
        name: &str,
        language: &str,
        category: TemplateCategory,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            account_id: account_id.to_owned(),
            channel_id: channel_id.to_owned(),
            name: name.trim().to_owned(),
            language: language.trim().to_owned(),
            category,
            content: TemplateContent::default(),
            status: TemplateStatus::Pending,
            status_reason: None,
            meta_id: None,
            quality: None,
            previous_category: None,
            created_at,
            updated_at: None,
            version: 1,
        }
    }
}
