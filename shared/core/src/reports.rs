//! Reports from counters (PRODUCT.md §13), never from scanning sessions at read time.
//!
//! Definitions (as Chatwoot's):
//! - **first response time**: from the start of a session's cycle (its creation, or the
//!   message that reopened it) to the first message a person sent in that cycle;
//! - **resolution time**: from the start of the cycle to its completion.
//!
//! Each has a wall-clock and a business-hours variant (only the time the company was open,
//! by the channel's hours, else the account's; always open without hours). A reaction
//! counts each cycle once per metric: a marker item written with a condition in the same
//! transaction as the counters it moves, so a redelivered event changes nothing. Counters
//! are items per local day (the account's zone) and dimension (`all`, `team:<id>`,
//! `agent:<id>`, `channel:<id>`): sessions opened and completed, the count, the sum of
//! seconds (both variants) and the distribution in buckets (0–1 h, 1–4 h, 4–8 h, 8–24 h,
//! 24 h+) of each time. A report reads the items of its days: its cost grows with days ×
//! dimensions, never with sessions.

use crate::accounts::Caller;
use crate::conversations::sessions;
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TransactItem, UpdateOp};
use crate::time::business_hours;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The upper bounds of the distribution's buckets, in hours (the last is open).
pub const BUCKETS_HOURS: [i64; 4] = [1, 4, 8, 24];

fn bucket_of(seconds: i64) -> usize {
    BUCKETS_HOURS.iter().position(|h| seconds < h * 3600).unwrap_or(BUCKETS_HOURS.len())
}

/// The metrics a cycle is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    FirstResponse,
    Resolution,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::Resolution => "resolution",
        }
    }
}

/// The reaction keeping the counters.
pub struct ReportCounters;

#[async_trait::async_trait]
impl Reaction for ReportCounters {
    fn name(&self) -> &'static str {
        "reports.counters"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        match event {
            DomainEvent::MessageReceived {
                account_id,
                channel_id,
                session_id,
                new_session: true,
                at,
                ..
            } => {
                let dims = [("all", String::new()), ("channel", channel_id.clone())];
                let ops = vec![UpdateOp::Add("opened".into(), 1)];
                count_once(deps, account_id, session_id, *at, "opened", *at, &dims, ops).await
            }
            DomainEvent::AgentReplied { account_id, session_id, agent_id, at } => {
                let s = sessions::load(deps, account_id, session_id).await?;
                timed(deps, &s, Metric::FirstResponse, agent_id, *at).await
            }
            DomainEvent::SessionCompleted { account_id, session_id, at } => {
                let s = sessions::load(deps, account_id, session_id).await?;
                let at = at.or(s.completed_at).unwrap_or_else(|| deps.clock.now());
                let agent = s.completed_by.clone().or(s.owner_id.clone()).unwrap_or_default();
                timed(deps, &s, Metric::Resolution, &agent, at).await
            }
            _ => Ok(()),
        }
    }
}

/// Counts a time metric of the session's current cycle, ending at `at`.
async fn timed(
    deps: &Deps,
    s: &crate::conversations::Session,
    metric: Metric,
    agent: &str,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let start = s.cycle_started_at();
    let wall = (at - start).num_seconds().max(0);
    let hours = business_hours::effective(deps, &s.account_id, Some(&s.channel_id)).await?;
    let open = match &hours {
        Some(h) => h.open_between(start, at).num_seconds().max(0),
        None => wall,
    };
    let m = metric.name();
    let mut ops = vec![
        UpdateOp::Add(format!("{m}_count"), 1),
        UpdateOp::Add(format!("{m}_seconds"), wall),
        UpdateOp::Add(format!("{m}_business_seconds"), open),
        UpdateOp::Add(format!("{m}_bucket_{}", bucket_of(wall)), 1),
    ];
    if metric == Metric::Resolution {
        ops.push(UpdateOp::Add("completed".into(), 1));
    }
    let mut dims =
        vec![("all", String::new()), ("team", s.team_id.clone()), ("channel", s.channel_id.clone())];
    if !agent.is_empty() {
        dims.push(("agent", agent.to_owned()));
    }
    count_once(deps, &s.account_id, &s.id, start, m, at, &dims, ops).await
}

