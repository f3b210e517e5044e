//! The one timer mechanism: a timer is an item sorted by due time in one of a few shards;
//! the scheduler claims due timers (a conditional update, so two schedulers never both
//! dispatch one within a claim's lease), puts each timer's job on its queue, then deletes it.
//! A crash after the claim only delays the timer by the lease. Jobs recognise when they
//! became stale (the customer wrote, the agent assumed, the config changed) and do nothing:
//! no cancel bookkeeping.

use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{
    Cmp, Condition, Index, Item, Key, OutgoingMessage, Query, SortCondition, TableError, UpdateOp,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How long a claimed timer is left to its scheduler before another may take it.
pub const CLAIM_LEASE: Duration = Duration::seconds(60);
/// Timers claimed per shard per tick.
const PAGE: u32 = 100;

fn shard_of(id: &str) -> u32 {
    id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % keys::TIMER_SHARDS
}

/// Schedules `job` onto `queue` at `due`. `id` names the timer: scheduling the same id and
/// due time twice keeps one timer.
pub async fn schedule<J: Serialize>(
    deps: &Deps,
    id: &str,
    due: DateTime<Utc>,
    queue: &str,
    group: Option<&str>,
    job: &J,
) -> ServiceResult<()> {
    let (_, item) = timer_item(id, due, queue, group, job)?;
    deps.table.put(item, None).await?;
    Ok(())
}

/// The item of a timer (to write in a transaction of one's own) and its key.
pub(crate) fn timer_item<J: Serialize>(
    id: &str,
    due: DateTime<Utc>,
    queue: &str,
    group: Option<&str>,
    job: &J,
) -> ServiceResult<(Key, Item)> {
    let key = keys::timer(shard_of(id), due.timestamp_millis(), id);
    let body = serde_json::to_string(job)?;
    let mut item = Item::from([
        ("pk".to_owned(), attr::s(&key.pk)),
        ("sk".to_owned(), attr::s(&key.sk)),
        ("queue".to_owned(), attr::s(queue)),
        ("job".to_owned(), attr::s(body)),
        ("timer_id".to_owned(), attr::s(id)),
    ]);
    if let Some(g) = group {
        item.insert("group".into(), attr::s(g));
    }
    Ok((key, item))
}

/// Fires every due timer: claims it, enqueues its job, deletes it. Returns how many fired.
/// Safe to run concurrently and repeatedly (the scheduler may fire twice).
pub async fn fire_due(deps: &Deps) -> ServiceResult<usize> {
    let now = deps.clock.now();
    let mut fired = 0;
    for shard in 0..keys::TIMER_SHARDS {
        loop {
            let query = Query::partition(Index::Primary, keys::timer_pk(shard))
                .sort(SortCondition::Lt(format!("{:014}$", now.timestamp_millis())))
                .limit(PAGE);
            let page = deps.table.query(query).await?;
            let count = page.items.len();
            let mut progressed = false;
            for item in page.items {
                if fire_one(deps, item, now).await? {
                    fired += 1;
                    progressed = true;
                }
            }
            if count < PAGE as usize || !progressed {
                break;
            }
        }
    }
    Ok(fired)
}

async fn fire_one(deps: &Deps, item: Item, now: DateTime<Utc>) -> ServiceResult<bool> {
    let Some(key) = Key::of(&item) else { return Ok(false) };
    let claim = deps
        .table
        .update(
            &key,
            vec![UpdateOp::Set("claimed_until".into(), attr::n((now + CLAIM_LEASE).timestamp_millis()))],
            Some(Condition::And(vec![
                Condition::Exists,
                Condition::Or(vec![
                    Condition::AttributeNotExists("claimed_until".into()),
                    Condition::Compare("claimed_until".into(), Cmp::Lt, attr::n(now.timestamp_millis())),
                ]),
            ])),
        )
        .await;
    match claim {
        Ok(_) => {}
        Err(TableError::ConditionFailed) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let (Some(queue), Some(job), Some(id)) =
        (attr::get_s(&item, "queue"), attr::get_s(&item, "job"), attr::get_s(&item, "timer_id"))
    else {
        deps.table.delete(&key, None).await?;
        return Ok(false);
    };
    let mut message = OutgoingMessage::new(job);
    if let Some(group) = attr::get_s(&item, "group") {
        message = message.group(group).dedup(format!("timer:{id}:{}", key.sk));
    }
    deps.queue.send(queue, message).await?;
    deps.table.delete(&key, None).await?;
    Ok(true)
}
