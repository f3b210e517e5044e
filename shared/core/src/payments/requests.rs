//! What people do with payments: an agent requests one from a session, cancels an unpaid
//! one; an admin refunds a paid one and lists them all with totals. Everything here is
//! checked before anything is written or sent; the charge itself is made by the
//! `payments` job (`super::charge`).

use super::model::{HistoryEntry, Method, Payment, PaymentStatus};
use super::{gateway_failure, load, save, settings};
use crate::accounts::Caller;
use crate::conversations::model::SessionStatus;
use crate::conversations::sessions::{self, Access};
use crate::conversations::{contacts, templates};
use crate::crm::documents::cpf_or_cnpj;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{PaymentJob, enqueue_payment};
use crate::keys;
use crate::ports::{GatewayError, Index, Query, SortCondition};
use crate::record::{from_item, query_all, to_item};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The largest amount one request may charge (R$ 1,000,000.00).
pub const MAX_CENTS: i64 = 100_000_000;
/// Card instalments: up to 21 on Visa and Mastercard, 12 on other brands (Asaas' rule).
pub const MAX_INSTALMENTS_VISA_MASTER: u32 = 21;
pub const MAX_INSTALMENTS_OTHER: u32 = 12;
/// The variables a payment template may use, filled from the payment.
pub const TEMPLATE_VARIABLES: [&str; 6] = ["nome", "valor", "descricao", "vencimento", "link", "pix"];

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// In cents: 15000 is R$ 150,00.
    pub amount_cents: i64,
    pub method: Method,
    /// Card instalments (credit_card only): 1 to 12, or to 21 when `card_brand` is visa or
    /// mastercard.
    #[serde(default)]
    pub installments: Option<u32>,
    #[serde(default)]
    pub card_brand: Option<String>,
    pub description: String,
    pub due_date: NaiveDate,
    /// Who pays; left out, the contact's last payer.
    #[serde(default)]
    pub payer_name: Option<String>,
    /// CPF or CNPJ, with or without punctuation; check digits are verified.
    #[serde(default)]
    pub payer_document: Option<String>,
    /// An approved template of the session's channel for when the 24 h window is closed;
    /// its named variables among `nome`, `valor`, `descricao`, `vencimento`, `link`, `pix`.
    #[serde(default)]
    pub template_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Part of the amount, in cents; left out, all that is left.
    #[serde(default)]
    pub amount_cents: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Who pays for a contact, remembered for the next request, with the provider's customer
/// per environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Payer {
    pub name: String,
    pub document: String,
    #[serde(default)]
    pub customers: BTreeMap<String, String>,
}

pub(crate) async fn payer(deps: &Deps, account: &str, contact: &str) -> ServiceResult<Option<Payer>> {
    deps.table.get(&keys::payer(account, contact)).await?.map(from_item).transpose()
}

pub(crate) async fn remember_payer(
    deps: &Deps,
    account: &str,
    contact: &str,
    payer: &Payer,
) -> ServiceResult<()> {
    deps.table.put(to_item(&keys::payer(account, contact), payer)?, None).await?;
    Ok(())
}

fn instalments(input: &PaymentRequest) -> ServiceResult<u32> {
    match (input.method, input.installments) {
        (Method::CreditCard, n) => {
            let n = n.unwrap_or(1);
            let brand = input.card_brand.as_deref().map(str::to_lowercase);
            let max = match brand.as_deref() {
                Some("visa" | "mastercard" | "master") => MAX_INSTALMENTS_VISA_MASTER,
                _ => MAX_INSTALMENTS_OTHER,
            };
            if !(1..=max).contains(&n) {
                return Err(ServiceError::invalid(format!(
                    "installments is 1 to {max} for this card brand (21 only on visa or mastercard)"
                )));
            }
            Ok(n)
        }
        (_, None | Some(1)) => Ok(1),
        (_, Some(_)) => Err(ServiceError::invalid("installments are for credit_card payments only")),
    }
}

/// The values a payment template is filled with (also what a trial render checks).
pub(crate) fn template_values(p: &Payment, link: &str, pix: &str) -> serde_json::Value {
    serde_json::json!({
        "nome": p.payer_name,
        "valor": p.amount_text(),
        "descricao": p.description,
        "vencimento": p.due_date.format("%d/%m/%Y").to_string(),
        "link": link,
        "pix": if pix.is_empty() { "-" } else { pix },
    })
}

