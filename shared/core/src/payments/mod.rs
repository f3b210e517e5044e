//! Payments through Asaas (PRODUCT.md §10): an agent requests a Pix, boleto or card
//! payment from a session; the `payments` function creates the charge at the provider,
//! idempotently, and sends the contact the link; the provider's events move the payment
//! forward (never back) with a history and, when it matters to the agent, a note in the
//! session.
//!
//! - `model`: the records (a leaf: the port reads it too).
//! - `settings`: the account's app, its key and webhook token sealed.
//! - `requests`: what agents and admins do (request, cancel, refund, lists).
//! - `charge`: the `payments` job that creates the charge and sends the link.
//! - `events`: applying the provider's events, once each.
//!
//! Access patterns: a payment by id (get `A#<account>#PAY` / `P#<id>`); an account's
//! payments, newest first (query that partition by the `P#` prefix; ids are time-ordered),
//! filtered in memory: fine for the thousands of payments an account makes in a year, to
//! be replaced by report counters (issue 14) if one ever holds far more.

pub mod charge;
pub mod events;
pub mod model;
pub mod requests;
pub mod settings;

pub use model::{HistoryEntry, Method, Payment, PaymentStatus};

use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::keys;
use crate::ports::{Condition, GatewayError};
use crate::record::{from_item, to_item};

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Payment> {
    match deps.table.get(&keys::payment(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("payment")),
    }
}

/// `p` as an item, with the condition that it is still the version it was read at (the
/// version goes up by one).
fn stamped(p: &mut Payment) -> ServiceResult<(crate::ports::Item, Condition)> {
    let condition = if p.version == 0 { Condition::NotExists } else { Condition::version_is(p.version) };
    p.version += 1;
    let mut item = to_item(&keys::payment(&p.account_id, &p.id), p)?;
    // A session's and a contact's payments are read through these, not by reading all.
    for (name, value) in [
        ("gsi1pk", keys::session_payments_gsi1pk(&p.account_id, &p.session_id)),
        ("gsi1sk", p.id.clone()),
        ("gsi2pk", keys::contact_payments_gsi2pk(&p.account_id, &p.contact_id)),
        ("gsi2sk", p.id.clone()),
    ] {
        item.insert(name.into(), crate::ports::table::attr::s(value));
    }
    Ok((item, condition))
}

/// The put of `p` over the version it was read at, for a transaction.
pub(crate) fn put_item(p: &mut Payment) -> ServiceResult<crate::ports::TransactItem> {
    let (item, condition) = stamped(p)?;
    Ok(crate::ports::TransactItem::Put { item, condition: Some(condition) })
}

/// The put of `p` and the event of its status (see `crate::outbox`), for a transaction:
/// release the event once it committed. Saved twice in one status, the event is the same
/// (its outbound id is the payment's and the status').
pub(crate) fn put_with_event(
    deps: &Deps,
    p: &mut Payment,
) -> ServiceResult<(Vec<crate::ports::TransactItem>, crate::outbox::Staged)> {
    let changed = DomainEvent::PaymentChanged {
        account_id: p.account_id.clone(),
        payment_id: p.id.clone(),
        session_id: p.session_id.clone(),
        status: p.status.as_str().to_owned(),
        amount_cents: p.amount_cents,
        requested_by: Some(p.agent_id.clone()),
        at: p.updated_at,
    };
    let (write, staged) = crate::outbox::stage(deps, vec![changed])?;
    Ok((vec![put_item(p)?, write], staged))
}

/// Saves `p` over the version it was read at (a new one: version 0), with the event of
/// its status; a conflict when it changed meanwhile.
pub async fn save(deps: &Deps, p: &mut Payment) -> ServiceResult<()> {
    let (items, staged) = put_with_event(deps, p)?;
    deps.table.transact(items).await.map_err(crate::record::concurrent)?;
    crate::outbox::release(deps, staged).await;
    Ok(())
}

/// A provider failure as the API tells it: the provider's refusal is the caller's to mend
/// (422), a failure of the provider's own is a 502 the same request may pass later.
pub(crate) fn gateway_failure(e: GatewayError) -> ServiceError {
    match e {
        GatewayError::Refused(words) => ServiceError::invalid(format!("Asaas refused it: {words}")),
        GatewayError::Unauthorized => {
            ServiceError::invalid("Asaas refused the account's API key: check the payment settings")
        }
        GatewayError::NotFound => ServiceError::conflict("the charge no longer exists at Asaas"),
        GatewayError::Outage(outage) => ServiceError::Provider(outage.into()),
    }
}
