//! Classification reasons (*motivos*): admin-defined, each under one of the four outcome
//! categories, optionally demanding an amount. Completing a session (and changing its
//! classification later) is checked against them by [`check`].
//!
//! Access patterns: one by id (get `REASON#<id>`); all of an account (query prefix
//! `REASON#`).

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeCategory {
    Won,
    Lost,
    Question,
    Other,
}

/// How a session ended, as given at completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Classification {
    pub category: OutcomeCategory,
    /// One of the account's reasons (`GET /v1/classification-reasons`) under `category`.
    pub reason_id: Option<String>,
    /// In cents; required when the reason asks for it.
    pub amount_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub id: String,
    pub account_id: String,
    pub category: OutcomeCategory,
    pub name: String,
    pub requires_amount: bool,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReasonInput {
    pub category: OutcomeCategory,
    pub name: String,
    #[serde(default)]
    pub requires_amount: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonList {
    /// By category, then name.
    pub items: Vec<Reason>,
}

fn clean_name(name: &str) -> ServiceResult<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ServiceError::invalid("name: 1 to 80 characters"));
    }
    Ok(name)
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Reason> {
    match deps.table.get(&keys::reason(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("classification reason")),
    }
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Reason> {
    load(deps, &caller.account_id, id).await
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<ReasonList> {
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::REASON_PREFIX.into()));
    let mut items: Vec<Reason> = query_all(deps, q).await?;
    items.sort_by_key(|r| (r.category as u8, r.name.to_lowercase()));
    Ok(ReasonList { items })
}

pub async fn create(deps: &Deps, caller: &Caller, input: ReasonInput) -> ServiceResult<Reason> {
    caller.require_admin()?;
    let reason = Reason {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        category: input.category,
        name: clean_name(&input.name)?,
        requires_amount: input.requires_amount,
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table
        .put(to_item(&keys::reason(&reason.account_id, &reason.id), &reason)?, Some(Condition::NotExists))
        .await?;
    Ok(reason)
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, input: ReasonInput) -> ServiceResult<Reason> {
    caller.require_admin()?;
    let mut reason = load(deps, &caller.account_id, id).await?;
    let read = reason.version;
    reason.category = input.category;
    reason.name = clean_name(&input.name)?;
    reason.requires_amount = input.requires_amount;
    reason.version += 1;
    let item = to_item(&keys::reason(&reason.account_id, &reason.id), &reason)?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)?;
    Ok(reason)
}

/// Deletes a reason (admins); sessions classified with it keep its id.
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    load(deps, &caller.account_id, id).await?;
    deps.table.delete(&keys::reason(&caller.account_id, id), None).await?;
    Ok(())
}

/// Checks a classification against the account's reasons: the reason exists under the
/// same category, an amount is there when it asks for one, and no amount is negative.
pub async fn check(deps: &Deps, account: &str, c: &Classification) -> ServiceResult<()> {
    if c.amount_cents.is_some_and(|a| a < 0) {
        return Err(ServiceError::invalid("classification.amount_cents: zero or more"));
    }
    let Some(id) = &c.reason_id else { return Ok(()) };
    let reason = match load(deps, account, id).await {
        Ok(r) => r,
        Err(ServiceError::NotFound(_)) => {
            return Err(ServiceError::invalid(format!(
                "classification.reason_id: no reason {id:?} in this account"
            )));
        }
        Err(e) => return Err(e),
    };
    if reason.category != c.category {
        return Err(ServiceError::invalid(format!(
            "classification.reason_id: {:?} is a reason for another category",
            reason.name
        )));
    }
    if reason.requires_amount && c.amount_cents.is_none() {
        return Err(ServiceError::invalid(format!(
            "classification.amount_cents: {:?} asks for an amount",
            reason.name
        )));
    }
    Ok(())
}
