//! The `payments` job that makes a requested payment real: the provider's customer
//! (reused when the contact's payer has one), the charge, the Pix code, and the link sent
//! to the contact through the normal outbound path.
//!
//! Exactly one charge per payment, whatever is retried or redelivered:
//! - the charge carries the payment id as its external reference, and every attempt first
//!   looks the charge up by it, so an attempt whose answer was lost (a timeout after the
//!   provider made the charge) finds that charge instead of making a second;
//! - an attempt holds a lease on the payment (`creating_until`, a versioned write) while
//!   it talks to the provider, so two deliveries of the job never create at once;
//! - the link message's id is kept on the payment before it is sent, so a retry finds the
//!   message (`messages::send_notice`).
//!
//! Transient failures (429, 5xx, timeouts) are retried with backoff up to
//! [`MAX_ATTEMPTS`]; a refusal (400, a refused key) or the last failure ends the payment
//! `failed` with the reason, and a note tells the agent.

use super::model::{HistoryEntry, Payment, PaymentStatus};
use super::requests::{payer, remember_payer, template_values};
use super::{load, put_item, put_with_event, save, settings};
use crate::conversations::{contacts, messages, notes, sessions};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{PaymentJob, enqueue_payment};
use crate::ports::{Charge, GatewayAccess, GatewayError, NewCharge, NewCustomer};
use chrono::Duration;

/// Attempts at creating a charge before the payment fails.
pub const MAX_ATTEMPTS: u32 = 6;
/// Calls one attempt makes at most before the charge exists (find and create the
/// customer, find and create the charge).
const CALLS_PER_ATTEMPT: u32 = 4;

/// How long an attempt may hold the payment while it talks to the provider: its calls at
/// the client's timeout each, and a margin for the writes around them. Sized from the
/// timeout so that a process killed mid-attempt delays the retry no longer than needed.
fn lease(deps: &Deps) -> Duration {
    let calls = deps.payments.call_timeout() * CALLS_PER_ATTEMPT;
    Duration::from_std(calls).unwrap_or(Duration::seconds(90)) + Duration::seconds(10)
}

fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_secs(15 * 2u64.pow(attempt.saturating_sub(1).min(5)))
}

async fn again(deps: &Deps, p: &Payment, after: std::time::Duration) -> ServiceResult<()> {
    let job = PaymentJob::Create { account_id: p.account_id.clone(), payment_id: p.id.clone() };
    enqueue_payment(deps, &job, after.min(std::time::Duration::from_secs(900))).await
}

fn line(p: &Payment, event: &str, detail: Option<String>) -> HistoryEntry {
    HistoryEntry {
        at: p.updated_at,
        event: event.into(),
        status: p.status,
        applied: true,
        by: None,
        detail,
        event_id: None,
    }
}

