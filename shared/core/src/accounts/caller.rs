//! Who is calling: the account every request is scoped to, and the caller's rights.

use super::model::Profile;
use crate::error::{ServiceError, ServiceResult};

/// The authenticated caller. Built only by authentication (login session or API token);
/// every use case takes it and scopes every key by `account_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    pub user_id: String,
    pub profile: Profile,
    /// Where the request came from (the client's address), when the runtime knows it: what
    /// the audit log records.
    pub source: Option<std::net::IpAddr>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.profile == Profile::Admin
    }

    pub fn require_admin(&self) -> ServiceResult<()> {
        if self.is_admin() { Ok(()) } else { Err(ServiceError::forbidden("only admins may do this")) }
    }
}
