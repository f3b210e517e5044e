//! Publishing an event to its endpoints, each attempt, retries, replay and the delivery log.

use super::endpoints::{self, EndpointWithSecrets};
use super::model::{Attempt, Delivery, DeliveryStatus, MAX_LOGGED, OutEvent};
use crate::accounts::Caller;
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{WebhookJob, enqueue_webhook};
use crate::keys;
use crate::ports::table::{TTL, attr};
use crate::ports::{Condition, Index, Query, SortCondition, TableError, WebhookMessage};
use crate::record::{from_item, to_item};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The waits before each retry: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and
/// 24 h (≈ 3 days from the first attempt to the last).
pub const RETRIES: [Duration; 9] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(14),
    Duration::hours(20),
    Duration::hours(24),
];
/// An endpoint whose every delivery failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::days(5);
/// How long an attempt may hold its delivery: the 15 s call and its bookkeeping.
const CLAIM: Duration = Duration::seconds(60);
/// Events and deliveries are kept this long (replay reaches that far back).
const KEPT: Duration = Duration::days(30);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::hours(24);
/// The longest delay the queue itself takes; longer waits go through the timers.
const QUEUE_DELAY_MAX: Duration = Duration::minutes(15);

fn expires(at: DateTime<Utc>) -> crate::ports::AttributeValue {
    attr::n((at + KEPT).timestamp())
}

/// Stores `event` once and starts its delivery to every enabled endpoint that takes it.
/// Runs again harmlessly: the event keeps its first body, each endpoint one delivery.
pub async fn publish(deps: &Deps, account: &str, event: &OutEvent) -> ServiceResult<()> {
    let key = keys::webhook_event(account, &event.id);
    let mut item = to_item(&key, event)?;
    item.insert("gsi1pk".into(), attr::s(keys::webhook_events_gsi1pk(account)));
    item.insert("gsi1sk".into(), attr::s(format!("{:014}#{}", event.timestamp.timestamp_millis(), event.id)));
    item.insert(TTL.into(), expires(deps.clock.now()));
    let event = match deps.table.put(item, Some(Condition::NotExists)).await {
        Ok(()) => event.clone(),
        Err(TableError::ConditionFailed) => load_event(deps, account, &event.id).await?,
        Err(e) => return Err(e.into()),
    };
    for full in endpoints::all(deps, account).await? {
        if full.endpoint.takes(&event.event_type) {
            start(deps, account, &full.endpoint.id, &event, false).await?;
        }
    }
    Ok(())
}

async fn load_event(deps: &Deps, account: &str, id: &str) -> ServiceResult<OutEvent> {
    let item =
        deps.table.get(&keys::webhook_event(account, id)).await?.ok_or(ServiceError::NotFound("event"))?;
    from_item(item)
}

