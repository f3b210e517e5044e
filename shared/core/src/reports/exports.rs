//! A report as CSV: an admin asks for a period; a `transfer` job (the `routing` queue,
//! beside contact imports) reads the counters, writes the file to object storage and marks
//! the export ready; the admin fetches it through a presigned link valid for an hour.
//!
//! Idempotent: the job writes the same file under the same key however often it runs, and
//! marks the export ready once (a conditional write on its state).

use super::summary::{self, Amounts, Classified, GroupBy, Report, ReportQuery, TimeFigures};
use crate::accounts::Caller;
use crate::crm::csv_file;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{RoutingJob, enqueue_routing};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, TableError};
use crate::record::{from_item, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;
use utoipa::ToSchema;

/// How long a download link works.
pub const LINK_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    /// Queued or being written.
    Pending,
    Ready,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportExport {
    pub id: String,
    pub account_id: String,
    pub query: ReportQuery,
    pub status: ExportStatus,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    /// Data rows in the file (once ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// A link to the CSV valid for an hour, issued at each read (once ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn blob_key(account: &str, id: &str) -> String {
    format!("exports/{account}/report-{id}.csv")
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<ReportExport> {
    match deps.table.get(&keys::report_export(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("export")),
    }
}

/// Asks for a report's CSV (admins): the export is `pending` until its job wrote it.
pub async fn request(deps: &Deps, caller: &Caller, query: ReportQuery) -> ServiceResult<ReportExport> {
    caller.require_admin()?;
    summary::check(&query)?;
    let mut export = ReportExport {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        query,
        status: ExportStatus::Pending,
        requested_by: caller.user_id.clone(),
        created_at: deps.clock.now(),
        rows: None,
        url: None,
        error: None,
    };
    let key = keys::report_export(&export.account_id, &export.id);
    deps.table.put(to_item(&key, &export)?, Some(Condition::NotExists)).await?;
    let job =
        RoutingJob::ReportExport { account_id: export.account_id.clone(), export_id: export.id.clone() };
    if let Err(e) = enqueue_routing(deps, &job).await {
        tracing::error!(export_id = %export.id, error = %e, "could not queue a report export");
        export.status = ExportStatus::Failed;
        export.error = Some("The export could not be queued; ask again.".into());
        deps.table.put(to_item(&key, &export)?, None).await?;
        return Err(e);
    }
    Ok(export)
}

/// An export, with its link when it is ready (admins).
pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<ReportExport> {
    caller.require_admin()?;
    let mut export = load(deps, &caller.account_id, id).await?;
    if export.status == ExportStatus::Ready {
        export.url = Some(deps.blob.presigned_get_url(&blob_key(&export.account_id, id), LINK_TTL).await?);
    }
    Ok(export)
}

/// The job: writes the CSV and marks the export ready (again and again the same).
pub async fn run(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let export = match load(deps, account, id).await {
        Ok(e) if e.status == ExportStatus::Pending => e,
        Ok(_) | Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let report = summary::of_account(deps, account, &export.query).await?;
    let (header, rows) = table(&report, export.query.group_by.unwrap_or(GroupBy::All));
    deps.blob.put(&blob_key(account, id), csv_file::write(b';', &header, &rows), "text/csv").await?;
    let ops = vec![
        crate::ports::UpdateOp::Set("status".into(), attr::s("ready")),
        crate::ports::UpdateOp::Set("rows".into(), attr::n(rows.len())),
    ];
    let pending = Condition::equals("status", attr::s("pending"));
    match deps.table.update(&keys::report_export(account, id), ops, Some(pending)).await {
        Ok(_) | Err(TableError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The report as a header and rows: one column per figure, one pair per category and
/// reason found in the period. Seconds are whole and CSAT averages have a decimal comma
/// (spreadsheets in pt-BR read `4.5` as text); amounts in cents.
fn table(report: &Report, group: GroupBy) -> (Vec<String>, Vec<Vec<String>>) {
    let first = match group {
        GroupBy::All => "period",
        GroupBy::Day => "day",
        GroupBy::Team => "team",
        GroupBy::Agent => "agent",
        GroupBy::Channel => "channel",
    };
    let mut header: Vec<String> = vec![first.into(), "opened".into(), "completed".into()];
    for metric in ["first_response", "reply", "resolution"] {
        for part in [
            "count",
            "average_seconds",
            "average_business_seconds",
            "0_1h",
            "1_4h",
            "4_8h",
            "8_24h",
            "24h_plus",
        ] {
            header.push(format!("{metric}_{part}"));
        }
    }
    let keys_of = |pick: fn(&summary::ReportRow) -> &Vec<Classified>| -> BTreeSet<String> {
        report.rows.iter().flat_map(|r| pick(r).iter().map(|c| c.key.clone())).collect()
    };
    let categories = keys_of(|r| &r.categories);
    let reasons = keys_of(|r| &r.reasons);
    for (prefix, keys) in [("category", &categories), ("reason", &reasons)] {
        for key in keys {
            header.push(format!("{prefix}_{key}_count"));
            header.push(format!("{prefix}_{key}_amount_cents"));
        }
    }
    for scale in [5, 10] {
        header.push(format!("csat_{scale}_count"));
        header.push(format!("csat_{scale}_average"));
    }
    header.push("payments_received_count".into());
    header.push("payments_received_amount_cents".into());

    let whole = |v: Option<f64>| v.map(|v| format!("{}", v.round() as i64)).unwrap_or_default();
    let times = |t: &TimeFigures| {
        let mut cells =
            vec![t.count.to_string(), whole(t.average_seconds), whole(t.average_business_seconds)];
        cells.extend(t.buckets.iter().map(i64::to_string));
        cells
    };
    let rows = report
        .rows
        .iter()
        .map(|r| {
            let key =
                if group == GroupBy::All { format!("{}..{}", report.from, report.to) } else { r.key.clone() };
            let mut cells = vec![key, r.opened.to_string(), r.completed.to_string()];
            cells.extend(times(&r.first_response));
            cells.extend(times(&r.reply));
            cells.extend(times(&r.resolution));
            for (found, keys) in [(&r.categories, &categories), (&r.reasons, &reasons)] {
                for key in keys {
                    let c = found.iter().find(|c| &c.key == key);
                    cells.push(c.map_or(0, |c| c.count).to_string());
                    cells.push(c.map_or(0, |c| c.amount_cents).to_string());
                }
            }
            for scale in [5, 10] {
                let c = r.csat.iter().find(|c| c.scale_max == scale);
                cells.push(c.map_or(0, |c| c.count).to_string());
                cells.push(
                    c.and_then(|c| c.average)
                        .map(|a| format!("{a:.2}").replace('.', ","))
                        .unwrap_or_default(),
                );
            }
            let Amounts { count, amount_cents } = &r.payments_received;
            cells.push(count.to_string());
            cells.push(amount_cents.to_string());
            cells
        })
        .collect();
    (header, rows)
}
