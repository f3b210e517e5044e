//! The Asaas REST client: customers (`GET`/`POST /customers`), charges (`GET /payments`
//! by `externalReference`, `POST /payments`, `DELETE /payments/{id}`,
//! `POST /payments/{id}/refund`) and Pix codes (`GET /payments/{id}/pixQrCode`).

use super::status_from_asaas;
use async_trait::async_trait;
use atende_core::payments::Method;
use atende_core::ports::{
    Charge, GatewayAccess, GatewayError, NewCharge, NewCustomer, Outage, PaymentGateway, PixCode,
};
use serde_json::{Value, json};
use std::time::Duration;

pub const PRODUCTION_URL: &str = "https://api.asaas.com/v3";
pub const SANDBOX_URL: &str = "https://api-sandbox.asaas.com/v3";

pub struct Asaas {
    http: reqwest::Client,
    production: String,
    sandbox: String,
    timeout: Duration,
}

impl Asaas {
    /// `production` and `sandbox`: the two base URLs (tests point both at a fake).
    pub fn new(production: &str, sandbox: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("atende/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            http,
            production: production.trim_end_matches('/').to_owned(),
            sandbox: sandbox.trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    fn url(&self, access: &GatewayAccess, path: &str) -> String {
        format!("{}/{path}", if access.sandbox { &self.sandbox } else { &self.production })
    }

    async fn call(
        &self,
        access: &GatewayAccess,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, GatewayError> {
        let mut request = self
            .http
            .request(method, self.url(access, path))
            .header("access_token", access.api_key.expose())
            .query(query);
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request.send().await.map_err(crate::unanswered)?;
        read(response).await
    }
}

/// An Asaas answer: its JSON, or the error it means.
async fn read(response: reqwest::Response) -> Result<Value, GatewayError> {
    let status = response.status().as_u16();
    let outage = crate::outage(status, response.headers());
    let bytes = response.bytes().await.map_err(crate::unanswered)?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let words = || {
        body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["description"].as_str().or_else(|| e["code"].as_str()))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}"))
    };
    match status {
        200..=299 => Ok(body),
        401 | 403 => Err(GatewayError::Unauthorized),
        404 => Err(GatewayError::NotFound),
        400..=499 if status != 429 => Err(GatewayError::Refused(words())),
        _ => Err(outage.into()),
    }
}

/// An answer without a field it must have: the provider's failure (retried).
fn no_field(what: &str) -> GatewayError {
    Outage::Transport(what.to_owned()).into()
}

fn billing_type(method: Method) -> &'static str {
    match method {
        Method::Pix => "PIX",
        Method::Boleto => "BOLETO",
        Method::CreditCard => "CREDIT_CARD",
    }
}

