//! The payments port: a payment provider's charges and its event deliveries, in neutral
//! terms (Asaas is the implementation, `atende_providers::asaas`).

use super::outage::Outage;
use crate::payments::model::{Method, PaymentStatus};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::time::Duration;

/// Which of the provider's environments an account uses, and its key there.
#[derive(Clone)]
pub struct GatewayAccess {
    pub sandbox: bool,
    pub api_key: crate::secret::Secret,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomer {
    pub name: String,
    /// CPF or CNPJ, digits only.
    pub document: String,
    /// E.164 digits, when the contact has a phone.
    pub phone: Option<String>,
    pub external_reference: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCharge {
    pub customer_id: String,
    pub method: Method,
    pub amount_cents: i64,
    pub due_date: NaiveDate,
    pub description: String,
    /// Ours, unique per payment: what finds the charge again after a lost answer.
    pub external_reference: String,
    /// Card instalments (> 1 splits the amount; the provider puts the remainder on the last).
    pub installments: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub id: String,
    pub status: Option<PaymentStatus>,
    pub invoice_url: Option<String>,
    pub bank_slip_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PixCode {
    /// The copy-paste code.
    pub payload: String,
    pub expires: Option<String>,
}

/// One event the provider delivered about a charge.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PaymentEvent {
    /// The provider's event id (`evt_…`): deliveries of one event share it.
    pub id: String,
    /// The provider's name of the event (`PAYMENT_RECEIVED`), for the history.
    pub name: String,
    /// The status the event means, if it means one.
    pub status: Option<PaymentStatus>,
    pub charge_id: String,
    /// Ours (the payment id) when the charge was made here.
    pub external_reference: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The provider refused the request as it is (its own words).
    #[error("refused: {0}")]
    Refused(String),
    /// The API key was not accepted.
    #[error("the API key was refused")]
    Unauthorized,
    #[error("not found at the provider")]
    NotFound,
    /// A failure that may pass: retried.
    #[error(transparent)]
    Outage(#[from] Outage),
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The longest one call may take before the client gives up (a charge attempt's lease
    /// is sized from it).
    fn call_timeout(&self) -> Duration;
    /// The first customer with this document, if any.
    async fn find_customer(
        &self,
        access: &GatewayAccess,
        document: &str,
    ) -> Result<Option<String>, GatewayError>;
    async fn create_customer(
        &self,
        access: &GatewayAccess,
        customer: &NewCustomer,
    ) -> Result<String, GatewayError>;
    /// The charge made with this external reference, if any.
    async fn find_charge(
        &self,
        access: &GatewayAccess,
        external_reference: &str,
    ) -> Result<Option<Charge>, GatewayError>;
    async fn create_charge(&self, access: &GatewayAccess, charge: &NewCharge)
    -> Result<Charge, GatewayError>;
    async fn pix_code(&self, access: &GatewayAccess, charge_id: &str) -> Result<PixCode, GatewayError>;
    /// Deletes an unpaid charge.
    async fn cancel(&self, access: &GatewayAccess, charge_id: &str) -> Result<(), GatewayError>;
    /// Refunds a paid charge, all of it or `amount_cents`.
    async fn refund(
        &self,
        access: &GatewayAccess,
        charge_id: &str,
        amount_cents: Option<i64>,
        description: Option<&str>,
    ) -> Result<(), GatewayError>;
}
