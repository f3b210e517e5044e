//! Turning records into table items and back.

use crate::error::{ServiceError, ServiceResult};
use crate::ports::table::attr;
use crate::ports::{Item, Key, TableError};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn to_item<T: Serialize>(key: &Key, value: &T) -> ServiceResult<Item> {
    let mut item: Item = serde_dynamo::to_item(value)?;
    item.insert("pk".into(), attr::s(&key.pk));
    item.insert("sk".into(), attr::s(&key.sk));
    Ok(item)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> ServiceResult<T> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Maps a failed optimistic-concurrency condition to a conflict the caller can retry.
pub(crate) fn concurrent(error: crate::ports::TableError) -> ServiceError {
    match error {
        TableError::ConditionFailed | TableError::TransactionConditionFailed { .. } => {
            ServiceError::conflict("the record changed meanwhile; read it again and retry")
        }
        other => other.into(),
    }
}

/// A timestamp as records store it (chrono's serde form, `...Z`), for conditions and
/// updates that must match stored values exactly.
pub(crate) fn ts(at: chrono::DateTime<chrono::Utc>) -> crate::ports::AttributeValue {
    crate::ports::table::attr::s(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Every item a query matches, as items (all pages).
pub(crate) async fn query_all_items(
    deps: &crate::Deps,
    query: crate::ports::Query,
) -> ServiceResult<Vec<crate::ports::Item>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = deps.table.query(query.clone().after(cursor)).await?;
        out.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every item a query matches, decoded (all pages). For partitions known to stay small:
/// an account's teams, tokens, channels, templates, a team's members.
pub(crate) async fn query_all<T: DeserializeOwned>(
    deps: &crate::Deps,
    query: crate::ports::Query,
) -> ServiceResult<Vec<T>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = deps.table.query(query.clone().after(cursor)).await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}
