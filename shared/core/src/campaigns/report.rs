//! What a campaign did: the funnel (from the shards' counters), the recipients (filterable
//! by status and name), a CSV export to blob storage, and the cost estimate before start.

use super::bulk::{self, BulkItem};
use super::model::*;
use super::store;
use crate::accounts::Caller;
use crate::conversations::{imports, templates};
use crate::crm::csv_file;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Index, Query, SortCondition};
use crate::record::{from_item, query_all_items};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration as StdDuration;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Failure {
    /// Meta's error code, when there was one.
    pub code: Option<i64>,
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Funnel {
    pub recipients: i64,
    /// Reached Meta (and everything beyond).
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Not yet sent.
    pub pending: i64,
    pub failures: Vec<Failure>,
    /// Skip reason → count.
    pub skipped_by_reason: BTreeMap<String, i64>,
}

pub async fn funnel(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Funnel> {
    store::load(deps, &caller.account_id, id).await?;
    let c = bulk::counters(deps, &caller.account_id, id).await?;
    let n = |k: &str| c.get(k).copied().unwrap_or(0);
    let failures = c
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("f_").map(|code| (code.parse::<i64>().ok(), *v)))
        .filter(|(_, v)| *v > 0)
        .map(|(code, count)| Failure { code, reason: reason_of(code), count })
        .collect();
    let skipped_by_reason = c
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("s_").map(|r| (r.to_owned(), *v)))
        .filter(|(_, v)| *v > 0)
        .collect();
    Ok(Funnel {
        recipients: n("n_recipients"),
        sent: n("n_sent"),
        delivered: n("n_delivered"),
        read: n("n_read"),
        replied: n("n_replied"),
        failed: n("n_failed"),
        skipped: n("n_skipped"),
        pending: n("n_recipients") - n("n_sent") - n("n_failed") - n("n_skipped"),
        failures,
        skipped_by_reason,
    })
}

