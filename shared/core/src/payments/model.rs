//! Payments' records (a leaf module: the payments port and the use cases both read it).
//!
//! Money is kept in cents (`i64`): no float ever holds an amount.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Pix,
    Boleto,
    CreditCard,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Pix => "pix",
            Method::Boleto => "boleto",
            Method::CreditCard => "credit_card",
        }
    }
}

/// Where a payment is. The lifecycle only moves forward ([`PaymentStatus::rank`]): an
/// event that arrives late (Asaas delivers at least once and in no set order) is kept in
/// the history but never moves a payment back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Recorded here; the charge is being created at Asaas.
    Requested,
    /// The charge exists at Asaas and waits for the payer.
    Pending,
    /// The due date passed unpaid (it may still be paid).
    Overdue,
    /// Paid by card, the money not yet available.
    Confirmed,
    /// Paid and available.
    Received,
    RefundInProgress,
    PartiallyRefunded,
    Refunded,
    /// The payer disputed a card payment.
    Chargeback,
    /// Deleted before being paid.
    Cancelled,
    /// The charge could not be created (Asaas refused it, or never answered after every
    /// retry): nothing was charged.
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Requested => "requested",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Overdue => "overdue",
            PaymentStatus::Confirmed => "confirmed",
            PaymentStatus::Received => "received",
            PaymentStatus::RefundInProgress => "refund_in_progress",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Chargeback => "chargeback",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Failed => "failed",
        }
    }

    /// The order of the lifecycle: a status only gives way to a higher one. Cancelled and
    /// failed end it (nothing follows a deleted or never-created charge); a partial refund
    /// may repeat (same rank) and a full one follows it.
    pub fn rank(self) -> u8 {
        match self {
            PaymentStatus::Requested => 0,
            PaymentStatus::Pending => 1,
            PaymentStatus::Overdue => 2,
            PaymentStatus::Confirmed => 3,
            PaymentStatus::Received => 4,
            PaymentStatus::RefundInProgress => 5,
            PaymentStatus::PartiallyRefunded => 6,
            PaymentStatus::Refunded => 7,
            PaymentStatus::Chargeback => 8,
            PaymentStatus::Cancelled | PaymentStatus::Failed => 9,
        }
    }

    /// Whether the payer paid (and nothing was given back yet).
    pub fn is_paid(self) -> bool {
        matches!(self, PaymentStatus::Confirmed | PaymentStatus::Received)
    }

    /// Whether an agent should hear of it in the session (a system note).
    pub fn tells_the_agent(self) -> bool {
        matches!(
            self,
            PaymentStatus::Received
                | PaymentStatus::Confirmed
                | PaymentStatus::Overdue
                | PaymentStatus::Refunded
                | PaymentStatus::PartiallyRefunded
                | PaymentStatus::Chargeback
                | PaymentStatus::Failed
        )
    }
}

/// One line of a payment's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// What happened: `requested`, `charge_created`, `link_sent`, an Asaas event name
    /// (`PAYMENT_RECEIVED`, ...), `cancelled`, `refund_requested`, `failed`.
    pub event: String,
    /// The status after it.
    pub status: PaymentStatus,
    /// Whether it moved the status (a late event is recorded without moving it).
    pub applied: bool,
    /// The user who did it, for actions taken here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The provider's event id (what deduplicates redeliveries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// The stored record (the API shows it through a view without the lease and version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub account_id: String,
    pub session_id: String,
    pub contact_id: String,
    pub channel_id: String,
    /// The agent who asked for it.
    pub agent_id: String,
    pub amount_cents: i64,
    pub method: Method,
    /// Card instalments (1 for pix and boleto).
    pub installments: u32,
    pub description: String,
    pub due_date: NaiveDate,
    pub payer_name: String,
    /// CPF or CNPJ, digits only.
    pub payer_document: String,
    pub status: PaymentStatus,
    /// Asaas' charge id (`pay_…`), once created.
    pub charge_id: Option<String>,
    /// The payer's page (Pix, boleto, card).
    pub invoice_url: Option<String>,
    pub bank_slip_url: Option<String>,
    /// The Pix copy-paste code (*Pix copia e cola*).
    pub pix_code: Option<String>,
    pub refunded_cents: i64,
    /// The message that sent the link to the contact.
    pub message_id: Option<String>,
    /// The approved template that carries the link when the 24 h window is closed.
    #[serde(default)]
    pub template_id: Option<String>,
    /// Why it failed, in plain words.
    pub error: Option<String>,
    /// Attempts at creating the charge at the provider.
    #[serde(default)]
    pub charge_attempts: u32,
    /// While a job is creating the charge (a lease): another job waits instead of creating
    /// a second; after it, the next attempt first looks the charge up by our reference.
    #[serde(default)]
    pub creating_until: Option<DateTime<Utc>>,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Payment {
    /// The amount as Brazilians write it: `R$ 1.234,56`.
    pub fn amount_text(&self) -> String {
        brl(self.amount_cents)
    }
}

/// Cents as Brazilian reais: `R$ 1.234,56`.
pub fn brl(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{sign}R$ {grouped},{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_as_brazilian_reais() {
        assert_eq!(brl(0), "R$ 0,00");
        assert_eq!(brl(5), "R$ 0,05");
        assert_eq!(brl(123_456), "R$ 1.234,56");
        assert_eq!(brl(100_000_000), "R$ 1.000.000,00");
    }

    #[test]
    fn the_lifecycle_only_moves_forward_and_cancel_ends_it() {
        use PaymentStatus::*;
        let order =
            [Requested, Pending, Overdue, Confirmed, Received, RefundInProgress, PartiallyRefunded, Refunded];
        for pair in order.windows(2) {
            assert!(pair[0].rank() < pair[1].rank(), "{:?} before {:?}", pair[0], pair[1]);
        }
        assert!(Cancelled.rank() > Overdue.rank());
        assert!(Received.rank() > Overdue.rank(), "a late payment is received after overdue");
    }
}
