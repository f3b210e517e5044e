//! The outbox of changes made by people (assume, transfer, complete, a reply, a contact's
//! edit): the events a change commits to are written in the change's own transaction, as
//! a timer due [`RESCUE_AFTER`] later whose job publishes them. Right after the change the
//! caller publishes them itself and drops the timer; if it never gets there (a crash, a
//! failed reaction, a lost connection), the scheduler fires the timer and the `transfer`
//! function publishes them. Reactions are idempotent, so the rare double (published, then
//! the timer's delete failed) changes nothing.

use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::events::DomainEvent;
use crate::jobs::RoutingJob;
use crate::ports::{Key, TransactItem};
use crate::queues;
use crate::time::timers;
use chrono::Duration;

/// How long a change's events wait for their caller before the timer publishes them.
pub const RESCUE_AFTER: Duration = Duration::seconds(60);

/// Events written with a change, to release once it committed.
#[must_use = "release the events once the change committed"]
pub struct Staged {
    timer: Key,
    events: Vec<DomainEvent>,
}

/// The write that commits `events` with a change (put it in the change's transaction).
pub fn stage(deps: &Deps, events: Vec<DomainEvent>) -> ServiceResult<(TransactItem, Staged)> {
    let due = deps.clock.now() + RESCUE_AFTER;
    let job = RoutingJob::Publish { events: events.clone() };
    let (timer, item) = timers::timer_item(&deps.ids.new_id(), due, queues::ROUTING, None, &job)?;
    Ok((TransactItem::Put { item, condition: None }, Staged { timer, events }))
}

/// Publishes a committed change's events and drops their timer. A reaction's failure is
/// logged and left to the timer: the change stands either way.
pub async fn release(deps: &Deps, staged: Staged) {
    if deps.publish(&staged.events).await.is_err() {
        return;
    }
    if let Err(e) = deps.table.delete(&staged.timer, None).await {
        tracing::warn!(error = %e, "an outbox timer was not dropped; it will publish its events again");
    }
}

/// Commits `writes` with `events` (see [`stage`]) and publishes them once committed. The
/// transaction's own error comes back for the caller to read (a failed condition's index
/// names the same write of `writes`: the events' write goes last).
pub async fn transact(
    deps: &Deps,
    mut writes: Vec<TransactItem>,
    events: Vec<DomainEvent>,
) -> ServiceResult<Result<(), crate::ports::TableError>> {
    let (write, staged) = stage(deps, events)?;
    writes.push(write);
    if let Err(e) = deps.table.transact(writes).await {
        return Ok(Err(e));
    }
    release(deps, staged).await;
    Ok(Ok(()))
}
