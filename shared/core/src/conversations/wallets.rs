//! Wallets (*carteiras*): a contact in a wallet goes straight to its agent (`single_agent`,
//! optionally for a limited time) or is distributed among its agents (`shared`).

use super::contacts;
use crate::accounts::{Caller, teams, users};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition};
use crate::record::{concurrent, from_item, to_item};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WalletKind {
    SingleAgent,
    Shared,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Wallet {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub kind: WalletKind,
    /// The team sessions of the wallet's contacts belong to.
    pub team_id: String,
    /// One agent for `single_agent`; the agents sharing the contacts for `shared`.
    pub agents: Vec<String>,
    /// `single_agent` only: a contact's binding lasts this many days (none = for good).
    pub binding_days: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WalletInput {
    pub name: String,
    pub kind: WalletKind,
    pub team_id: String,
    pub agents: Vec<String>,
    /// `single_agent` only: a contact's binding lasts this many days (1–3650; none = for
    /// good).
    #[schema(minimum = 1, maximum = 3650)]
    pub binding_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WalletList {
    pub items: Vec<Wallet>,
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Wallet> {
    match deps.table.get(&keys::wallet(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("wallet")),
    }
}

/// Ten years: longer is "for good" (no `binding_days`).
pub const MAX_BINDING_DAYS: u32 = 3650;

async fn check(deps: &Deps, caller: &Caller, input: &WalletInput) -> ServiceResult<()> {
    teams::get(deps, caller, &input.team_id).await?;
    if input.agents.is_empty() || (input.kind == WalletKind::SingleAgent && input.agents.len() != 1) {
        return Err(ServiceError::invalid(
            "a single_agent wallet names one agent, a shared one at least one",
        ));
    }
    if input.binding_days.is_some_and(|d| !(1..=MAX_BINDING_DAYS).contains(&d)) {
        return Err(ServiceError::invalid(format!("binding_days is 1 to {MAX_BINDING_DAYS}")));
    }
    for agent in &input.agents {
        users::load_active(deps, &caller.account_id, agent).await?;
    }
    Ok(())
}

pub async fn create(deps: &Deps, caller: &Caller, input: WalletInput) -> ServiceResult<Wallet> {
    caller.require_admin()?;
    check(deps, caller, &input).await?;
    let wallet = Wallet {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: users::clean_name(&input.name)?,
        kind: input.kind,
        team_id: input.team_id,
        agents: input.agents,
        binding_days: input.binding_days,
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table
        .put(to_item(&keys::wallet(&wallet.account_id, &wallet.id), &wallet)?, Some(Condition::NotExists))
        .await?;
    Ok(wallet)
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<WalletList> {
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::WALLET_PREFIX.into()));
    let page = deps.table.query(q).await?;
    Ok(WalletList { items: page.items.into_iter().map(from_item).collect::<ServiceResult<_>>()? })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Wallet> {
    load(deps, &caller.account_id, id).await
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, input: WalletInput) -> ServiceResult<Wallet> {
    caller.require_admin()?;
    let mut wallet = load(deps, &caller.account_id, id).await?;
    check(deps, caller, &input).await?;
    wallet.name = users::clean_name(&input.name)?;
    wallet.kind = input.kind;
    wallet.team_id = input.team_id;
    wallet.agents = input.agents;
    wallet.binding_days = input.binding_days;
    let read = wallet.version;
    wallet.version += 1;
    deps.table
        .put(to_item(&keys::wallet(&caller.account_id, id), &wallet)?, Some(Condition::version_is(read)))
        .await
        .map_err(concurrent)?;
    Ok(wallet)
}

pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    load(deps, &caller.account_id, id).await?;
    // Contacts keep a dangling wallet id, which routing ignores: no contact scan needed.
    deps.table.delete(&keys::wallet(&caller.account_id, id), None).await?;
    Ok(())
}

/// Puts a contact in a wallet (or takes it out with `None`).
pub async fn set_contact(
    deps: &Deps,
    caller: &Caller,
    contact: &str,
    wallet: Option<&str>,
) -> ServiceResult<()> {
    caller.require_admin()?;
    if let Some(w) = wallet {
        load(deps, &caller.account_id, w).await?;
    }
    contacts::set_wallet(deps, &caller.account_id, contact, wallet).await
}

/// The contact's wallet if the binding holds now.
pub async fn of_contact(
    deps: &Deps,
    account: &str,
    contact: &super::model::Contact,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Wallet>> {
    let Some(id) = &contact.wallet_id else { return Ok(None) };
    let wallet = match load(deps, account, id).await {
        Ok(w) => w,
        Err(ServiceError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    if wallet.kind == WalletKind::SingleAgent
        && let (Some(days), Some(joined)) = (wallet.binding_days, contact.wallet_joined_at)
        && now >= joined + Duration::days(i64::from(days))
    {
        return Ok(None);
    }
    Ok(Some(wallet))
}
