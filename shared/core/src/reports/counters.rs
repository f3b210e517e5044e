//! The reaction keeping the report counters: each fact is counted once, by a marker
//! written with a condition in the same transaction as the counters it moves (or, for the
//! reply time, by deleting the wait it measures in that transaction).

use crate::conversations::{Session, sessions};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Item, TableError, TransactItem, UpdateOp};
use crate::time::business_hours;
use chrono::{DateTime, Duration, Utc};

/// The upper bounds of the distribution's buckets, in hours (the last is open).
pub const BUCKETS_HOURS: [i64; 4] = [1, 4, 8, 24];

pub(super) fn bucket_of(seconds: i64) -> usize {
    BUCKETS_HOURS.iter().position(|h| seconds < h * 3600).unwrap_or(BUCKETS_HOURS.len())
}

/// How long an unanswered wait is kept (a session waiting longer is counted from its
/// reopening message, as a new wait).
const WAIT_TTL: Duration = Duration::days(30);

/// The time metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Metric {
    FirstResponse,
    Resolution,
    Reply,
}

impl Metric {
    pub(super) fn name(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::Resolution => "resolution",
            Metric::Reply => "reply",
        }
    }
}

/// Counter names of the facts that are not times (see `super::summary`, which reads them).
pub(super) mod names {
    pub const OPENED: &str = "opened";
    pub const COMPLETED: &str = "completed";
    /// `cls_<category>_n` / `_cents`: completions classified in a category, and amounts.
    pub const CATEGORY: &str = "cls_";
    /// `rsn_<reason id>_n` / `_cents`: the same per reason.
    pub const REASON: &str = "rsn_";
    /// `csat_<scale top>_n` / `_sum`: answers and the sum of their scores per scale.
    pub const CSAT: &str = "csat_";
    pub const PAID_COUNT: &str = "paid_n";
    pub const PAID_CENTS: &str = "paid_cents";
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
            DomainEvent::MessageReceived { account_id, channel_id, session_id, new_session, at, .. } => {
                start_wait(deps, account_id, session_id, *at).await?;
                if *new_session {
                    let dims = [("all", String::new()), ("channel", channel_id.clone())];
                    let ops = vec![UpdateOp::Add(names::OPENED.into(), 1)];
                    count_once(deps, account_id, session_id, *at, "opened", *at, &dims, ops).await?;
                }
                Ok(())
            }
            DomainEvent::AgentReplied { account_id, session_id, agent_id, at, .. } => {
                let s = sessions::load(deps, account_id, session_id).await?;
                // This reply is the cycle's first response unless another reply was
                // (a redelivery of this one finds its own time on the marker).
                let first = counted_at(deps, &s, Metric::FirstResponse)
                    .await?
                    .is_none_or(|t| t.timestamp_millis() == at.timestamp_millis());
                timed(deps, &s, Metric::FirstResponse, agent_id, *at, vec![]).await?;
                end_wait(deps, &s, agent_id, *at, !first).await
            }
            DomainEvent::SessionCompleted { account_id, session_id, at } => {
                let s = sessions::load(deps, account_id, session_id).await?;
                let at = at.or(s.completed_at).unwrap_or_else(|| deps.clock.now());
                let agent = s.completed_by.clone().or(s.owner_id.clone()).unwrap_or_default();
                let mut ops = vec![UpdateOp::Add(names::COMPLETED.into(), 1)];
                if let Some(c) = &s.classification {
                    let category = serde_json::to_value(c.category)?.as_str().unwrap_or("other").to_owned();
                    let amount = c.amount_cents.unwrap_or(0);
                    ops.push(UpdateOp::Add(format!("{}{category}_n", names::CATEGORY), 1));
                    ops.push(UpdateOp::Add(format!("{}{category}_cents", names::CATEGORY), amount));
                    if let Some(reason) = &c.reason_id {
                        ops.push(UpdateOp::Add(format!("{}{reason}_n", names::REASON), 1));
                        ops.push(UpdateOp::Add(format!("{}{reason}_cents", names::REASON), amount));
                    }
                }
                timed(deps, &s, Metric::Resolution, &agent, at, ops).await?;
                // A wait nobody answered ends with the cycle (the next one starts afresh).
                deps.table.delete(&keys::report_wait(account_id, session_id), None).await?;
                Ok(())
            }
            DomainEvent::CsatAnswered {
                account_id,
                session_id,
                channel_id,
                team_id,
                agent_id,
                score,
                scale_max,
                at,
            } => {
                let mut dims =
                    vec![("all", String::new()), ("team", team_id.clone()), ("channel", channel_id.clone())];
                dims.extend(agent_id.clone().map(|a| ("agent", a)));
                let ops = vec![
                    UpdateOp::Add(format!("{}{scale_max}_n", names::CSAT), 1),
                    UpdateOp::Add(format!("{}{scale_max}_sum", names::CSAT), i64::from(*score)),
                ];
                count_once(deps, account_id, session_id, *at, "csat", *at, &dims, ops).await
            }
            DomainEvent::PaymentChanged {
                account_id,
                payment_id,
                session_id,
                status,
                amount_cents,
                requested_by,
                at,
            } if status == "received" || status == "confirmed" => {
                let mut dims = vec![("all", String::new())];
                match sessions::load(deps, account_id, session_id).await {
                    Ok(s) => dims.extend([("team", s.team_id), ("channel", s.channel_id)]),
                    Err(ServiceError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
                dims.extend(requested_by.clone().map(|a| ("agent", a)));
                let ops = vec![
                    UpdateOp::Add(names::PAID_COUNT.into(), 1),
                    UpdateOp::Add(names::PAID_CENTS.into(), *amount_cents),
                ];
                // Confirmed, then received: one payment, counted once, on its first day.
                let epoch = DateTime::<Utc>::UNIX_EPOCH;
                count_once(deps, account_id, payment_id, epoch, "paid", *at, &dims, ops).await
            }
            _ => Ok(()),
        }
    }
}

