//! Reading the counters: a period's figures, in one row or per day, team, agent or
//! channel. The cost grows with days × dimensions, never with sessions.

use super::counters::{Metric, names};
use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Index, Item, Query, SortCondition};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row for the whole period.
    All,
    Day,
    Team,
    Agent,
    Channel,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams, ToSchema)]
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
    /// From a customer's first unanswered message to the next reply of a person, for every
    /// reply after the cycle's first response.
    pub reply: TimeFigures,
    /// Completions per classification category (at completion), with their amounts.
    pub categories: Vec<Classified>,
    /// The same per classification reason.
    pub reasons: Vec<Classified>,
    /// Satisfaction answers per scale.
    pub csat: Vec<CsatFigures>,
    /// Payments received (or confirmed by card), counted on the day they first were.
    pub payments_received: Amounts,
}

/// Completions of one category or reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Classified {
    /// The category word, or the reason's id.
    pub key: String,
    pub count: i64,
    /// The sum of the amounts given at completion, in cents.
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CsatFigures {
    /// The scale's top: 5 (1–5) or 10 (0–10).
    pub scale_max: i64,
    pub count: i64,
    pub average: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Amounts {
    pub count: i64,
    pub amount_cents: i64,
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
    reply: TimeSums,
    /// `(prefix, key, suffix)` → sum: the counters named by a key (category, reason, scale).
    keyed: BTreeMap<(&'static str, String, &'static str), i64>,
    paid: Amounts,
}

/// The counters named by a key: `<prefix><key><suffix>`.
const KEYED: [(&str, &str); 6] = [
    (names::CATEGORY, "_n"),
    (names::CATEGORY, "_cents"),
    (names::REASON, "_n"),
    (names::REASON, "_cents"),
    (names::CSAT, "_n"),
    (names::CSAT, "_sum"),
];

impl Sums {
    fn add(&mut self, item: &Item) {
        let n = |name: &str| attr::get_n(item, name).unwrap_or(0);
        self.opened += n(names::OPENED);
        self.completed += n(names::COMPLETED);
        self.first_response.add(item, Metric::FirstResponse.name());
        self.resolution.add(item, Metric::Resolution.name());
        self.reply.add(item, Metric::Reply.name());
        self.paid.count += n(names::PAID_COUNT);
        self.paid.amount_cents += n(names::PAID_CENTS);
        for name in item.keys() {
            let keyed = KEYED.iter().find_map(|(prefix, suffix)| {
                let key = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
                Some((*prefix, key.to_owned(), *suffix))
            });
            if let Some(slot) = keyed {
                *self.keyed.entry(slot).or_default() += n(name);
            }
        }
    }

    fn keyed(&self, prefix: &str, suffix: &str) -> impl Iterator<Item = (&str, i64)> {
        self.keyed
            .iter()
            .filter(move |((p, _, s), _)| *p == prefix && *s == suffix)
            .map(|((_, k, _), v)| (k.as_str(), *v))
    }

    fn classified(&self, prefix: &str) -> Vec<Classified> {
        let cents: BTreeMap<&str, i64> = self.keyed(prefix, "_cents").collect();
        self.keyed(prefix, "_n")
            .map(|(key, count)| Classified {
                key: key.to_owned(),
                count,
                amount_cents: cents.get(key).copied().unwrap_or(0),
            })
            .collect()
    }

    fn row(&self, key: String) -> ReportRow {
        let sums: BTreeMap<&str, i64> = self.keyed(names::CSAT, "_sum").collect();
        let csat = self
            .keyed(names::CSAT, "_n")
            .filter_map(|(scale, count)| {
                let sum = sums.get(scale).copied().unwrap_or(0);
                Some(CsatFigures {
                    scale_max: scale.parse().ok()?,
                    count,
                    average: (count > 0).then(|| sum as f64 / count as f64),
                })
            })
            .collect();
        ReportRow {
            key,
            opened: self.opened,
            completed: self.completed,
            first_response: self.first_response.figures(),
            resolution: self.resolution.figures(),
            reply: self.reply.figures(),
            categories: self.classified(names::CATEGORY),
            reasons: self.classified(names::REASON),
            csat,
            payments_received: self.paid.clone(),
        }
    }
}

/// The report of a period (admins).
pub async fn summary(deps: &Deps, caller: &Caller, q: ReportQuery) -> ServiceResult<Report> {
    caller.require_admin()?;
    check(&q)?;
    of_account(deps, &caller.account_id, &q).await
}

/// A period a report may cover: `from` ≤ `to`, at most 366 days, years 2000 to 2100.
pub fn check(q: &ReportQuery) -> ServiceResult<()> {
    use chrono::Datelike;
    if q.to < q.from {
        return Err(ServiceError::invalid("`to` is before `from`"));
    }
    if !(2000..=2100).contains(&q.from.year()) || !(2000..=2100).contains(&q.to.year()) {
        return Err(ServiceError::invalid("reports cover the years 2000 to 2100"));
    }
    if (q.to - q.from).num_days() > 366 {
        return Err(ServiceError::invalid("a report spans at most 366 days"));
    }
    Ok(())
}

/// The report of a checked period of an account.
pub(super) async fn of_account(deps: &Deps, account: &str, q: &ReportQuery) -> ServiceResult<Report> {
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
        let query = Query::partition(Index::Primary, keys::account_pk(account))
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
}