/// Creates the delivery of `event` to `endpoint` (or, with `again`, restarts a finished
/// one: a replay) and puts its next attempt on the queue. A pending delivery is left to
/// its own schedule, but its attempt is queued again (a crash may have lost it; the stale
/// copy finds the attempt count moved on).
async fn start(
    deps: &Deps,
    account: &str,
    endpoint: &str,
    event: &OutEvent,
    again: bool,
) -> ServiceResult<()> {
    let key = keys::webhook_delivery(account, endpoint, &event.id);
    let now = deps.clock.now();
    for _ in 0..8 {
        let found: Option<Delivery> = match deps.table.get(&key).await? {
            Some(item) => Some(from_item(item)?),
            None => None,
        };
        let delivery = match found {
            None => Delivery {
                endpoint_id: endpoint.to_owned(),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                status: DeliveryStatus::Pending,
                attempts_made: 0,
                series: 0,
                next_attempt_at: Some(now),
                claimed_until: None,
                log: Vec::new(),
                created_at: now,
                version: 0,
            },
            Some(d) if d.status == DeliveryStatus::Pending => {
                if d.next_attempt_at.is_none_or(|at| at <= now) {
                    let job = deliver_job(account, &d);
                    enqueue_webhook(deps, &job, std::time::Duration::ZERO).await?;
                }
                return Ok(());
            }
            Some(_) if !again => return Ok(()),
            Some(d) => {
                Delivery { status: DeliveryStatus::Pending, series: 0, next_attempt_at: Some(now), ..d }
            }
        };
        let mut d = delivery;
        match save(deps, account, &mut d).await {
            Ok(()) => {
                enqueue_webhook(deps, &deliver_job(account, &d), std::time::Duration::ZERO).await?;
                return Ok(());
            }
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the delivery kept changing; retry"))
}

fn deliver_job(account: &str, d: &Delivery) -> WebhookJob {
    WebhookJob::Deliver {
        account_id: account.to_owned(),
        endpoint_id: d.endpoint_id.clone(),
        event_id: d.event_id.clone(),
        attempts: d.attempts_made,
    }
}

async fn save(deps: &Deps, account: &str, d: &mut Delivery) -> ServiceResult<()> {
    let condition = if d.version == 0 { Condition::NotExists } else { Condition::version_is(d.version) };
    d.version += 1;
    let mut item = to_item(&keys::webhook_delivery(account, &d.endpoint_id, &d.event_id), &*d)?;
    item.insert("gsi1pk".into(), attr::s(keys::webhook_deliveries_gsi1pk(account, &d.endpoint_id)));
    item.insert("gsi1sk".into(), attr::s(format!("{:014}#{}", d.created_at.timestamp_millis(), d.event_id)));
    item.insert(TTL.into(), expires(d.created_at));
    deps.table.put(item, Some(condition)).await.map_err(crate::record::concurrent)
}

/// One attempt of a delivery, `attempts` the count the job was queued at (stale otherwise).
pub async fn attempt(
    deps: &Deps,
    account: &str,
    endpoint: &str,
    event: &str,
    attempts: u32,
) -> ServiceResult<()> {
    let key = keys::webhook_delivery(account, endpoint, event);
    let Some(item) = deps.table.get(&key).await? else { return Ok(()) };
    let mut d: Delivery = from_item(item)?;
    let now = deps.clock.now();
    if d.status != DeliveryStatus::Pending || d.attempts_made != attempts {
        return Ok(());
    }
    if let Some(until) = d.claimed_until.filter(|u| *u > now) {
        // Another worker is on it; look again once its claim would have run out.
        let job = deliver_job(account, &d);
        let wait = (until - now).to_std().unwrap_or_default() + std::time::Duration::from_secs(1);
        return enqueue_webhook(deps, &job, wait).await;
    }
    let full = match endpoints::load(deps, account, endpoint).await {
        Ok(full) => full,
        Err(ServiceError::NotFound(_)) => return Ok(()), // deleted: nothing to deliver to
        Err(e) => return Err(e),
    };
    if !full.endpoint.enabled {
        // Left pending; a replay after re-enabling sends it.
        return Ok(());
    }
    d.claimed_until = Some(now + CLAIM);
    match save(deps, account, &mut d).await {
        Ok(()) => {}
        Err(ServiceError::Conflict(_)) => return Ok(()), // another worker claimed it
        Err(e) => return Err(e),
    }
    let out = load_event(deps, account, event).await?;
    let message = WebhookMessage {
        url: full.endpoint.url.clone(),
        id: out.id.clone(),
        timestamp: now.timestamp(),
        body: out.body(),
        secrets: full.signing_secrets(deps, now).await?,
    };
    let started = std::time::Instant::now();
    let answer = deps.webhooks.send(&message).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status, retry_after, excerpt) = match &answer {
        Ok(a) => (Some(a.status), a.retry_after, a.excerpt.clone()),
        Err(e) => (None, None, e.to_string()),
    };
    d.log.push(Attempt { at: now, status, latency_ms, excerpt });
    if d.log.len() > MAX_LOGGED {
        d.log.remove(0);
    }
    d.attempts_made += 1;
    d.series += 1;
    d.claimed_until = None;
    let verdict = verdict(status, d.series, retry_after);
    match verdict {
        Verdict::Delivered => {
            d.status = DeliveryStatus::Delivered;
            d.next_attempt_at = None;
        }
        Verdict::Gone | Verdict::GaveUp => {
            d.status = DeliveryStatus::Failed;
            d.next_attempt_at = None;
        }
        Verdict::Retry(wait) => d.next_attempt_at = Some(now + wait),
    }
    save(deps, account, &mut d).await?;
    endpoint_outcome(deps, account, full, &verdict, now).await?;
    if let Verdict::Retry(wait) = verdict {
        schedule(deps, account, &d, wait).await?;
    }
    Ok(())
}

/// What an attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 410: the endpoint asks never to be called again.
    Gone,
    Retry(Duration),
    GaveUp,
}