fn reason_of(code: Option<i64>) -> String {
    use crate::conversations::meta_errors::{Verdict, judge};
    match code {
        Some(code) => match judge(&crate::ports::ProviderError::Coded { code, title: String::new() }) {
            Verdict::Fail { reason, .. } => reason,
            Verdict::Retry => format!("Meta kept refusing it (code {code})."),
        },
        None => "The send failed without a Meta error (interrupted, channel off, or no number).".into(),
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientFilter {
    pub status: Option<RecipientStatus>,
    /// Part of the contact's name (case and accents ignored).
    pub name: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientPage {
    pub items: Vec<Recipient>,
    pub next_cursor: Option<String>,
}

fn public(b: BulkItem) -> Recipient {
    Recipient {
        contact_id: b.contact_id,
        name: b.name,
        wa_id: b.wa_id,
        status: b.status,
        reason: b.reason,
        error_code: b.error_code,
        sent_at: b.sent_at,
        delivered_at: b.delivered_at,
        read_at: b.read_at,
        replied_at: b.replied_at,
        session_id: b.session_id,
    }
}

/// A page of recipients, shard after shard (the cursor says where).
pub async fn recipients(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    filter: RecipientFilter,
) -> ServiceResult<RecipientPage> {
    store::load(deps, &caller.account_id, id).await?;
    let limit = filter.limit.unwrap_or(50).clamp(1, 200) as usize;
    let (mut shard, mut cursor) = match filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => (0u32, None),
        Some(c) => {
            let (s, rest) = c.split_once('.').ok_or_else(|| ServiceError::invalid("bad cursor"))?;
            let shard = s.parse().map_err(|_| ServiceError::invalid("bad cursor"))?;
            (shard, (!rest.is_empty()).then(|| rest.to_owned()))
        }
    };
    let wanted = filter.name.as_deref().map(crate::conversations::contact_index::fold);
    let mut items = Vec::new();
    let mut reads = 0;
    while shard < keys::CAMPAIGN_SHARDS && items.len() < limit && reads < 50 {
        reads += 1;
        let q = Query::partition(Index::Primary, keys::campaign_shard_pk(&caller.account_id, id, shard))
            .sort(SortCondition::BeginsWith(keys::RECIPIENT_PREFIX.into()))
            .limit((limit - items.len()) as u32)
            .after(cursor.clone());
        let page = deps.table.query(q).await?;
        for item in page.items {
            let b: BulkItem = from_item(item)?;
            let status_ok = filter.status.is_none_or(|s| s == b.status);
            let name_ok = wanted.as_ref().is_none_or(|w| {
                b.name
                    .as_deref()
                    .is_some_and(|n| crate::conversations::contact_index::fold(n).contains(w.as_str()))
            });
            if status_ok && name_ok {
                items.push(public(b));
            }
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => {
                shard += 1;
                cursor = None;
            }
        }
    }
    let next_cursor =
        (shard < keys::CAMPAIGN_SHARDS).then(|| format!("{shard}.{}", cursor.unwrap_or_default()));
    Ok(RecipientPage { items, next_cursor })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Export {
    /// A link to the CSV, valid for an hour.
    pub url: String,
    pub rows: usize,
}

/// Exports every recipient of a finished (collecting or completed) campaign as CSV.
pub async fn export(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Export> {
    caller.require_admin()?;
    let c = store::load(deps, &caller.account_id, id).await?;
    if !matches!(c.status, CampaignStatus::Collecting | CampaignStatus::Completed | CampaignStatus::Cancelled)
    {
        return Err(ServiceError::conflict("export a campaign once it has finished sending"));
    }
    let header: Vec<String> = [
        "contato",
        "nome",
        "whatsapp",
        "status",
        "motivo",
        "enviado_em",
        "entregue_em",
        "lido_em",
        "respondido_em",
    ]
    .map(String::from)
    .to_vec();
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let mut rows = Vec::new();
    for shard in 0..keys::CAMPAIGN_SHARDS {
        let q = Query::partition(Index::Primary, keys::campaign_shard_pk(&caller.account_id, id, shard))
            .sort(SortCondition::BeginsWith(keys::RECIPIENT_PREFIX.into()));
        for item in query_all_items(deps, q).await? {
            let b: BulkItem = from_item(item)?;
            rows.push(vec![
                b.contact_id,
                b.name.unwrap_or_default(),
                b.wa_id.unwrap_or_default(),
                b.status.as_str().to_owned(),
                b.reason.unwrap_or_default(),
                when(b.sent_at),
                when(b.delivered_at),
                when(b.read_at),
                when(b.replied_at),
            ]);
        }
    }
    let key = format!("exports/{}/campaign-{id}.csv", caller.account_id);
    deps.blob.put(&key, csv_file::write(b';', &header, &rows), "text/csv").await?;
    let url = deps.blob.presigned_get_url(&key, StdDuration::from_secs(3600)).await?;
    Ok(Export { url, rows: rows.len() })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Estimate {
    /// Contacts in the audience (before skips: opted-out, blocked and duplicate numbers are
    /// not charged, so the real cost is at most this).
    pub recipients: u64,
    pub category: crate::conversations::model::TemplateCategory,
    pub price_per_message: f64,
    pub total: f64,
    pub currency: String,
}

/// Recipients × the template category's price per message.
pub async fn estimate(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Estimate> {
    let c = store::load(deps, &caller.account_id, id).await?;
    let template = templates::load(deps, &caller.account_id, &c.template_id).await?;
    let settings = store::settings(deps, &caller.account_id).await?;
    let recipients = match &c.audience {
        Audience::Contacts { contact_ids } => {
            let mut unique = contact_ids.clone();
            unique.sort();
            unique.dedup();
            unique.len() as u64
        }
        Audience::Import { import_id } => {
            imports::numbers(deps, &caller.account_id, import_id).await?.len() as u64
        }
        Audience::Tags { tag_ids, r#match } => {
            let mut seen = std::collections::BTreeMap::<String, usize>::new();
            for tag in tag_ids {
                let prefix = keys::tagged_prefix("CTAG", tag);
                let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
                    .sort(SortCondition::BeginsWith(prefix.clone()));
                for item in query_all_items(deps, q).await? {
                    if let Some(contact) = attr::get_s(&item, "sk").and_then(|sk| sk.strip_prefix(&prefix)) {
                        *seen.entry(contact.to_owned()).or_default() += 1;
                    }
                }
            }
            match r#match {
                TagMatch::Any => seen.len() as u64,
                TagMatch::All => seen.values().filter(|n| **n == tag_ids.len()).count() as u64,
            }
        }
    };
    let price = store::price_of(&settings, template.category);
    let total = (recipients as f64 * price * 100.0).round() / 100.0;
    Ok(Estimate {
        recipients,
        category: template.category,
        price_per_message: price,
        total,
        currency: settings.currency,
    })
}