/// Requests a payment in a session the caller is attending. The charge is created by the
/// `payments` job; the answer is the payment, `requested`.
pub async fn request(
    deps: &Deps,
    caller: &Caller,
    session_id: &str,
    input: PaymentRequest,
) -> ServiceResult<Payment> {
    let access = Access::of(deps, caller).await?;
    let session = sessions::actionable(deps, &access, session_id).await?;
    if session.status != SessionStatus::InProgress {
        return Err(ServiceError::conflict("assume the session before requesting a payment"));
    }
    settings::require_enabled(deps, &caller.account_id).await?;
    if !(1..=MAX_CENTS).contains(&input.amount_cents) {
        return Err(ServiceError::invalid("amount_cents is 1 to 100000000 (R$ 1.000.000,00)"));
    }
    let installments = instalments(&input)?;
    let description = input.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 500 {
        return Err(ServiceError::invalid("description has 1 to 500 characters"));
    }
    let now = deps.clock.now();
    // Brazil's earliest time zone: a due date of "today" there is still valid.
    let today = (now - chrono::Duration::hours(5)).date_naive();
    if input.due_date < today || input.due_date > today + chrono::Duration::days(3650) {
        return Err(ServiceError::invalid("due_date is today or later (YYYY-MM-DD)"));
    }
    let remembered = payer(deps, &caller.account_id, &session.contact_id).await?;
    let name = match input.payer_name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        Some(_) => return Err(ServiceError::invalid("payer_name is empty")),
        None => match &remembered {
            Some(p) => p.name.clone(),
            None => contacts::load(deps, &caller.account_id, &session.contact_id)
                .await?
                .name
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| ServiceError::invalid("payer_name is required (the contact has no name)"))?,
        },
    };
    if name.chars().count() > 100 {
        return Err(ServiceError::invalid("payer_name has at most 100 characters"));
    }
    let document = match (&input.payer_document, &remembered) {
        (Some(raw), _) => cpf_or_cnpj(raw).ok_or_else(|| {
            ServiceError::invalid("payer_document is not a valid CPF or CNPJ (check digits)")
        })?,
        (None, Some(p)) => p.document.clone(),
        (None, None) => return Err(ServiceError::invalid("payer_document (CPF or CNPJ) is required")),
    };
    let mut p = Payment {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        session_id: session.id.clone(),
        contact_id: session.contact_id.clone(),
        channel_id: session.channel_id.clone(),
        agent_id: caller.user_id.clone(),
        amount_cents: input.amount_cents,
        method: input.method,
        installments,
        description,
        due_date: input.due_date,
        payer_name: name.clone(),
        payer_document: document.clone(),
        status: PaymentStatus::Requested,
        charge_id: None,
        invoice_url: None,
        bank_slip_url: None,
        pix_code: None,
        refunded_cents: 0,
        message_id: None,
        template_id: None,
        error: None,
        charge_attempts: 0,
        creating_until: None,
        history: vec![HistoryEntry {
            at: now,
            event: "requested".into(),
            status: PaymentStatus::Requested,
            applied: true,
            by: Some(caller.user_id.clone()),
            detail: None,
            event_id: None,
        }],
        created_at: now,
        updated_at: now,
        version: 0,
    };
    match &input.template_id {
        Some(id) => {
            let t = templates::load(deps, &caller.account_id, id).await?;
            if t.channel_id != session.channel_id {
                return Err(ServiceError::invalid("the template belongs to another channel"));
            }
            let unknown: Vec<String> = templates::rules::variables(&t.content.body)
                .into_iter()
                .filter(|v| !TEMPLATE_VARIABLES.contains(&v.as_str()))
                .collect();
            if !unknown.is_empty() {
                return Err(ServiceError::invalid(format!(
                    "the template's variables must be among {}; it has {}",
                    TEMPLATE_VARIABLES.join(", "),
                    unknown.join(", ")
                )));
            }
            templates::render(&t, &template_values(&p, "https://example.com", "x"))?;
            p.template_id = Some(t.id);
        }
        None if !sessions::window(deps, &session).await?.is_open() => {
            return Err(ServiceError::invalid(format!(
                "the conversation's window is closed: name an approved template (template_id) with variables among {}",
                TEMPLATE_VARIABLES.join(", ")
            )));
        }
        None => {}
    }
    let mut known = remembered.unwrap_or_default();
    if known.document != document {
        known.customers.clear();
    }
    known.name = name;
    known.document = document;
    remember_payer(deps, &caller.account_id, &session.contact_id, &known).await?;
    save(deps, &mut p).await?;
    let job = PaymentJob::Create { account_id: p.account_id.clone(), payment_id: p.id.clone() };
    if let Err(e) = enqueue_payment(deps, &job, std::time::Duration::ZERO).await {
        tracing::error!(payment_id = %p.id, error = %e, "could not queue a payment");
        p.status = PaymentStatus::Failed;
        p.error = Some("The request could not be queued; request it again.".into());
        save(deps, &mut p).await?;
        return Err(e);
    }
    Ok(p)
}