/// The rule: 2xx delivered; 410 gone; otherwise the next wait of [`RETRIES`] (a 429's or
/// 503's `Retry-After` when longer), giving up after the last. `series` counts the attempts
/// made so far, this one included.
pub fn verdict(status: Option<u16>, series: u32, retry_after: Option<std::time::Duration>) -> Verdict {
    match status {
        Some(200..=299) => return Verdict::Delivered,
        Some(410) => return Verdict::Gone,
        _ => {}
    }
    let Some(wait) = RETRIES.get(series as usize - 1) else { return Verdict::GaveUp };
    let asked = match status {
        Some(429 | 503) => {
            retry_after.and_then(|r| Duration::from_std(r).ok()).map(|r| r.min(MAX_RETRY_AFTER))
        }
        _ => None,
    };
    Verdict::Retry(asked.map_or(*wait, |a| a.max(*wait)))
}

/// Keeps the endpoint's health: a success clears its failing streak; a 410, or failing
/// since [`DISABLE_AFTER`], disables it (audited: the account's admins see why).
async fn endpoint_outcome(
    deps: &Deps,
    account: &str,
    mut full: EndpointWithSecrets,
    verdict: &Verdict,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let e = &mut full.endpoint;
    let before = (e.failing_since, e.enabled);
    let reason = match verdict {
        Verdict::Delivered => {
            e.failing_since = None;
            None
        }
        Verdict::Gone => Some("the endpoint answered 410 Gone"),
        Verdict::Retry(_) | Verdict::GaveUp => {
            let since = *e.failing_since.get_or_insert(now);
            (now - since >= DISABLE_AFTER).then_some("every delivery failed for five days")
        }
    };
    if let Some(reason) = reason.filter(|_| e.enabled) {
        e.enabled = false;
        e.disabled_reason = Some(reason.to_owned());
    }
    // Most attempts change nothing here (a healthy endpoint, a streak already dated).
    if (e.failing_since, e.enabled) == before {
        return Ok(());
    }
    let (id, disabled) = (e.id.clone(), before.1 && !e.enabled);
    match endpoints::save(deps, &mut full).await {
        // A concurrent change (an admin's, another attempt's) wins; the next attempt
        // judges again.
        Ok(()) => {}
        Err(ServiceError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e),
    }
    if disabled {
        endpoints::subscriptions_changed(deps, account).await?;
        let detail = serde_json::json!({"reason": reason});
        audit::record_system(deps, account, "webhook_endpoint.disabled", Some(&id), None, detail).await?;
    }
    Ok(())
}

/// Puts the next attempt on the queue after `wait`: the queue's own delay up to 15
/// minutes, a timer beyond.
async fn schedule(deps: &Deps, account: &str, d: &Delivery, wait: Duration) -> ServiceResult<()> {
    let job = deliver_job(account, d);
    if wait <= QUEUE_DELAY_MAX {
        return enqueue_webhook(deps, &job, wait.to_std().unwrap_or_default()).await;
    }
    let id = format!("wh:{}:{}:{}", d.endpoint_id, d.event_id, d.attempts_made);
    crate::time::timers::schedule(deps, &id, deps.clock.now() + wait, crate::queues::HOOKS, None, &job).await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// One event to send again.
    pub event_id: Option<String>,
    /// Every event since this instant (the last 30 days are kept).
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries started again.
    pub deliveries: usize,
}

