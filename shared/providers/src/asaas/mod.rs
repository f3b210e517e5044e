//! Asaas (payments): the REST client (`client`) and its webhook deliveries (`webhook`).
//!
//! Wire format (Asaas API v3): base `https://api.asaas.com/v3` (sandbox
//! `https://api-sandbox.asaas.com/v3`); every request carries `access_token: <key>` and a
//! `User-Agent`; errors are `{"errors": [{"code", "description"}]}` under 400, 401, 404 or
//! 429. Statuses and event names are read into the domain's in one place here.

pub mod client;
pub mod webhook;

pub use client::Asaas;

use atende_core::payments::PaymentStatus;

/// A charge's status as Asaas writes it (`RECEIVED`, `CONFIRMED`, ...).
pub fn status_from_asaas(word: &str) -> Option<PaymentStatus> {
    Some(match word {
        "PENDING" | "AWAITING_RISK_ANALYSIS" => PaymentStatus::Pending,
        "OVERDUE" | "DUNNING_REQUESTED" | "DUNNING_RECEIVED" => PaymentStatus::Overdue,
        "CONFIRMED" => PaymentStatus::Confirmed,
        "RECEIVED" | "RECEIVED_IN_CASH" => PaymentStatus::Received,
        "REFUND_REQUESTED" | "REFUND_IN_PROGRESS" => PaymentStatus::RefundInProgress,
        "REFUNDED" => PaymentStatus::Refunded,
        "CHARGEBACK_REQUESTED" | "CHARGEBACK_DISPUTE" | "AWAITING_CHARGEBACK_REVERSAL" => {
            PaymentStatus::Chargeback
        }
        _ => return None,
    })
}

/// The status an event means (`PAYMENT_RECEIVED` → received); events that only inform
/// (`PAYMENT_UPDATED`, `PAYMENT_BANK_SLIP_VIEWED`, ...) mean none and are kept in the
/// history only.
pub fn status_of_event(event: &str) -> Option<PaymentStatus> {
    Some(match event {
        "PAYMENT_CREATED" => PaymentStatus::Pending,
        "PAYMENT_CONFIRMED" => PaymentStatus::Confirmed,
        "PAYMENT_RECEIVED" => PaymentStatus::Received,
        "PAYMENT_OVERDUE" => PaymentStatus::Overdue,
        "PAYMENT_DELETED" => PaymentStatus::Cancelled,
        "PAYMENT_REFUNDED" => PaymentStatus::Refunded,
        "PAYMENT_PARTIALLY_REFUNDED" => PaymentStatus::PartiallyRefunded,
        "PAYMENT_REFUND_IN_PROGRESS" => PaymentStatus::RefundInProgress,
        "PAYMENT_CHARGEBACK_REQUESTED"
        | "PAYMENT_CHARGEBACK_DISPUTE"
        | "PAYMENT_AWAITING_CHARGEBACK_REVERSAL" => PaymentStatus::Chargeback,
        _ => return None,
    })
}