/// When the fact that counted the session's current cycle in `metric` happened, if it was.
async fn counted_at(deps: &Deps, s: &Session, metric: Metric) -> ServiceResult<Option<DateTime<Utc>>> {
    let mark =
        keys::report_mark(&s.account_id, &s.id, s.cycle_started_at().timestamp_millis(), metric.name());
    let Some(item) = deps.table.get(&mark).await? else { return Ok(None) };
    // Markers written before they carried the time: some other fact.
    Ok(Some(attr::get_n(&item, "at").and_then(DateTime::from_timestamp_millis).unwrap_or_default()))
}

/// The customer wrote: the wait starts here unless an earlier message still waits.
async fn start_wait(deps: &Deps, account: &str, session: &str, at: DateTime<Utc>) -> ServiceResult<()> {
    let key = keys::report_wait(account, session);
    let item = Item::from([
        ("pk".to_owned(), attr::s(&key.pk)),
        ("sk".to_owned(), attr::s(&key.sk)),
        ("since".to_owned(), attr::n(at.timestamp_millis())),
        ("ttl".to_owned(), attr::n((at + WAIT_TTL).timestamp())),
    ]);
    match deps.table.put(item, Some(Condition::NotExists)).await {
        Ok(()) | Err(TableError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A person replied at `at`: the wait ends; when `count`, its time is a reply time. The
/// wait's delete (conditional on its start) and the counters are one transaction, so a
/// redelivered reply finds no wait and counts nothing.
async fn end_wait(
    deps: &Deps,
    s: &Session,
    agent: &str,
    at: DateTime<Utc>,
    count: bool,
) -> ServiceResult<()> {
    let key = keys::report_wait(&s.account_id, &s.id);
    let Some(wait) = deps.table.get(&key).await? else { return Ok(()) };
    let Some(since_ms) = attr::get_n(&wait, "since") else { return Ok(()) };
    let Some(since) = DateTime::<Utc>::from_timestamp_millis(since_ms).filter(|t| *t <= at) else {
        return Ok(()); // the wait began after this reply (a late redelivery)
    };
    let mut writes =
        vec![TransactItem::Delete { key, condition: Some(Condition::equals("since", attr::n(since_ms))) }];
    if count {
        let ops = time_ops(deps, s, Metric::Reply, since, at).await?;
        writes.extend(counter_writes(deps, &s.account_id, at, &dims_of(s, agent), ops).await?);
    }
    match deps.table.transact(writes).await {
        Ok(()) | Err(TableError::TransactionConditionFailed { index: 0 }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn dims_of(s: &Session, agent: &str) -> Vec<(&'static str, String)> {
    let mut dims =
        vec![("all", String::new()), ("team", s.team_id.clone()), ("channel", s.channel_id.clone())];
    if !agent.is_empty() {
        dims.push(("agent", agent.to_owned()));
    }
    dims
}

/// The counter moves of one time, from `start` to `end`: count, wall-clock and
/// business-hours seconds, bucket.
async fn time_ops(
    deps: &Deps,
    s: &Session,
    metric: Metric,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ServiceResult<Vec<UpdateOp>> {
    let wall = (end - start).num_seconds().max(0);
    let hours = business_hours::effective(deps, &s.account_id, Some(&s.channel_id)).await?;
    let open = match &hours {
        Some(h) => h.open_between(start, end).num_seconds().max(0),
        None => wall,
    };
    let m = metric.name();
    Ok(vec![
        UpdateOp::Add(format!("{m}_count"), 1),
        UpdateOp::Add(format!("{m}_seconds"), wall),
        UpdateOp::Add(format!("{m}_business_seconds"), open),
        UpdateOp::Add(format!("{m}_bucket_{}", bucket_of(wall)), 1),
    ])
}

/// Counts a time metric of the session's current cycle, ending at `at`, with `more` moves.
async fn timed(
    deps: &Deps,
    s: &Session,
    metric: Metric,
    agent: &str,
    at: DateTime<Utc>,
    more: Vec<UpdateOp>,
) -> ServiceResult<()> {
    let start = s.cycle_started_at();
    let mut ops = time_ops(deps, s, metric, start, at).await?;
    ops.extend(more);
    count_once(deps, &s.account_id, &s.id, start, metric.name(), at, &dims_of(s, agent), ops).await
}

/// The updates moving `ops` on the counters of `at`'s local day and month for each
/// dimension.
async fn counter_writes(
    deps: &Deps,
    account: &str,
    at: DateTime<Utc>,
    dims: &[(&str, String)],
    ops: Vec<UpdateOp>,
) -> ServiceResult<Vec<TransactItem>> {
    let zone = business_hours::zone_of(deps, account, None).await?;
    let local = at.with_timezone(&zone).date_naive();
    let (day, month) = (local.to_string(), local.format("%Y-%m").to_string());
    let mut writes = Vec::new();
    for (kind, id) in dims {
        for (granularity, period) in [('D', &day), ('M', &month)] {
            writes.push(TransactItem::Update {
                key: keys::report_counters(account, granularity, kind, period, id),
                ops: ops.clone(),
                condition: None,
            });
        }
    }
    Ok(writes)
}

/// Moves `ops` on the counters of `at` once per (subject, cycle, metric): the marker's
/// condition fails on a repeat and nothing moves.
#[allow(clippy::too_many_arguments)]
async fn count_once(
    deps: &Deps,
    account: &str,
    subject: &str,
    cycle: DateTime<Utc>,
    metric: &str,
    at: DateTime<Utc>,
    dims: &[(&str, String)],
    ops: Vec<UpdateOp>,
) -> ServiceResult<()> {
    let mark = keys::report_mark(account, subject, cycle.timestamp_millis(), metric);
    // Every later reply of a cycle ends here: one read, not a transaction that fails.
    if deps.table.get(&mark).await?.is_some() {
        return Ok(());
    }
    let mut writes = vec![TransactItem::Put {
        item: Item::from([
            ("pk".to_owned(), attr::s(&mark.pk)),
            ("sk".to_owned(), attr::s(&mark.sk)),
            ("at".to_owned(), attr::n(at.timestamp_millis())),
        ]),
        condition: Some(Condition::NotExists),
    }];
    writes.extend(counter_writes(deps, account, at, dims, ops).await?);
    match deps.table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(TableError::TransactionConditionFailed { index: 0 }) => Ok(()), // counted before
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::bucket_of;

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
