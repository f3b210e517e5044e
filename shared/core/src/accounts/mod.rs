//! Accounts (tenants), users, teams, API tokens and who is calling (PRODUCT.md §1).

pub mod caller;
pub mod login;
pub mod login_guard;
pub mod model;
pub mod password;
pub mod provisioning;
pub mod settings;

pub mod teams;
pub mod tokens;
pub mod users;

pub use caller::Caller;
pub use model::{Account, ApiToken, Distribution, Membership, Overflow, Profile, Team, User, Visibility};