/// Cents as Asaas' decimal `value` (a JSON number with two decimals).
fn reais(cents: i64) -> Value {
    let text = format!("{}.{:02}", cents / 100, cents % 100);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The documented body of `POST /payments`.
pub fn charge_body(charge: &NewCharge) -> Value {
    let mut body = json!({
        "customer": charge.customer_id,
        "billingType": billing_type(charge.method),
        "value": reais(charge.amount_cents),
        "dueDate": charge.due_date.format("%Y-%m-%d").to_string(),
        "description": charge.description,
        "externalReference": charge.external_reference,
    });
    if charge.method == Method::CreditCard && charge.installments > 1 {
        // Asaas splits the total and puts the remainder on the last instalment.
        body["installmentCount"] = json!(charge.installments);
        body["totalValue"] = reais(charge.amount_cents);
        if let Some(o) = body.as_object_mut() {
            o.remove("value");
        }
    }
    body
}

fn charge_of(v: &Value) -> Option<Charge> {
    Some(Charge {
        id: v["id"].as_str()?.to_owned(),
        status: v["status"].as_str().and_then(status_from_asaas),
        invoice_url: v["invoiceUrl"].as_str().map(str::to_owned),
        bank_slip_url: v["bankSlipUrl"].as_str().map(str::to_owned),
    })
}

#[async_trait]
impl PaymentGateway for Asaas {
    fn call_timeout(&self) -> Duration {
        self.timeout
    }

    async fn find_customer(
        &self,
        access: &GatewayAccess,
        document: &str,
    ) -> Result<Option<String>, GatewayError> {
        let list =
            self.call(access, reqwest::Method::GET, "customers", &[("cpfCnpj", document)], None).await?;
        Ok(list["data"]
            .as_array()
            .and_then(|d| d.iter().find(|c| c["deleted"].as_bool() != Some(true)))
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned))
    }

    async fn create_customer(
        &self,
        access: &GatewayAccess,
        customer: &NewCustomer,
    ) -> Result<String, GatewayError> {
        let mut body = json!({
            "name": customer.name,
            "cpfCnpj": customer.document,
            "externalReference": customer.external_reference,
            "notificationDisabled": true,
        });
        if let Some(phone) = &customer.phone {
            // Asaas takes Brazilian numbers without the country code.
            body["mobilePhone"] = json!(phone.strip_prefix("55").unwrap_or(phone));
        }
        let created = self.call(access, reqwest::Method::POST, "customers", &[], Some(&body)).await?;
        created["id"].as_str().map(str::to_owned).ok_or_else(|| no_field("the customer answer has no id"))
    }

    async fn find_charge(
        &self,
        access: &GatewayAccess,
        reference: &str,
    ) -> Result<Option<Charge>, GatewayError> {
        let list = self
            .call(access, reqwest::Method::GET, "payments", &[("externalReference", reference)], None)
            .await?;
        Ok(list["data"].as_array().and_then(|d| d.iter().find_map(charge_of)))
    }

    async fn create_charge(
        &self,
        access: &GatewayAccess,
        charge: &NewCharge,
    ) -> Result<Charge, GatewayError> {
        let created =
            self.call(access, reqwest::Method::POST, "payments", &[], Some(&charge_body(charge))).await?;
        charge_of(&created).ok_or_else(|| no_field("the charge answer has no id"))
    }

    async fn pix_code(&self, access: &GatewayAccess, charge_id: &str) -> Result<PixCode, GatewayError> {
        let path = format!("payments/{charge_id}/pixQrCode");
        let code = self.call(access, reqwest::Method::GET, &path, &[], None).await?;
        Ok(PixCode {
            payload: code["payload"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| no_field("the Pix answer has no payload"))?,
            expires: code["expirationDate"].as_str().map(str::to_owned),
        })
    }

    async fn cancel(&self, access: &GatewayAccess, charge_id: &str) -> Result<(), GatewayError> {
        self.call(access, reqwest::Method::DELETE, &format!("payments/{charge_id}"), &[], None).await?;
        Ok(())
    }

    async fn refund(
        &self,
        access: &GatewayAccess,
        charge_id: &str,
        amount_cents: Option<i64>,
        description: Option<&str>,
    ) -> Result<(), GatewayError> {
        let mut body = json!({});
        if let Some(cents) = amount_cents {
            body["value"] = reais(cents);
        }
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        self.call(access, reqwest::Method::POST, &format!("payments/{charge_id}/refund"), &[], Some(&body))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_charge_in_instalments_sends_the_total_and_the_count() {
        let charge = NewCharge {
            customer_id: "cus_1".into(),
            method: Method::CreditCard,
            amount_cents: 100_001,
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            description: "Curso".into(),
            external_reference: "P1".into(),
            installments: 3,
        };
        let body = charge_body(&charge);
        assert_eq!(body["billingType"], "CREDIT_CARD");
        assert_eq!(body["installmentCount"], 3);
        assert_eq!(body["totalValue"].to_string(), "1000.01");
        assert!(body.get("value").is_none());
        let pix = charge_body(&NewCharge { method: Method::Pix, installments: 1, amount_cents: 5, ..charge });
        assert_eq!(pix["value"].to_string(), "0.05");
        assert_eq!(pix["dueDate"], "2026-12-01");
        assert_eq!(pix["externalReference"], "P1");
    }
}
