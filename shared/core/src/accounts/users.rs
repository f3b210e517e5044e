//! Users: created, changed and (logically) deleted by admins; listed by anyone in the account.

use super::caller::Caller;
use super::model::{Profile, User};
use super::password;
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TransactItem};
use crate::record::{concurrent, from_item, to_item};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(crate) const PASSWORD_HASH: &str = "password_hash";
/// Largest page any list returns.
pub const MAX_PAGE: u32 = 100;
pub const DEFAULT_PAGE: u32 = 50;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewUser {
    pub email: String,
    pub password: Secret,
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub profile: Profile,
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

/// Changes to a user; absent fields stay. A blank `display_name` removes the signature.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub profile: Option<Profile>,
    pub available: Option<bool>,
    pub password: Option<Secret>,
}

/// What users may change about themselves. A new password needs the current one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MePatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub password: Option<Secret>,
    pub current_password: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<User>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Lower-cases and checks an email address.
pub fn normalize_email(raw: &str) -> ServiceResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if valid { Ok(email) } else { Err(ServiceError::invalid("the email address is not valid")) }
}

pub fn clean_name(raw: &str) -> ServiceResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ServiceError::invalid("a name needs 1 to 120 characters"));
    }
    Ok(name.to_owned())
}

fn clean_display_name(raw: Option<String>) -> ServiceResult<Option<String>> {
    match raw.map(|s| s.trim().to_owned()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() > 60 => {
            Err(ServiceError::invalid("a display name has at most 60 characters"))
        }
        Some(s) => Ok(Some(s)),
    }
}

pub(crate) fn user_item(user: &User, password_hash: &str) -> ServiceResult<Item> {
    let mut item = to_item(&keys::user(&user.account_id, &user.id), user)?;
    item.insert(PASSWORD_HASH.into(), attr::s(password_hash));
    Ok(item)
}

/// The user with their password hash, if the user exists in the account (deleted or not).
pub(crate) async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Option<(User, String)>> {
    let Some(item) = deps.table.get(&keys::user(account, id)).await? else {
        return Ok(None);
    };
    let hash = attr::get_s(&item, PASSWORD_HASH).unwrap_or_default().to_owned();
    Ok(Some((from_item(item)?, hash)))
}

/// A user of the account who is not deleted.
pub(crate) async fn load_active(deps: &Deps, account: &str, id: &str) -> ServiceResult<(User, String)> {
    match load(deps, account, id).await? {
        Some((user, hash)) if user.deleted_at.is_none() => Ok((user, hash)),
        _ => Err(ServiceError::NotFound("user")),
    }
}

pub(crate) fn email_marker(email: &str, account: &str, user: &str) -> Item {
    let key = keys::email(email);
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("account_id".to_owned(), attr::s(account)),
        ("user_id".to_owned(), attr::s(user)),
    ])
}

/// Builds a new user record and the writes that create it (user + email marker).
pub(crate) fn new_user_writes(
    deps: &Deps,
    account: &str,
    input: NewUser,
) -> ServiceResult<(User, Vec<TransactItem>)> {
    let email = normalize_email(&input.email)?;
    password::validate(&input.password).map_err(ServiceError::Invalid)?;
    let user = User {
        id: deps.ids.new_id(),
        account_id: account.to_owned(),
        email: email.clone(),
        name: clean_name(&input.name)?,
        display_name: clean_display_name(input.display_name)?,
        profile: input.profile,
        available: input.available,
        deleted_at: None,
        created_at: deps.clock.now(),
        version: 1,
    };
    let hash = password::hash(&input.password);
    let writes = vec![
        TransactItem::Put { item: user_item(&user, &hash)?, condition: Some(Condition::NotExists) },
        TransactItem::Put {
            item: email_marker(&email, account, &user.id),
            condition: Some(Condition::NotExists),
        },
    ];
    Ok((user, writes))
}

