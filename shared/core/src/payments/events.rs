//! Applying the provider's events (delivered at least once, in no set order) to payments.
//!
//! Once each: the event's marker (`E#<event id>`) is written with a not-exists condition
//! in the same transaction as the payment's change, so a redelivery changes nothing. Never
//! backwards: an event whose status ranks below the payment's is recorded in the history,
//! marked not applied, and moves nothing. A change an agent should hear of (paid,
//! overdue, refunded, disputed) adds a note to the session, in the same transaction.

use super::model::{HistoryEntry, Payment, PaymentStatus};
use super::{load, put_with_event};
use crate::conversations::notes;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Item, PaymentEvent, TransactItem};

/// What the agent reads in the session.
fn note_text(p: &Payment) -> Option<String> {
    let amount = p.amount_text();
    let text = match p.status {
        PaymentStatus::Received => format!("Pagamento de {amount} recebido ({}).", p.description),
        PaymentStatus::Confirmed => {
            format!("Pagamento de {amount} confirmado no cartão ({}).", p.description)
        }
        PaymentStatus::Overdue => format!("O pagamento de {amount} ({}) venceu sem ser pago.", p.description),
        PaymentStatus::Refunded => format!("O pagamento de {amount} ({}) foi estornado.", p.description),
        PaymentStatus::PartiallyRefunded => {
            format!("O pagamento de {amount} ({}) foi estornado em parte.", p.description)
        }
        PaymentStatus::Chargeback => {
            format!("O pagador contestou o pagamento de {amount} ({}).", p.description)
        }
        _ => return None,
    };
    Some(text)
}

/// Applies `event` to the payment it names (by our reference); events of charges made
/// elsewhere are ignored (they are not ours to track).
pub async fn apply(deps: &Deps, account: &str, event: &PaymentEvent) -> ServiceResult<()> {
    let Some(reference) = event.external_reference.as_deref().filter(|r| !r.is_empty()) else {
        tracing::info!(event_id = %event.id, "a payment event of a charge not made here: ignored");
        return Ok(());
    };
    for _ in 0..8 {
        let mut p = match load(deps, account, reference).await {
            Ok(p) => p,
            Err(ServiceError::NotFound(_)) => {
                tracing::info!(event_id = %event.id, "a payment event naming no payment of the account: ignored");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if p.history.iter().any(|h| h.event_id.as_deref() == Some(event.id.as_str())) {
            return Ok(());
        }
        let now = deps.clock.now();
        let applied = event.status.is_some_and(|s| {
            s.rank() > p.status.rank()
                || (s == PaymentStatus::PartiallyRefunded && p.status == PaymentStatus::PartiallyRefunded)
        });
        if applied && let Some(s) = event.status {
            p.status = s;
        }
        if p.charge_id.is_none() {
            p.charge_id = Some(event.charge_id.clone());
        }
        p.updated_at = now;
        p.history.push(HistoryEntry {
            at: event.at.unwrap_or(now),
            event: event.name.clone(),
            status: p.status,
            applied,
            by: None,
            detail: None,
            event_id: Some(event.id.clone()),
        });
        let key = keys::payment_event(account, &event.id);
        let marker = Item::from([
            ("pk".to_owned(), attr::s(&key.pk)),
            ("sk".to_owned(), attr::s(&key.sk)),
            ("payment_id".to_owned(), attr::s(&p.id)),
        ]);
        let mut items = vec![TransactItem::Put { item: marker, condition: Some(Condition::NotExists) }];
        let (writes, staged) = put_with_event(deps, &mut p)?;
        items.extend(writes);
        if applied && let Some(text) = note_text(&p) {
            items.push(notes::system_note(&p.account_id, &p.session_id, &deps.ids.new_id(), &text, now)?);
        }
        match deps.table.transact(items).await {
            Ok(()) => {
                crate::outbox::release(deps, staged).await;
                return Ok(());
            }
            Err(crate::ports::TableError::TransactionConditionFailed { index: 0 }) => return Ok(()),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the payment kept changing while an event was applied"))
}
