//! Every key pattern of the single table, one function per access pattern.
//!
//! Every partition key starts with the account (`A#<account>`), with one exception: the
//! login lookup `EMAIL#<email>`, which must be found before the account is known.

use crate::ports::Key;

pub fn account_pk(account: &str) -> String {
    format!("A#{account}")
}

/// `A#<account>` / `ACCOUNT`: the account itself.
pub fn account(account: &str) -> Key {
    Key::new(account_pk(account), "ACCOUNT")
}

pub const USER_PREFIX: &str = "USER#";
/// `A#<account>` / `USER#<user>`: a user; all users of an account share the partition.
pub fn user(account: &str, user: &str) -> Key {
    Key::new(account_pk(account), format!("{USER_PREFIX}{user}"))
}

/// `EMAIL#<email>` / `EMAIL`: the login lookup and the global uniqueness of an email.
pub fn email(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

pub const TEAM_PREFIX: &str = "TEAM#";
/// `A#<account>` / `TEAM#<team>`: a team.
pub fn team(account: &str, team: &str) -> Key {
    Key::new(account_pk(account), format!("{TEAM_PREFIX}{team}"))
}

/// Prefix of the memberships of one team, in the account partition.
pub fn team_members_prefix(team: &str) -> String {
    format!("MEMBER#{team}#")
}

/// `A#<account>` / `MEMBER#<team>#<user>`: a user's membership of a team.
/// Indexed on gsi1 as `A#<account>#USERTEAMS#<user>` / `<team>` (a user's teams).
pub fn membership(account: &str, team: &str, user: &str) -> Key {
    Key::new(account_pk(account), format!("{}{user}", team_members_prefix(team)))
}

/// gsi1 partition listing a user's teams.
pub fn user_teams_gsi1pk(account: &str, user: &str) -> String {
    format!("A#{account}#USERTEAMS#{user}")
}

pub const TOKEN_PREFIX: &str = "TOKEN#";
/// `A#<account>` / `TOKEN#<token>`: an API token (its secret only as a hash).
pub fn api_token(account: &str, token: &str) -> Key {
    Key::new(account_pk(account), format!("{TOKEN_PREFIX}{token}"))
}