/// Runs the job for payment `id`.
pub async fn create(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    for _ in 0..8 {
        let mut p = match load(deps, account, id).await {
            Ok(p) => p,
            Err(ServiceError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if p.charge_id.is_some() {
            return deliver(deps, p, None).await;
        }
        if p.status != PaymentStatus::Requested {
            return Ok(()); // cancelled or failed meanwhile
        }
        let now = deps.clock.now();
        if let Some(until) = p.creating_until.filter(|u| *u > now) {
            // Another delivery of this job is talking to the provider: look again after.
            return again(deps, &p, (until - now).to_std().unwrap_or_default()).await;
        }
        let access = match settings::access(deps, account).await {
            Ok(a) => a,
            Err(ServiceError::Conflict(_)) => {
                return fail(deps, p, "payments were switched off before the charge was made").await;
            }
            Err(e) => return Err(e),
        };
        p.charge_attempts += 1;
        p.creating_until = Some(now + lease(deps));
        match save(deps, &mut p).await {
            Ok(()) => {}
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
        let env = if access.sandbox { "sandbox" } else { "production" };
        let mut known = payer(deps, account, &p.contact_id).await?.unwrap_or_default();
        let customer = known.customers.get(env).filter(|_| known.document == p.payer_document).cloned();
        let phone = match (&customer, contacts::load(deps, account, &p.contact_id).await) {
            (Some(_), _) | (None, Err(ServiceError::NotFound(_))) => None,
            (None, Ok(contact)) => contact.phone.map(|ph| ph.trim_start_matches('+').to_owned()),
            (None, Err(e)) => return Err(e),
        };
        match charge(deps, &access, &p, customer, phone).await {
            Ok((charge, customer)) => {
                // Remembered for the payer's next charge (unless another payer took the contact).
                if let Some(customer) = customer
                    && (known.document == p.payer_document || known.document.is_empty())
                {
                    known.name = p.payer_name.clone();
                    known.document = p.payer_document.clone();
                    known.customers.insert(env.to_owned(), customer);
                    remember_payer(deps, account, &p.contact_id, &known).await?;
                }
                return recorded(deps, &access, id, account, charge).await;
            }
            Err(GatewayError::Outage(outage)) if p.charge_attempts < MAX_ATTEMPTS => {
                tracing::warn!(payment_id = %p.id, attempt = p.charge_attempts, error = %outage, "charge not made yet; retrying");
                release(deps, account, id).await?;
                return again(deps, &p, outage.wait(backoff(p.charge_attempts))).await;
            }
            Err(e) => {
                let reason = match e {
                    GatewayError::Refused(words) => format!("Asaas refused the charge: {words}"),
                    GatewayError::Unauthorized => "Asaas refused the account's API key".to_owned(),
                    other => {
                        format!("Asaas did not make the charge after {} attempts: {other}", p.charge_attempts)
                    }
                };
                return fail(deps, load(deps, account, id).await?, &reason).await;
            }
        }
    }
    Err(ServiceError::conflict("the payment kept changing while its charge was made"))
}

/// The charge (found by our reference, or made) and, when the payer's customer was not
/// known yet, the customer it was made for (found by document, or made).
async fn charge(
    deps: &Deps,
    access: &GatewayAccess,
    p: &Payment,
    known: Option<String>,
    phone: Option<String>,
) -> Result<(Charge, Option<String>), GatewayError> {
    if let Some(found) = deps.payments.find_charge(access, &p.id).await? {
        return Ok((found, None));
    }
    let (customer, learned) = match known {
        Some(id) => (id, false),
        None => match deps.payments.find_customer(access, &p.payer_document).await? {
            Some(id) => (id, true),
            None => {
                let new = NewCustomer {
                    name: p.payer_name.clone(),
                    document: p.payer_document.clone(),
                    phone,
                    external_reference: p.contact_id.clone(),
                };
                (deps.payments.create_customer(access, &new).await?, true)
            }
        },
    };
    let new = NewCharge {
        customer_id: customer.clone(),
        method: p.method,
        amount_cents: p.amount_cents,
        due_date: p.due_date,
        description: p.description.clone(),
        external_reference: p.id.clone(),
        installments: p.installments,
    };
    let charge = deps.payments.create_charge(access, &new).await?;
    Ok((charge, learned.then_some(customer)))
}

/// Drops this attempt's lease (the provider was not reached, or failed): the next
/// attempt need not wait for it.
async fn release(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    for _ in 0..5 {
        let mut p = load(deps, account, id).await?;
        p.creating_until = None;
        match save(deps, &mut p).await {
            Err(ServiceError::Conflict(_)) => continue,
            other => return other,
        }
    }
    Ok(())
}

/// Records the charge on the payment (an event may have told of it first), then sends
/// the link. A payment cancelled while its charge was being made gets the charge deleted.
async fn recorded(
    deps: &Deps,
    access: &GatewayAccess,
    id: &str,
    account: &str,
    charge: Charge,
) -> ServiceResult<()> {
    for _ in 0..8 {
        let mut p = load(deps, account, id).await?;
        if p.status == PaymentStatus::Cancelled {
            if let Err(e) = deps.payments.cancel(access, &charge.id).await
                && e != GatewayError::NotFound
            {
                return Err(super::gateway_failure(e));
            }
            return Ok(());
        }
        p.updated_at = deps.clock.now();
        p.creating_until = None;
        if p.charge_id.is_none() {
            p.charge_id = Some(charge.id.clone());
        }
        p.invoice_url = p.invoice_url.take().or_else(|| charge.invoice_url.clone());
        p.bank_slip_url = p.bank_slip_url.take().or_else(|| charge.bank_slip_url.clone());
        let status = charge.status.unwrap_or(PaymentStatus::Pending);
        if status.rank() > p.status.rank() && status != PaymentStatus::Cancelled {
            p.status = status;
        }
        if !p.history.iter().any(|h| h.event == "charge_created") {
            let entry = line(&p, "charge_created", None);
            p.history.push(entry);
        }
        match save(deps, &mut p).await {
            Ok(()) => return deliver(deps, p, Some(access)).await,
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the payment kept changing while its charge was recorded"))
}

/// The Pix code (for Pix) and the link message, each once. `access`: the account's, when
/// the caller has it open already (otherwise it is opened only if the Pix code is needed).
async fn deliver(deps: &Deps, mut p: Payment, access: Option<&GatewayAccess>) -> ServiceResult<()> {
    if p.message_id.is_some()
        && p.history.iter().any(|h| h.event == "link_sent" || h.event == "link_not_sent")
    {
        return Ok(());
    }
    if matches!(p.status, PaymentStatus::Cancelled | PaymentStatus::Failed) {
        return Ok(());
    }
    if p.method == super::Method::Pix && p.pix_code.is_none() {
        let opened;
        let access = match access {
            Some(a) => a,
            None => {
                opened = settings::access(deps, &p.account_id).await?;
                &opened
            }
        };
        let charge = p.charge_id.clone().unwrap_or_default();
        match deps.payments.pix_code(access, &charge).await {
            Ok(code) => p.pix_code = Some(code.payload),
            Err(GatewayError::Outage(outage)) => {
                tracing::warn!(payment_id = %p.id, error = %outage, "no Pix code yet; retrying");
                return again(deps, &p, outage.wait(backoff(1))).await;
            }
            // The link still lets the payer pay by Pix on the provider's page.
            Err(e) => tracing::warn!(payment_id = %p.id, error = %e, "no Pix code; sending the link alone"),
        }
    }
    if p.message_id.is_none() {
        p.message_id = Some(deps.ids.new_id());
    }
    if let Err(e) = save(deps, &mut p).await {
        return match e {
            // Changed meanwhile (an event): the job runs again on the new version.
            ServiceError::Conflict(_) => again(deps, &p, std::time::Duration::ZERO).await,
            other => Err(other),
        };
    }
    let session = sessions::load(deps, &p.account_id, &p.session_id).await?;
    let link = p.invoice_url.clone().or_else(|| p.bank_slip_url.clone()).unwrap_or_default();
    let pix = p.pix_code.clone().unwrap_or_default();
    let text = link_text(&p, &link, &pix);
    let params = template_values(&p, &link, &pix);
    let template = p.template_id.as_deref().map(|t| (t, &params));
    let message_id = p.message_id.clone().unwrap_or_default();
    let (event, detail) = match messages::send_notice(deps, &session, &message_id, &text, template).await {
        Ok(_) => ("link_sent", None),
        // The template stopped being sendable, the channel was switched off: the agent
        // hears of it and can send the link by hand.
        Err(ServiceError::Invalid(why) | ServiceError::Conflict(why)) => ("link_not_sent", Some(why)),
        Err(e) => return Err(e),
    };
    for _ in 0..8 {
        let mut p = load(deps, &p.account_id, &p.id).await?;
        if p.history.iter().any(|h| h.event == event) {
            return Ok(());
        }
        p.updated_at = deps.clock.now();
        let entry = line(&p, event, detail.clone());
        p.history.push(entry);
        let mut items = vec![put_item(&mut p)?];
        if let Some(why) = &detail {
            let text = format!("O link do pagamento de {} não foi enviado: {why}", p.amount_text());
            items.push(notes::system_note(
                &p.account_id,
                &p.session_id,
                &deps.ids.new_id(),
                &text,
                p.updated_at,
            )?);
        }
        match deps.table.transact(items).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the payment kept changing while its link was recorded"))
}

/// What the contact reads (inside the 24 h window).
fn link_text(p: &Payment, link: &str, pix: &str) -> String {
    let method = match p.method {
        super::Method::Pix => "Pix",
        super::Method::Boleto => "boleto",
        super::Method::CreditCard => "cartão de crédito",
    };
    let mut text = format!(
        "Olá, {}! Segue o pagamento de {} ({}), por {method}, com vencimento em {}:\n{link}",
        p.payer_name,
        p.amount_text(),
        p.description,
        p.due_date.format("%d/%m/%Y"),
    );
    if !pix.is_empty() {
        text.push_str(&format!("\n\nPix copia e cola:\n{pix}"));
    }
    text
}

/// Ends a payment whose charge was never made, with the reason and a note to the agent.
async fn fail(deps: &Deps, mut p: Payment, reason: &str) -> ServiceResult<()> {
    for _ in 0..8 {
        if p.status != PaymentStatus::Requested || p.charge_id.is_some() {
            return Ok(());
        }
        p.status = PaymentStatus::Failed;
        p.error = Some(reason.to_owned());
        p.creating_until = None;
        p.updated_at = deps.clock.now();
        let entry = line(&p, "failed", Some(reason.to_owned()));
        p.history.push(entry);
        let text = format!("O pagamento de {} não foi criado: {reason}", p.amount_text());
        let note = notes::system_note(&p.account_id, &p.session_id, &deps.ids.new_id(), &text, p.updated_at)?;
        let (mut items, staged) = put_with_event(deps, &mut p)?;
        items.push(note);
        match deps.table.transact(items).await {
            Ok(()) => {
                crate::outbox::release(deps, staged).await;
                return Ok(());
            }
            Err(e) if e.is_condition_failure() => p = load(deps, &p.account_id, &p.id).await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the payment kept changing while it failed"))
}
