//! Contacts: one person is one contact, whichever spelling of their number arrives
//! (see [`super::phone`]). Restricted agents have no access to the contact base.

use super::contact_index;
use super::model::{Contact, ContactStatus, Identity};
use super::phone;
use crate::accounts::{Caller, Profile};
use crate::crm::fields::{self, Required};
use crate::crm::tags;
use crate::crm::tags::Tagged;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::events::{ContactChange, DomainEvent};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Key, Query, SortCondition, TableError, TransactItem};
use crate::record::{concurrent, from_item, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};

fn require_contact_access(caller: &Caller) -> ServiceResult<()> {
    if caller.profile == Profile::RestrictedAgent {
        return Err(ServiceError::forbidden("restricted agents have no access to the contact base"));
    }
    Ok(())
}

/// The lookup form of a WhatsApp id: the digits of its normalised number when it is one.
pub fn canonical_wa_id(wa_id: &str) -> String {
    phone::normalize(&format!("+{wa_id}")).map(|p| phone::wa_id_of(&p)).unwrap_or_else(|_| wa_id.to_owned())
}

fn pointer(key: Key, contact: &str) -> Item {
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("contact_id".to_owned(), attr::s(contact)),
    ])
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Contact> {
    match deps.table.get(&keys::contact(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("contact")),
    }
}