/// Moves `ops` on the counters of `at`'s local day and month for each dimension, once per
/// (session, cycle, metric): the marker's condition fails on a repeat and nothing moves.
#[allow(clippy::too_many_arguments)]
async fn count_once(
    deps: &Deps,
    account: &str,
    session: &str,
    cycle: DateTime<Utc>,
    metric: &str,
    at: DateTime<Utc>,
    dims: &[(&str, String)],
    ops: Vec<UpdateOp>,
) -> ServiceResult<()> {
    let zone = business_hours::zone_of(deps, account, None).await?;
    let local = at.with_timezone(&zone).date_naive();
    let (day, month) = (local.to_string(), local.format("%Y-%m").to_string());
    let mark = keys::report_mark(account, session, cycle.timestamp_millis(), metric);
    // Every later reply of a cycle ends here: one read, not a transaction that fails.
    if deps.table.get(&mark).await?.is_some() {
        return Ok(());
    }
    let mut writes = vec![TransactItem::Put {
        item: Item::from([("pk".to_owned(), attr::s(&mark.pk)), ("sk".to_owned(), attr::s(&mark.sk))]),
        condition: Some(Condition::NotExists),
    }];
    for (kind, id) in dims {
        for (granularity, period) in [('D', &day), ('M', &month)] {
            writes.push(TransactItem::Update {
                key: keys::report_counters(account, granularity, kind, period, id),
                ops: ops.clone(),
                condition: None,
            });
        }
    }
    match deps.table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(crate::ports::TableError::TransactionConditionFailed { index: 0 }) => Ok(()), // counted before
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row for the whole period.
    All,
    Day,
    Team,
    Agent,
    Channel,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The first local day (`YYYY-MM-DD`, the account's zone).
    pub from: NaiveDate,
    /// The last local day, included.
    pub to: NaiveDate,
    /// Rows per day, team, agent or channel (default: one row).
    pub group_by: Option<GroupBy>,
}

/// A time metric over a row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct TimeFigures {
    pub count: i64,
    /// Average wall-clock seconds (none without a count).
    pub average_seconds: Option<f64>,
    /// Average seconds inside business hours.
    pub average_business_seconds: Option<f64>,
    /// How many fell in 0–1 h, 1–4 h, 4–8 h, 8–24 h and 24 h+ (wall clock).
    pub buckets: [i64; 5],
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ReportRow {
    /// The day, `team:<id>`, `agent:<id>`, `channel:<id>`, or `all`.
    pub key: String,
    pub opened: i64,
    pub completed: i64,
    pub first_response: TimeFigures,
    pub resolution: TimeFigures,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<ReportRow>,
}

/// The sums of one time metric over a row's counter items.
#[derive(Default)]
struct TimeSums {
    count: i64,
    seconds: i64,
    business_seconds: i64,
    buckets: [i64; 5],
}

impl TimeSums {
    fn add(&mut self, item: &Item, metric: &str) {
        let n = |part: &str| attr::get_n(item, &format!("{metric}_{part}")).unwrap_or(0);
        self.count += n("count");
        self.seconds += n("seconds");
        self.business_seconds += n("business_seconds");
        for (i, slot) in self.buckets.iter_mut().enumerate() {
            *slot += n(&format!("bucket_{i}"));
        }
    }

    fn figures(&self) -> TimeFigures {
        let average = |sum: i64| (self.count > 0).then(|| sum as f64 / self.count as f64);
        TimeFigures {
            count: self.count,
            average_seconds: average(self.seconds),
            average_business_seconds: average(self.business_seconds),
            buckets: self.buckets,
        }
    }
}

/// Sums of one row while reading.
#[derive(Default)]
struct Sums {
    opened: i64,
    completed: i64,
    first_response: TimeSums,
    resolution: TimeSums,
}

impl Sums {
    fn add(&mut self, item: &Item) {
        self.opened += attr::get_n(item, "opened").unwrap_or(0);
        self.completed += attr::get_n(item, "completed").unwrap_or(0);
        self.first_response.add(item, Metric::FirstResponse.name());
        self.resolution.add(item, Metric::Resolution.name());
    }

    fn row(&self, key: String) -> ReportRow {
        ReportRow {
            key,
            opened: self.opened,
            completed: self.completed,
            first_response: self.first_response.figures(),
            resolution: self.resolution.figures(),
        }
    }
}

/// The report of a period (admins).
pub async fn summary(deps: &Deps, caller: &Caller, q: ReportQuery) -> ServiceResult<Report> {
    caller.require_admin()?;
    if q.to < q.from {
        return Err(ServiceError::invalid("`to` is before `from`"));
    }
    use chrono::Datelike;
    if !(2000..=2100).contains(&q.from.year()) || !(2000..=2100).contains(&q.to.year()) {
        return Err(ServiceError::invalid("reports cover the years 2000 to 2100"));
    }
    if (q.to - q.from).num_days() > 366 {
        return Err(ServiceError::invalid("a report spans at most 366 days"));
    }
    let group = q.group_by.unwrap_or(GroupBy::All);
    let kind = match group {
        GroupBy::All | GroupBy::Day => "all",
        GroupBy::Team => "team",
        GroupBy::Agent => "agent",
        GroupBy::Channel => "channel",
    };
    let mut rows: BTreeMap<String, Sums> = BTreeMap::new();
    for (granularity, first, last) in spans(q.from, q.to, group == GroupBy::Day) {
        let bound =
            |period: &str, end: &str| format!("{}{granularity}#{kind}#{period}#{end}", keys::REPORT_PREFIX);
        let query = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
            .sort(SortCondition::Between(bound(&first, ""), bound(&last, "~")));
        for item in crate::record::query_all_items(deps, query).await? {
            let sk = attr::get_s(&item, "sk").unwrap_or_default();
            let mut parts = sk.splitn(5, '#').skip(3);
            let (Some(period), Some(id)) = (parts.next(), parts.next()) else { continue };
            let key = match group {
                GroupBy::All => "all".to_owned(),
                GroupBy::Day => period.to_owned(),
                _ => format!("{kind}:{id}"),
            };
            rows.entry(key).or_default().add(&item);
        }
    }
    let rows = rows.into_iter().map(|(key, sums)| sums.row(key)).collect();
    Ok(Report { from: q.from, to: q.to, rows })
}

/// The ranges of counter items covering `from..=to`: days for a partial month at either
/// end (or everywhere when `daily`), whole months between.
fn spans(from: NaiveDate, to: NaiveDate, daily: bool) -> Vec<(char, String, String)> {
    use chrono::Datelike;
    let day = |d: NaiveDate| d.to_string();
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    if daily {
        return vec![('D', day(from), day(to))];
    }
    let first_of = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let next_month = |d: NaiveDate| first_of(first_of(d) + chrono::Duration::days(32));
    let mut out = Vec::new();
    // Leading days up to the first whole month.
    let mut cursor = from;
    if cursor.day() != 1 {
        let end = (next_month(cursor) - chrono::Duration::days(1)).min(to);
        out.push(('D', day(cursor), day(end)));
        cursor = end + chrono::Duration::days(1);
    }
    // Whole months, then the trailing days.
    let mut whole_last = None;
    let mut m = cursor;
    while m <= to && next_month(m) - chrono::Duration::days(1) <= to {
        whole_last = Some(m);
        m = next_month(m);
    }
    if let Some(last) = whole_last {
        out.push(('M', month(cursor), month(last)));
    }
    if m <= to {
        out.push(('D', day(m), day(to)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_read_as_partial_months_by_day_and_whole_months_by_month() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        let s = |g: char, a: &str, b: &str| (g, a.to_owned(), b.to_owned());
        assert_eq!(spans(d(1, 1), d(12, 31), false), [s('M', "2025-01", "2025-12")]);
        assert_eq!(
            spans(d(1, 15), d(3, 10), false),
            [
                s('D', "2025-01-15", "2025-01-31"),
                s('M', "2025-02", "2025-02"),
                s('D', "2025-03-01", "2025-03-10")
            ]
        );
        assert_eq!(spans(d(6, 3), d(6, 20), false), [s('D', "2025-06-03", "2025-06-20")]);
        assert_eq!(spans(d(6, 1), d(6, 29), false), [s('D', "2025-06-01", "2025-06-29")]);
        assert_eq!(spans(d(2, 1), d(2, 28), false), [s('M', "2025-02", "2025-02")]);
        assert_eq!(spans(d(1, 15), d(3, 10), true), [s('D', "2025-01-15", "2025-03-10")]);
    }

    #[test]
    fn the_buckets_close_on_the_hour_below() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(3599), 0);
        assert_eq!(bucket_of(3600), 1);
        assert_eq!(bucket_of(8 * 3600 - 1), 2);
        assert_eq!(bucket_of(23 * 3600), 3);
        assert_eq!(bucket_of(24 * 3600), 4);
    }
}