/// Whether the caller may see the payment: admins, and whoever may read its session.
async fn visible(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Payment> {
    let p = load(deps, &caller.account_id, id).await?;
    if !caller.is_admin() {
        let access = Access::of(deps, caller).await?;
        sessions::readable(deps, &access, &p.session_id).await.map_err(|e| match e {
            ServiceError::NotFound(_) | ServiceError::Forbidden(_) => ServiceError::NotFound("payment"),
            other => other,
        })?;
    }
    Ok(p)
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Payment> {
    visible(deps, caller, id).await
}

fn entry(
    at: DateTime<Utc>,
    event: &str,
    status: PaymentStatus,
    by: &str,
    detail: Option<String>,
) -> HistoryEntry {
    HistoryEntry {
        at,
        event: event.into(),
        status,
        applied: true,
        by: Some(by.into()),
        detail,
        event_id: None,
    }
}

/// Cancels an unpaid payment (requested, pending or overdue): the charge is deleted at
/// the provider first, then recorded.
pub async fn cancel(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Payment> {
    let mut p = visible(deps, caller, id).await?;
    if !matches!(p.status, PaymentStatus::Requested | PaymentStatus::Pending | PaymentStatus::Overdue) {
        return Err(ServiceError::conflict(format!(
            "only a requested, pending or overdue payment can be cancelled; this one is {}",
            p.status.as_str()
        )));
    }
    if let Some(charge) = &p.charge_id {
        let access = settings::access(deps, &caller.account_id).await?;
        match deps.payments.cancel(&access, charge).await {
            Ok(()) | Err(GatewayError::NotFound) => {}
            Err(e) => return Err(gateway_failure(e)),
        }
    }
    let now = deps.clock.now();
    p.status = PaymentStatus::Cancelled;
    p.updated_at = now;
    p.history.push(entry(now, "cancelled", PaymentStatus::Cancelled, &caller.user_id, None));
    save(deps, &mut p).await?;
    Ok(p)
}

/// Refunds a paid payment, all that is left of it or a part (admins).
pub async fn refund(deps: &Deps, caller: &Caller, id: &str, input: RefundRequest) -> ServiceResult<Payment> {
    if !caller.is_admin() {
        return Err(ServiceError::forbidden("only admins refund payments"));
    }
    let mut p = visible(deps, caller, id).await?;
    let refundable = matches!(
        p.status,
        PaymentStatus::Confirmed | PaymentStatus::Received | PaymentStatus::PartiallyRefunded
    );
    if !refundable {
        return Err(ServiceError::conflict(format!(
            "only a paid payment (confirmed or received) can be refunded; this one is {}",
            p.status.as_str()
        )));
    }
    let left = p.amount_cents - p.refunded_cents;
    let amount = input.amount_cents.unwrap_or(left);
    if amount < 1 || amount > left {
        return Err(ServiceError::invalid(format!("amount_cents is 1 to {left} (what is left to refund)")));
    }
    let description = input.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    let charge = p.charge_id.clone().ok_or_else(|| ServiceError::conflict("the payment has no charge"))?;
    let access = settings::access(deps, &caller.account_id).await?;
    let partial = (amount < left).then_some(amount);
    deps.payments.refund(&access, &charge, partial, description.as_deref()).await.map_err(gateway_failure)?;
    let now = deps.clock.now();
    p.refunded_cents += amount;
    if PaymentStatus::RefundInProgress.rank() > p.status.rank() {
        p.status = PaymentStatus::RefundInProgress;
    }
    p.updated_at = now;
    let detail = Some(super::model::brl(amount));
    p.history.push(entry(now, "refund_requested", p.status, &caller.user_id, detail));
    save(deps, &mut p).await?;
    Ok(p)
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    pub status: Option<PaymentStatus>,
    pub method: Option<Method>,
    /// Created on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Created on or before this day (UTC).
    pub to: Option<NaiveDate>,
    pub contact_id: Option<String>,
    pub agent_id: Option<String>,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct StatusTotal {
    pub count: u64,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PaymentTotals {
    pub count: u64,
    pub amount_cents: i64,
    /// Paid (confirmed or received), less what was refunded.
    pub received_cents: i64,
    pub refunded_cents: i64,
    pub by_status: BTreeMap<String, StatusTotal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentList {
    /// Newest first.
    pub items: Vec<Payment>,
    pub totals: PaymentTotals,
}

fn totals(items: &[Payment]) -> PaymentTotals {
    let mut t = PaymentTotals::default();
    for p in items {
        t.count += 1;
        t.amount_cents += p.amount_cents;
        t.refunded_cents += p.refunded_cents;
        let paid = p.status.is_paid()
            || matches!(
                p.status,
                PaymentStatus::RefundInProgress | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
            );
        if paid {
            t.received_cents += p.amount_cents - p.refunded_cents;
        }
        let s = t.by_status.entry(p.status.as_str().to_owned()).or_default();
        s.count += 1;
        s.amount_cents += p.amount_cents;
    }
    t
}

async fn all(deps: &Deps, account: &str) -> ServiceResult<Vec<Payment>> {
    let q = Query::partition(Index::Primary, keys::payments_pk(account))
        .sort(SortCondition::BeginsWith(keys::PAYMENT_PREFIX.into()))
        .backward();
    query_all(deps, q).await
}

/// Every payment of the account matching the filter, with totals (admins).
pub async fn list(deps: &Deps, caller: &Caller, filter: PaymentFilter) -> ServiceResult<PaymentList> {
    if !caller.is_admin() {
        return Err(ServiceError::forbidden(
            "only admins list every payment; see a session's or a contact's",
        ));
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        return Err(ServiceError::invalid("from is after to"));
    }
    let items: Vec<Payment> = all(deps, &caller.account_id)
        .await?
        .into_iter()
        .filter(|p| filter.status.is_none_or(|s| p.status == s))
        .filter(|p| filter.method.is_none_or(|m| p.method == m))
        .filter(|p| filter.from.is_none_or(|d| p.created_at.date_naive() >= d))
        .filter(|p| filter.to.is_none_or(|d| p.created_at.date_naive() <= d))
        .filter(|p| filter.contact_id.as_ref().is_none_or(|c| &p.contact_id == c))
        .filter(|p| filter.agent_id.as_ref().is_none_or(|a| &p.agent_id == a))
        .filter(|p| filter.session_id.as_ref().is_none_or(|s| &p.session_id == s))
        .collect();
    Ok(PaymentList { totals: totals(&items), items })
}

/// A session's payments (whoever may read the session).
pub async fn of_session(deps: &Deps, caller: &Caller, session_id: &str) -> ServiceResult<PaymentList> {
    let access = Access::of(deps, caller).await?;
    sessions::readable(deps, &access, session_id).await?;
    let q = Query::partition(Index::Gsi1, keys::session_payments_gsi1pk(&caller.account_id, session_id))
        .backward();
    let items: Vec<Payment> = query_all(deps, q).await?;
    Ok(PaymentList { totals: totals(&items), items })
}

/// A contact's payments, in the sessions the caller may read.
pub async fn of_contact(deps: &Deps, caller: &Caller, contact_id: &str) -> ServiceResult<PaymentList> {
    contacts::load(deps, &caller.account_id, contact_id).await?;
    let access = Access::of(deps, caller).await?;
    let mut readable: BTreeMap<String, bool> = BTreeMap::new();
    let mut items = Vec::new();
    let q = Query::partition(Index::Gsi2, keys::contact_payments_gsi2pk(&caller.account_id, contact_id))
        .backward();
    for p in query_all::<Payment>(deps, q).await? {
        // Each session read once, however many payments it has.
        let may = match readable.get(&p.session_id) {
            Some(may) => *may,
            None => {
                let may = caller.is_admin() || sessions::readable(deps, &access, &p.session_id).await.is_ok();
                readable.insert(p.session_id.clone(), may);
                may
            }
        };
        if may {
            items.push(p);
        }
    }
    Ok(PaymentList { totals: totals(&items), items })
}
