//! Asaas' webhook deliveries: `{"id": "evt_…", "event": "PAYMENT_…", "dateCreated",
//! "payment": {"id", "externalReference", "status", …}}`, authenticated by the
//! `asaas-access-token` header (checked by the `webhook` function before this runs).

use super::status_of_event;
use atende_core::ports::PaymentEvent;
use chrono::{NaiveDateTime, TimeZone};
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the event lacks {0}")]
    Missing(&'static str),
}

/// The payment event a delivery carries; `None` for events about anything but a charge
/// (transfers, invoices, ...), which the account may have subscribed to as well.
pub fn parse(body: &[u8]) -> Result<Option<PaymentEvent>, ParseError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let name = v["event"].as_str().ok_or(ParseError::Missing("event"))?;
    if !name.starts_with("PAYMENT_") {
        return Ok(None);
    }
    let payment = &v["payment"];
    let charge_id = payment["id"].as_str().ok_or(ParseError::Missing("payment.id"))?;
    // Older deliveries have no event id: the event, the charge and its time name it.
    let id = match v["id"].as_str() {
        Some(id) => id.to_owned(),
        None => format!("{name}:{charge_id}:{}", v["dateCreated"].as_str().unwrap_or("")),
    };
    Ok(Some(PaymentEvent {
        id,
        name: name.to_owned(),
        status: status_of_event(name),
        charge_id: charge_id.to_owned(),
        external_reference: payment["externalReference"].as_str().map(str::to_owned),
        at: v["dateCreated"].as_str().and_then(brazil_time),
    }))
}

/// Asaas writes times as `2026-11-23 14:05:09`, in Brasília time (UTC−3).
fn brazil_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    let offset = chrono::FixedOffset::west_opt(3 * 3600)?;
    offset.from_local_datetime(&local).single().map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use atende_core::payments::PaymentStatus;

    #[test]
    fn a_received_payment_event_is_read_with_its_reference_and_time() {
        let body = br#"{"id":"evt_05b708f961d739ea7eba7e4db318f621&368604920","event":"PAYMENT_RECEIVED",
            "dateCreated":"2026-11-23 14:05:09",
            "payment":{"object":"payment","id":"pay_080225913252","customer":"cus_G7Dvo4iphUNk",
            "value":100.0,"billingType":"PIX","status":"RECEIVED","externalReference":"01JPAY"}}"#;
        let e = parse(body).unwrap().unwrap();
        assert_eq!(e.status, Some(PaymentStatus::Received));
        assert_eq!(e.charge_id, "pay_080225913252");
        assert_eq!(e.external_reference.as_deref(), Some("01JPAY"));
        assert_eq!(e.at.unwrap().to_rfc3339(), "2026-11-23T17:05:09+00:00");
        assert!(e.id.starts_with("evt_"));
    }

    #[test]
    fn events_of_other_things_are_none_and_informative_ones_move_nothing() {
        assert_eq!(parse(br#"{"id":"evt_1","event":"TRANSFER_DONE","transfer":{}}"#).unwrap(), None);
        let viewed = parse(br#"{"id":"evt_2","event":"PAYMENT_BANK_SLIP_VIEWED","payment":{"id":"pay_1"}}"#);
        assert_eq!(viewed.unwrap().unwrap().status, None);
        assert!(matches!(parse(b"{}"), Err(ParseError::Missing("event"))));
        assert!(matches!(parse(b"not json"), Err(ParseError::NotJson(_))));
    }
}