pub(crate) fn email_taken(error: crate::ports::TableError, marker_index: usize) -> ServiceError {
    match error {
        crate::ports::TableError::TransactionConditionFailed { index } if index == marker_index => {
            ServiceError::conflict("this email is already in use")
        }
        other => concurrent(other),
    }
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewUser) -> ServiceResult<User> {
    caller.require_admin()?;
    let (user, writes) = new_user_writes(deps, &caller.account_id, input)?;
    deps.table.transact(writes).await.map_err(|e| email_taken(e, 1))?;
    let detail = serde_json::json!({"profile": user.profile});
    audit::record(deps, caller, "user.created", Some(&user.id), detail).await?;
    Ok(user)
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<User> {
    match load(deps, &caller.account_id, id).await? {
        Some((user, _)) => Ok(user),
        None => Err(ServiceError::NotFound("user")),
    }
}

/// A requested page size: 1..=100, 50 when absent.
pub fn page_size(limit: Option<u32>) -> ServiceResult<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(ServiceError::invalid(format!("limit is 1 to {MAX_PAGE}"))),
    }
}

pub async fn list(
    deps: &Deps,
    caller: &Caller,
    include_deleted: bool,
    cursor: Option<String>,
    limit: Option<u32>,
) -> ServiceResult<UserPage> {
    let query = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::USER_PREFIX.into()))
        .limit(page_size(limit)?)
        .after(cursor);
    let page = deps.table.query(query).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for item in page.items {
        let user: User = from_item(item)?;
        if include_deleted || user.deleted_at.is_none() {
            items.push(user);
        }
    }
    Ok(UserPage { items, next_cursor: page.cursor })
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: UserPatch) -> ServiceResult<User> {
    caller.require_admin()?;
    let (mut user, mut hash) = load_active(deps, &caller.account_id, id).await?;
    if id == caller.user_id && patch.profile.is_some_and(|p| p != Profile::Admin) {
        return Err(ServiceError::forbidden("admins cannot remove their own admin profile"));
    }
    if let Some(name) = patch.name {
        user.name = clean_name(&name)?;
    }
    if patch.display_name.is_some() {
        user.display_name = clean_display_name(patch.display_name)?;
    }
    if let Some(profile) = patch.profile {
        user.profile = profile;
    }
    if let Some(available) = patch.available {
        user.available = available;
    }
    let password_changed = patch.password.is_some();
    if let Some(password) = patch.password {
        password::validate(&password).map_err(ServiceError::Invalid)?;
        hash = password::hash(&password);
    }
    save(deps, &mut user, &hash).await?;
    let detail = serde_json::json!({"profile": user.profile, "password_changed": password_changed});
    audit::record(deps, caller, "user.updated", Some(&user.id), detail).await?;
    Ok(user)
}

pub async fn update_me(deps: &Deps, caller: &Caller, patch: MePatch) -> ServiceResult<User> {
    let (mut user, mut hash) = load_active(deps, &caller.account_id, &caller.user_id).await?;
    if let Some(name) = patch.name {
        user.name = clean_name(&name)?;
    }
    if patch.display_name.is_some() {
        user.display_name = clean_display_name(patch.display_name)?;
    }
    if let Some(password) = patch.password {
        let current_ok = patch.current_password.as_ref().is_some_and(|c| password::verify(c, &hash));
        if !current_ok {
            return Err(ServiceError::forbidden("the current password is wrong"));
        }
        password::validate(&password).map_err(ServiceError::Invalid)?;
        hash = password::hash(&password);
    }
    save(deps, &mut user, &hash).await?;
    Ok(user)
}

/// Writes the user, conditional on the version read; bumps the version.
async fn save(deps: &Deps, user: &mut User, hash: &str) -> ServiceResult<()> {
    let read_version = user.version;
    user.version += 1;
    deps.table
        .put(user_item(user, hash)?, Some(Condition::version_is(read_version)))
        .await
        .map_err(concurrent)
}

/// Deletes a user logically: the record stays (history), the login stops working and the
/// email can be used again. What happens to their open sessions is decided by the caller
/// once sessions exist (PRODUCT.md §1).
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    if id == caller.user_id {
        return Err(ServiceError::forbidden("admins cannot delete themselves"));
    }
    let (mut user, hash) = load_active(deps, &caller.account_id, id).await?;
    let read_version = user.version;
    user.version += 1;
    user.deleted_at = Some(deps.clock.now());
    let writes = vec![
        TransactItem::Put {
            item: user_item(&user, &hash)?,
            condition: Some(Condition::version_is(read_version)),
        },
        TransactItem::Delete {
            key: keys::email(&user.email),
            condition: Some(Condition::equals("user_id", attr::s(&user.id))),
        },
    ];
    deps.table.transact(writes).await.map_err(concurrent)
}
