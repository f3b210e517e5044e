//! Login with email and password, and resolving a session's user into a [`Caller`].

use super::caller::Caller;
use super::login_guard::Guards;
use super::model::{Account, Membership, User};
use super::password;
use super::teams::{load_account, teams_of};
use super::users;
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Credentials {
    pub email: String,
    pub password: Secret,
}

fn wrong() -> ServiceError {
    ServiceError::Unauthenticated("the email or the password is wrong".into())
}

/// The user whose email and password these are, `source` the client's address when known.
/// Unknown emails, wrong passwords and deleted users are indistinguishable to the caller,
/// in answer and in time; repeated failures are throttled by [`super::login_guard`] (the
/// same for all three), and the failure that locks a user's e-mail is written to their
/// account's audit log.
pub async fn login(
    deps: &Deps,
    credentials: &Credentials,
    source: Option<std::net::IpAddr>,
) -> ServiceResult<User> {
    let guards = Guards::of(&credentials.email, source);
    guards.check(deps).await?;
    match check_password(deps, credentials).await? {
        Ok(user) => {
            guards.succeeded(deps).await?;
            Ok(user)
        }
        Err(known) => {
            let failed = guards.failed(deps).await?;
            if failed.email_locked
                && let Some((account, user)) = known
            {
                let detail =
                    serde_json::json!({"locked_minutes": super::login_guard::BY_EMAIL.lock.num_minutes()});
                audit::record_system(deps, &account, "login.locked", Some(&user), source, detail).await?;
            }
            Err(wrong())
        }
    }
}

/// The user, or (for a wrong password) the account and id of the user the e-mail names,
/// if any.
async fn check_password(
    deps: &Deps,
    credentials: &Credentials,
) -> ServiceResult<Result<User, Option<(String, String)>>> {
    let Ok(email) = users::normalize_email(&credentials.email) else {
        password::verify_dummy(&credentials.password);
        return Ok(Err(None));
    };
    let Some(marker) = deps.table.get(&keys::email(&email)).await? else {
        password::verify_dummy(&credentials.password);
        return Ok(Err(None));
    };
    let (account, user_id) = (attr::get_s(&marker, "account_id"), attr::get_s(&marker, "user_id"));
    let (Some(account), Some(user_id)) = (account, user_id) else {
        password::verify_dummy(&credentials.password);
        return Ok(Err(None));
    };
    match users::load(deps, account, user_id).await? {
        Some((user, hash)) if user.deleted_at.is_none() => {
            if password::verify(&credentials.password, &hash) {
                Ok(Ok(user))
            } else {
                Ok(Err(Some((account.to_owned(), user_id.to_owned()))))
            }
        }
        _ => {
            password::verify_dummy(&credentials.password);
            Ok(Err(None))
        }
    }
}

/// The caller a login session stands for, re-read on every request so a deleted user or a
/// changed profile takes effect at once.
pub async fn caller_for(deps: &Deps, account: &str, user: &str) -> ServiceResult<Caller> {
    match users::load(deps, account, user).await? {
        Some((user, _)) if user.deleted_at.is_none() => {
            Ok(Caller { account_id: user.account_id, user_id: user.id, profile: user.profile, source: None })
        }
        _ => Err(ServiceError::Unauthenticated("the session is no longer valid".into())),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub account: Account,
    pub teams: Vec<Membership>,
}

pub async fn me(deps: &Deps, caller: &Caller) -> ServiceResult<Me> {
    let (user, _) = users::load_active(deps, &caller.account_id, &caller.user_id).await?;
    let account = load_account(deps, &caller.account_id).await?;
    let teams = teams_of(deps, &caller.account_id, &caller.user_id).await?;
    Ok(Me { user, account, teams })
}