/// Sends one event, or every event since a time, to the endpoint again (its type must be
/// one the endpoint takes; delivered ones too, with their same `webhook-id`).
pub async fn replay(deps: &Deps, caller: &Caller, endpoint: &str, what: Replay) -> ServiceResult<Replayed> {
    caller.require_admin()?;
    let account = &caller.account_id;
    let full = endpoints::load(deps, account, endpoint).await?;
    if !full.endpoint.enabled {
        return Err(ServiceError::conflict("the endpoint is disabled; enable it first"));
    }
    let events = match (what.event_id, what.since) {
        (Some(id), None) => vec![load_event(deps, account, &id).await?],
        (None, Some(since)) => {
            let query = Query::partition(Index::Gsi1, keys::webhook_events_gsi1pk(account))
                .sort(SortCondition::Ge(format!("{:014}", since.timestamp_millis().max(0))));
            let items = crate::record::query_all_items(deps, query).await?;
            items.into_iter().map(from_item).collect::<ServiceResult<Vec<OutEvent>>>()?
        }
        _ => return Err(ServiceError::invalid("give either event_id or since")),
    };
    let mut deliveries = 0;
    for event in events.iter().filter(|e| full.endpoint.takes(&e.event_type)) {
        start(deps, account, endpoint, event, true).await?;
        deliveries += 1;
    }
    Ok(Replayed { deliveries })
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor` (empty or absent: the first page).
    #[param(format = "cursor")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// The endpoint's deliveries, newest first, each with its attempts.
pub async fn list(
    deps: &Deps,
    caller: &Caller,
    endpoint: &str,
    q: DeliveryQuery,
) -> ServiceResult<DeliveryPage> {
    caller.require_admin()?;
    endpoints::load(deps, &caller.account_id, endpoint).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ServiceError::invalid("limit must be between 1 and 100"));
    }
    let query = Query::partition(Index::Gsi1, keys::webhook_deliveries_gsi1pk(&caller.account_id, endpoint))
        .backward()
        .limit(limit)
        .after(q.cursor.filter(|c| !c.is_empty()));
    let page = deps.table.query(query).await?;
    let items = page.items.into_iter().map(from_item).collect::<ServiceResult<Vec<Delivery>>>()?;
    Ok(DeliveryPage { items, next_cursor: page.cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_waits_the_schedule_a_retry_after_when_longer_and_gives_up_after_the_ninth_retry() {
        assert_eq!(verdict(Some(204), 1, None), Verdict::Delivered);
        assert_eq!(verdict(Some(410), 1, None), Verdict::Gone);
        assert_eq!(verdict(Some(500), 1, None), Verdict::Retry(Duration::seconds(5)));
        assert_eq!(verdict(None, 2, None), Verdict::Retry(Duration::minutes(5)));
        let asked = Some(std::time::Duration::from_secs(120));
        assert_eq!(verdict(Some(429), 1, asked), Verdict::Retry(Duration::minutes(2)));
        assert_eq!(
            verdict(Some(503), 2, asked),
            Verdict::Retry(Duration::minutes(5)),
            "never sooner than the schedule"
        );
        assert_eq!(
            verdict(Some(500), 1, asked),
            Verdict::Retry(Duration::seconds(5)),
            "only 429 and 503 ask"
        );
        assert_eq!(verdict(Some(500), 9, None), Verdict::Retry(Duration::hours(24)));
        assert_eq!(verdict(Some(500), 10, None), Verdict::GaveUp);
        let total: Duration = RETRIES.iter().copied().sum();
        assert!(total > Duration::days(3) && total < Duration::days(4), "about three days: {total}");
    }
}
