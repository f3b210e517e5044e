//! The records of tenancy: accounts, users, teams, memberships, API tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A tenant. Everything belongs to exactly one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// The team that receives sessions when nothing else decides.
    pub default_team_id: String,
    /// *Tempo de segurança*: seconds (0–15) an agent's message waits before it is sent,
    /// during which it can be cancelled.
    #[serde(default)]
    pub send_delay_seconds: u32,
    /// Received audio and voice messages are transcribed (the deployment must have a
    /// speech-to-text provider).
    #[serde(default)]
    pub transcription_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// What a user may do (PRODUCT.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Everything.
    Admin,
    /// *Atendente*: works the sessions of their teams, edits contacts.
    Agent,
    /// *Atendente restrito*: only sessions they own, no contact base.
    RestrictedAgent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub account_id: String,
    /// Lower-cased; unique across the deployment (it is the login).
    pub email: String,
    pub name: String,
    /// *Apelido*: the agent signature customers see; `None` = no signature.
    pub display_name: Option<String>,
    pub profile: Profile,
    /// *Disponível*: an admin flag (vacation, leave), not an online status.
    pub available: bool,
    /// Set when the user was deleted (logically: the record stays for history).
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// Who may read a team's completed sessions (*relação de acessos x conversas*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Every user of the account.
    #[default]
    All,
    /// The team's members.
    Team,
    /// Only the agent who handled the session (plus supervisors).
    Owner,
}

/// Overflow (*transbordo*) of a team's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Overflow {
    /// Minutes (2–120) the designated member has to assume before the next one is offered it.
    #[schema(minimum = 2, maximum = 120)]
    pub handoff_minutes: u32,
    /// Minutes (at least `handoff_minutes`, at most 1440) after which the session is
    /// released to the whole team.
    #[schema(minimum = 2, maximum = 1440)]
    pub max_minutes: u32,
}

/// Distribution (*distribuição*): each new session is offered to one member in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Distribution {
    pub enabled: bool,
    pub overflow: Option<Overflow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: String,
    pub account_id: String,
    pub name: String,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub distribution: Distribution,
    /// Whether this is the account's default team (derived from the account, not stored).
    #[serde(default, skip_deserializing)]
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// A user's place in a team: a member (works own sessions, in the rotation), a supervisor
/// (sees and acts on every session of the team, not in the rotation), or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    pub team_id: String,
    pub user_id: String,
    pub member: bool,
    pub supervisor: bool,
    /// Membership creation time: the fixed order of the distribution rotation.
    pub joined_at: DateTime<Utc>,
}

/// An integrator's API token. The secret is shown once, at creation, and stored hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// The admin who created it; the token acts with that user's rights.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}