async fn by_pointer(deps: &Deps, account: &str, key: &Key) -> ServiceResult<Option<Contact>> {
    let Some(p) = deps.table.get(key).await? else { return Ok(None) };
    let Some(id) = attr::get_s(&p, "contact_id") else { return Ok(None) };
    match load(deps, account, id).await {
        Ok(c) => Ok(Some(c)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn writes_for_new(contact: &Contact) -> ServiceResult<Vec<TransactItem>> {
    let mut writes = vec![TransactItem::Put {
        item: to_item(&keys::contact(&contact.account_id, &contact.id), contact)?,
        condition: Some(Condition::NotExists),
    }];
    if let Some(wa) = &contact.wa_id {
        writes.push(TransactItem::Put {
            item: pointer(keys::contact_by_wa_id(&contact.account_id, &canonical_wa_id(wa)), &contact.id),
            condition: Some(Condition::NotExists),
        });
    }
    if let Some(b) = &contact.bsuid {
        writes.push(TransactItem::Put {
            item: pointer(keys::contact_by_bsuid(&contact.account_id, b), &contact.id),
            condition: Some(Condition::NotExists),
        });
    }
    for (kind, id) in &contact.identities {
        writes.push(TransactItem::Put {
            item: pointer(keys::contact_by_identity(&contact.account_id, kind, id), &contact.id),
            condition: Some(Condition::NotExists),
        });
    }
    writes.extend(contact_index::changes(&contact.id, &BTreeSet::new(), &contact_index::keys_of(contact)));
    Ok(writes)
}

/// Creates `contact` with its pointers, index and `extra` writes in one transaction; a
/// number or marker already taken is a conflict.
pub(crate) async fn insert(deps: &Deps, contact: &Contact, extra: Vec<TransactItem>) -> ServiceResult<()> {
    commit_new(deps, contact, extra).await?.map_err(concurrent)
}

/// Writes a new contact (its pointers, index, `extra`) and the events of its creation in
/// one transaction (see `crate::outbox`), then publishes them. The writes of
/// [`writes_for_new`] come first, so a failed condition's index names the same write; the
/// transaction's own error is handed back for the caller to read.
async fn commit_new(
    deps: &Deps,
    contact: &Contact,
    extra: Vec<TransactItem>,
) -> ServiceResult<Result<(), TableError>> {
    let mut writes = writes_for_new(contact)?;
    writes.extend(extra);
    let events = changed(contact, ContactChange::Created, &[], contact.created_at);
    crate::outbox::transact(deps, writes, events).await
}

/// The events of a contact's change: the change, and its tags' (from `tags_before`).
fn changed(
    contact: &Contact,
    change: ContactChange,
    tags_before: &[String],
    at: DateTime<Utc>,
) -> Vec<DomainEvent> {
    let (id, account) = (&contact.id, &contact.account_id);
    let mut events =
        vec![DomainEvent::ContactChanged { account_id: account.clone(), contact_id: id.clone(), change, at }];
    events.extend(tags::changed(
        Tagged::Contact,
        account,
        id,
        contact.version,
        tags_before,
        &contact.tags,
        at,
    ));
    events
}

/// Saves `contact` (read as `before`) with the search index changes it needs and `extra`
/// writes, in one transaction; a concurrent change is a conflict.
pub(crate) async fn save(
    deps: &Deps,
    before: &Contact,
    contact: &mut Contact,
    extra: Vec<TransactItem>,
) -> ServiceResult<()> {
    contact.version = before.version + 1;
    let mut writes = vec![TransactItem::Put {
        item: to_item(&keys::contact(&contact.account_id, &contact.id), &*contact)?,
        condition: Some(Condition::version_is(before.version)),
    }];
    writes.extend(contact_index::changes(
        &contact.id,
        &contact_index::keys_of(before),
        &contact_index::keys_of(contact),
    ));
    writes.extend(extra);
    let change = if contact.status == ContactStatus::Erased && before.status != ContactStatus::Erased {
        ContactChange::Erased
    } else {
        ContactChange::Updated
    };
    let events = changed(contact, change, &before.tags, deps.clock.now());
    crate::outbox::transact(deps, writes, events).await?.map_err(concurrent)
}

/// Loads a contact, lets `change` edit it, and saves it with its index, retrying on a
/// concurrent change. `change` returns `false` for nothing to do (nothing is written);
/// `None` when the contact does not exist.
pub(crate) async fn modify(
    deps: &Deps,
    account: &str,
    id: &str,
    mut change: impl FnMut(&mut Contact) -> ServiceResult<bool>,
) -> ServiceResult<Option<Contact>> {
    for _ in 0..5 {
        let before = match load(deps, account, id).await {
            Ok(c) => c,
            Err(ServiceError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut contact = before.clone();
        if !change(&mut contact)? {
            return Ok(Some(before));
        }
        match save(deps, &before, &mut contact, Vec::new()).await {
            Ok(()) => return Ok(Some(contact)),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the contact kept changing; retry"))
}

/// Takes `tag` off one contact, saved with its index in one transaction; `false` when the
/// contact is gone or no longer carries it (see `super::tagging`).
pub(crate) async fn untag(deps: &Deps, account: &str, id: &str, tag: &str) -> ServiceResult<bool> {
    let mut changed = false;
    modify(deps, account, id, |c| {
        changed = c.tags.iter().any(|t| t == tag);
        c.tags.retain(|t| t != tag);
        Ok(changed)
    })
    .await?;
    Ok(changed)
}

/// Drops a deleted custom field's value from one contact (see `super::field_removal`).
pub(crate) async fn drop_field(deps: &Deps, account: &str, id: &str, key: &str) -> ServiceResult<()> {
    modify(deps, account, id, |c| Ok(c.custom.remove(key).is_some())).await?;
    Ok(())
}

/// Puts a contact in a wallet (or takes it out), with its index.
pub(crate) async fn set_wallet(
    deps: &Deps,
    account: &str,
    id: &str,
    wallet: Option<&str>,
) -> ServiceResult<()> {
    let now = deps.clock.now();
    let found = modify(deps, account, id, |c| {
        c.wallet_id = wallet.map(str::to_owned);
        c.wallet_joined_at = wallet.map(|_| now);
        Ok(true)
    })
    .await?;
    found.map(|_| ()).ok_or(ServiceError::NotFound("contact"))
}

/// The key of the marker that keeps an erased or blocked number from becoming a contact
/// again: a hash, so the marker does not hold the number.
fn blocked_number(account: &str, wa_id: &str) -> Key {
    keys::blocked_number(account, &hex::encode(Sha256::digest(format!("{account}:{wa_id}").as_bytes())))
}

/// The writes that keep `wa_id` from becoming a contact again by itself.
pub(crate) fn block_number(account: &str, wa_id: &str) -> TransactItem {
    let key = blocked_number(account, &canonical_wa_id(wa_id));
    TransactItem::Put {
        item: Item::from([("pk".to_owned(), attr::s(key.pk)), ("sk".to_owned(), attr::s(key.sk))]),
        condition: None,
    }
}

pub(crate) async fn number_blocked(deps: &Deps, account: &str, wa_id: &str) -> ServiceResult<bool> {
    Ok(deps.table.get(&blocked_number(account, &canonical_wa_id(wa_id))).await?.is_some())
}

/// Lets an erased number become a contact again (admins).
pub async fn unblock_number(deps: &Deps, caller: &Caller, raw_phone: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let e164 = phone::normalize(raw_phone).map_err(|e| ServiceError::invalid(e.to_string()))?;
    let key = blocked_number(&caller.account_id, &canonical_wa_id(&phone::wa_id_of(&e164)));
    if deps.table.get(&key).await?.is_none() {
        return Err(ServiceError::NotFound("blocked number"));
    }
    Ok(deps.table.delete(&key, None).await?)
}

/// The contact a WhatsApp sender is, created or completed as needed. Archived contacts
/// come back to active; blocked ones are returned as they are (the caller ignores them);
/// `None` for a number that was erased or blocked, which never becomes a contact again by
/// itself.
pub async fn upsert_from_whatsapp(
    deps: &Deps,
    account: &str,
    wa_id: Option<&str>,
    bsuid: Option<&str>,
    profile_name: Option<&str>,
) -> ServiceResult<Option<Contact>> {
    for _ in 0..3 {
        let mut found = None;
        if let Some(wa) = wa_id {
            found = by_pointer(deps, account, &keys::contact_by_wa_id(account, &canonical_wa_id(wa))).await?;
        }
        if found.is_none()
            && let Some(b) = bsuid
        {
            found = by_pointer(deps, account, &keys::contact_by_bsuid(account, b)).await?;
        }
        match found {
            Some(before) => {
                let mut contact = revived(&before, profile_name);
                let mut writes = Vec::new();
                if contact.wa_id.is_none()
                    && let Some(wa) = wa_id
                {
                    contact.wa_id = Some(wa.to_owned());
                    contact.phone = phone::normalize(&format!("+{wa}")).ok();
                    writes.push(TransactItem::Put {
                        item: pointer(keys::contact_by_wa_id(account, &canonical_wa_id(wa)), &contact.id),
                        condition: None,
                    });
                }
                if contact.bsuid.is_none()
                    && let Some(b) = bsuid
                {
                    contact.bsuid = Some(b.to_owned());
                    writes.push(TransactItem::Put {
                        item: pointer(keys::contact_by_bsuid(account, b), &contact.id),
                        condition: None,
                    });
                }
                if contact == before {
                    return Ok(Some(contact));
                }
                match save(deps, &before, &mut contact, writes).await {
                    Ok(()) => return Ok(Some(contact)),
                    Err(ServiceError::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            None => {
                if let Some(wa) = wa_id
                    && number_blocked(deps, account, wa).await?
                {
                    return Ok(None);
                }
                let contact = Contact {
                    name: profile_name.map(str::to_owned),
                    phone: wa_id.and_then(|wa| phone::normalize(&format!("+{wa}")).ok()),
                    wa_id: wa_id.map(str::to_owned),
                    bsuid: bsuid.map(str::to_owned),
                    ..fresh(deps, account, ORIGIN_WHATSAPP)
                };
                match commit_new(deps, &contact, Vec::new()).await? {
                    Ok(()) => return Ok(Some(contact)),
                    // Someone created it meanwhile: read theirs.
                    Err(TableError::TransactionConditionFailed { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(ServiceError::conflict("the contact kept changing; retry"))
}

/// The contact a person of a channel kind without phone numbers is, if known.
pub async fn by_identity(deps: &Deps, account: &str, identity: &Identity) -> ServiceResult<Option<Contact>> {
    by_pointer(deps, account, &keys::contact_by_identity(account, identity.kind.as_str(), &identity.id)).await
}

/// The contact a person of a channel kind without phone numbers is (a Messenger or
/// Instagram user, a Telegram chat), created on their first message. Archived contacts come
/// back to active; blocked and erased ones are returned as they are (the caller ignores
/// them).
pub async fn upsert_from_identity(
    deps: &Deps,
    account: &str,
    identity: &Identity,
    profile_name: Option<&str>,
) -> ServiceResult<Contact> {
    let kind = identity.kind.as_str();
    let key = keys::contact_by_identity(account, kind, &identity.id);
    for _ in 0..3 {
        match by_pointer(deps, account, &key).await? {
            Some(before) => {
                let mut contact = revived(&before, profile_name);
                if contact == before {
                    return Ok(contact);
                }
                match save(deps, &before, &mut contact, Vec::new()).await {
                    Ok(()) => return Ok(contact),
                    Err(ServiceError::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            None => {
                let mut contact =
                    Contact { name: profile_name.map(str::to_owned), ..fresh(deps, account, kind) };
                contact.identities.insert(kind.to_owned(), identity.id.clone());
                match commit_new(deps, &contact, Vec::new()).await? {
                    Ok(()) => return Ok(contact),
                    // Someone created it meanwhile: read theirs.
                    Err(TableError::TransactionConditionFailed { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(ServiceError::conflict("the contact kept changing; retry"))
}

/// A known contact writing in: an archived one is active again, a nameless one takes the
/// name its provider gives.
fn revived(before: &Contact, profile_name: Option<&str>) -> Contact {
    let mut contact = before.clone();
    if contact.status == ContactStatus::Archived {
        contact.status = ContactStatus::Active;
    }
    if contact.name.is_none() {
        contact.name = profile_name.map(str::to_owned);
    }
    contact
}

/// A new active contact with nothing known of it yet but where it came from.
pub(crate) fn fresh(deps: &Deps, account: &str, origin: &str) -> Contact {
    Contact {
        id: deps.ids.new_id(),
        account_id: account.to_owned(),
        name: None,
        phone: None,
        wa_id: None,
        bsuid: None,
        identities: BTreeMap::new(),
        email: None,
        tags: Vec::new(),
        status: ContactStatus::Active,
        wallet_id: None,
        wallet_joined_at: None,
        custom: BTreeMap::new(),
        origin: Some(origin.to_owned()),
        marketing_opt_out_at: None,
        created_at: deps.clock.now(),
        version: 1,
    }
}

/// Origins the product sets itself.
pub const ORIGIN_WHATSAPP: &str = "whatsapp";
pub const ORIGIN_MANUAL: &str = "manual";
pub const ORIGIN_IMPORT: &str = "import";

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewContact {
    pub name: Option<String>,
    pub phone: String,
    pub email: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom field values by key (`GET /v1/custom-fields`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, Value>,
    /// Where the contact came from (e.g. a UTM source); `manual` when absent.
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `blocked` needs an admin; `erased` only comes from an erasure.
    pub status: Option<ContactStatus>,
    /// Custom field values to set, by key; `null` removes one.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, Value>,
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactPage {
    pub items: Vec<Contact>,
    pub next_cursor: Option<String>,
}

fn clean_email(email: Option<String>) -> ServiceResult<Option<String>> {
    match email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => crate::accounts::users::normalize_email(&e).map(Some),
    }
}

fn clean_origin(origin: &str) -> ServiceResult<String> {
    let origin = origin.trim().to_lowercase();
    if origin.is_empty() || origin.chars().count() > 60 || origin.contains('#') {
        return Err(ServiceError::invalid("origin: 1 to 60 characters, no #"));
    }
    Ok(origin)
}

fn clean_name(name: &str) -> Option<String> {
    Some(name.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|n| !n.is_empty())
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewContact) -> ServiceResult<Contact> {
    require_contact_access(caller)?;
    let e164 = phone::normalize(&input.phone).map_err(|e| ServiceError::invalid(e.to_string()))?;
    let defs = fields::list_all(deps, &caller.account_id).await?;
    let origin = match input.origin {
        Some(o) => clean_origin(&o)?,
        None => ORIGIN_MANUAL.to_owned(),
    };
    let contact = Contact {
        name: input.name.as_deref().and_then(clean_name),
        wa_id: Some(phone::wa_id_of(&e164)),
        phone: Some(e164),
        email: clean_email(input.email)?,
        tags: tags::validate(deps, &caller.account_id, &input.tags).await?,
        custom: fields::check(&defs, &BTreeMap::new(), &input.custom, Required::Enforce)?,
        ..fresh(deps, &caller.account_id, &origin)
    };
    if number_blocked(deps, &caller.account_id, contact.wa_id.as_deref().unwrap_or_default()).await? {
        return Err(ServiceError::conflict(
            "this number was erased or blocked: an admin must unblock it first",
        ));
    }
    commit_new(deps, &contact, Vec::new()).await?.map_err(|e| match e {
        TableError::TransactionConditionFailed { index: 1 } => {
            ServiceError::conflict("a contact with this number exists")
        }
        other => concurrent(other),
    })?;
    Ok(contact)
}

/// The contact with this phone number, created if new (for active starts).
pub async fn find_or_create_by_phone(
    deps: &Deps,
    caller: &Caller,
    raw_phone: &str,
) -> ServiceResult<Contact> {
    let e164 = phone::normalize(raw_phone).map_err(|e| ServiceError::invalid(e.to_string()))?;
    let wa = phone::wa_id_of(&e164);
    upsert_from_whatsapp(deps, &caller.account_id, Some(&wa), None, None).await?.ok_or_else(|| {
        ServiceError::conflict("this number was erased or blocked: an admin must unblock it first")
    })
}

/// The contact with this number (any spelling), if any: one get of its `CWA#` pointer.
pub async fn by_phone(deps: &Deps, account: &str, raw_phone: &str) -> ServiceResult<Option<Contact>> {
    let Ok(e164) = phone::normalize(raw_phone) else { return Ok(None) };
    by_pointer(deps, account, &keys::contact_by_wa_id(account, &canonical_wa_id(&phone::wa_id_of(&e164))))
        .await
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Contact> {
    require_contact_access(caller)?;
    load(deps, &caller.account_id, id).await
}

/// What `GET /v1/contacts` filters by (its query parameters); every criterion given must
/// hold.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactFilter {
    /// A name prefix, a phone number (any spelling) or an email, whichever it looks like.
    pub q: Option<String>,
    /// A prefix of the name or of a later word of it ("joao" finds "João", "silv" finds
    /// "Maria Silva").
    pub name: Option<String>,
    /// The number in any spelling: `(11) 98765-4321`, `+55 11 98765-4321`, `5511987654321`.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A tag's id.
    pub tag: Option<String>,
    pub wallet_id: Option<String>,
    pub origin: Option<String>,
    /// `erased` contacts are listed only when asked for.
    pub status: Option<ContactStatus>,
    /// A custom field's key, with `value`: contacts whose value equals it (case and
    /// accents ignored).
    pub field: Option<String>,
    pub value: Option<String>,
    /// The previous page's `next_cursor` (empty or absent: the first page).
    #[param(format = "cursor")]
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The criteria of a filter, cleaned: what the index is read with and what each contact is
/// checked against.
#[derive(Debug, Default)]
struct Criteria {
    name: Option<String>,
    wa_id: Option<String>,
    email: Option<String>,
    tag: Option<String>,
    wallet: Option<String>,
    origin: Option<String>,
    status: Option<ContactStatus>,
    field: Option<(String, String)>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Criteria {
    fn of(f: ContactFilter) -> ServiceResult<Criteria> {
        let mut c = Criteria {
            name: non_empty(f.name).map(|n| contact_index::fold(&n)).filter(|n| !n.is_empty()),
            email: non_empty(f.email).map(|e| e.to_lowercase()),
            tag: non_empty(f.tag),
            wallet: non_empty(f.wallet_id),
            origin: non_empty(f.origin).map(|o| o.to_lowercase()),
            status: f.status,
            field: match (f.field, f.value) {
                (None, None) => None,
                (Some(k), Some(v)) => Some((k.trim().to_owned(), contact_index::fold(&v))),
                _ => return Err(ServiceError::invalid("field and value go together")),
            },
            wa_id: None,
        };
        let mut phone_text = non_empty(f.phone);
        if let Some(q) = non_empty(f.q) {
            let digits = q.chars().filter(char::is_ascii_digit).count();
            let phone_like = q.chars().all(|ch| ch.is_ascii_digit() || " +-().".contains(ch));
            if q.contains('@') {
                c.email.get_or_insert(q.to_lowercase());
            } else if phone_like && digits >= 8 {
                phone_text.get_or_insert(q);
            } else {
                c.name.get_or_insert(contact_index::fold(&q));
            }
        }
        if let Some(p) = phone_text {
            let e164 = phone::normalize(&p).map_err(|e| ServiceError::invalid(format!("phone: {e}")))?;
            c.wa_id = Some(canonical_wa_id(&phone::wa_id_of(&e164)));
        }
        Ok(c)
    }

    /// The index that narrows the search most (the order states it), as a query prefix.
    fn driver(&self) -> Option<String> {
        if let Some(e) = &self.email {
            return Some(format!("{}#", keys::contact_index_prefix("email", e)));
        }
        if let Some((k, v)) = &self.field {
            return Some(format!("{}#", keys::contact_index_prefix(&contact_index::field_facet(k), v)));
        }
        if let Some(t) = &self.tag {
            return Some(keys::tagged_prefix("CTAG", t));
        }
        if let Some(n) = &self.name {
            return Some(keys::contact_index_prefix("name", n));
        }
        if let Some(w) = &self.wallet {
            return Some(format!("{}#", keys::contact_index_prefix("wallet", w)));
        }
        if let Some(o) = &self.origin {
            return Some(format!("{}#", keys::contact_index_prefix("origin", o)));
        }
        self.status
            .map(|s| format!("{}#", keys::contact_index_prefix("status", contact_index::status_value(s))))
    }

    fn matches(&self, c: &Contact) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        // What the name index holds: the name from its start or from any later word.
        self.name.as_ref().is_none_or(|n| {
            let folded = contact_index::fold(c.name.as_deref().unwrap_or_default());
            folded.starts_with(n.as_str()) || folded.contains(&format!(" {n}"))
        }) && self.wa_id.as_ref().is_none_or(|w| c.wa_id.as_deref().map(canonical_wa_id).as_ref() == Some(w))
            && eq(&self.email, &c.email)
            && self.tag.as_ref().is_none_or(|t| c.tags.contains(t))
            && eq(&self.wallet, &c.wallet_id)
            && eq(&self.origin, &c.origin)
            && match self.status {
                Some(s) => c.status == s,
                None => c.status != ContactStatus::Erased,
            }
            && self.field.as_ref().is_none_or(|(k, v)| {
                c.custom.get(k).is_some_and(|x| &contact_index::fold(&fields::display(x)) == v)
            })
    }
}

/// Index pages read for one page of results at most (when most entries fail the other
/// criteria, the page comes back short with a cursor to go on).
const MAX_ROUNDS: usize = 5;

/// Contacts matching every criterion of `filter`, a page at a time: by phone, one pointer
/// read; otherwise a page of the most selective index (see [`contact_index`]) and one get
/// per entry, each contact checked against the other criteria; with no criterion, the
/// contacts by creation.
pub async fn search(deps: &Deps, caller: &Caller, filter: ContactFilter) -> ServiceResult<ContactPage> {
    require_contact_access(caller)?;
    let limit = crate::accounts::users::page_size(filter.limit)? as usize;
    let account = &caller.account_id;
    let cursor = filter.cursor.clone();
    let criteria = Criteria::of(filter)?;
    if let Some(wa) = &criteria.wa_id {
        let found = by_pointer(deps, account, &keys::contact_by_wa_id(account, wa)).await?;
        let items = found.into_iter().filter(|c| criteria.matches(c)).collect();
        return Ok(ContactPage { items, next_cursor: None });
    }
    let prefix = criteria.driver();
    let mut items: Vec<Contact> = Vec::new();
    let mut cursor = cursor.filter(|c| !c.is_empty());
    for _ in 0..MAX_ROUNDS {
        let want = (limit - items.len()) as u32;
        let query = Query::partition(Index::Primary, keys::account_pk(account))
            .sort(SortCondition::BeginsWith(prefix.clone().unwrap_or_else(|| keys::CONTACT_PREFIX.into())))
            .limit(want)
            .after(cursor.take());
        let page = deps.table.query(query).await?;
        let found: Vec<Contact> = if prefix.is_none() {
            page.items.into_iter().map(from_item).collect::<ServiceResult<_>>()?
        } else {
            let ids: Vec<&str> = page.items.iter().filter_map(|i| attr::get_s(i, "id")).collect();
            let loads = ids.iter().map(|id| load(deps, account, id));
            futures::future::join_all(loads)
                .await
                .into_iter()
                .filter_map(|r| match r {
                    Err(ServiceError::NotFound(_)) => None,
                    other => Some(other),
                })
                .collect::<ServiceResult<_>>()?
        };
        for c in found {
            if criteria.matches(&c) && !items.iter().any(|i| i.id == c.id) {
                items.push(c);
            }
        }
        cursor = page.cursor;
        if items.len() >= limit || cursor.is_none() {
            break;
        }
    }
    Ok(ContactPage { items, next_cursor: cursor })
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: ContactPatch) -> ServiceResult<Contact> {
    require_contact_access(caller)?;
    let before = load(deps, &caller.account_id, id).await?;
    if before.status == ContactStatus::Erased {
        return Err(ServiceError::conflict("an erased contact cannot change"));
    }
    let mut contact = before.clone();
    if let Some(name) = patch.name {
        contact.name = clean_name(&name);
    }
    if patch.email.is_some() {
        contact.email = clean_email(patch.email)?;
    }
    if let Some(ids) = patch.tags {
        contact.tags = tags::validate(deps, &caller.account_id, &ids).await?;
    }
    if let Some(origin) = patch.origin {
        contact.origin = Some(clean_origin(&origin)?);
    }
    if !patch.custom.is_empty() {
        let defs = fields::list_all(deps, &caller.account_id).await?;
        contact.custom = fields::check(&defs, &contact.custom, &patch.custom, Required::Enforce)?;
    }
    if let Some(status) = patch.status {
        if status == ContactStatus::Erased {
            return Err(ServiceError::invalid("status: erase a contact with POST /v1/contacts/{id}/erasure"));
        }
        if status == ContactStatus::Blocked || contact.status == ContactStatus::Blocked {
            caller.require_admin()?;
        }
        contact.status = status;
    }
    save(deps, &before, &mut contact, Vec::new()).await?;
    Ok(contact)
}
