//! Contacts: one person is one contact, whichever spelling of their number arrives
//! (see [`super::phone`]). Restricted agents have no access to the contact base.

use super::model::{Contact, ContactStatus};
use super::phone;
use crate::accounts::{Caller, Profile};
use crate::crm::tags::{self, Tagged};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Key, Query, SortCondition, TableError, TransactItem};
use crate::record::{concurrent, from_item, to_item};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    writes.extend(tags::index_changes(Tagged::Contact, &contact.account_id, &contact.id, &[], &contact.tags));
    Ok(writes)
}

/// Saves `contact` (read at `read`), with the tag index items its tag change needs.
async fn save(deps: &Deps, contact: &Contact, read: u64, tags_before: &[String]) -> ServiceResult<()> {
    let mut writes = vec![TransactItem::Put {
        item: to_item(&keys::contact(&contact.account_id, &contact.id), contact)?,
        condition: Some(Condition::version_is(read)),
    }];
    writes.extend(tags::index_changes(
        Tagged::Contact,
        &contact.account_id,
        &contact.id,
        tags_before,
        &contact.tags,
    ));
    deps.table.transact(writes).await.map_err(concurrent)
}

/// Takes `tag` off one contact, saved with its index in one transaction; `false` when the
/// contact is gone or no longer carries it (see `super::tagging`).
pub(crate) async fn untag(deps: &Deps, account: &str, id: &str, tag: &str) -> ServiceResult<bool> {
    for _ in 0..5 {
        let mut contact = match load(deps, account, id).await {
            Ok(c) if c.tags.iter().any(|t| t == tag) => c,
            Ok(_) | Err(ServiceError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let before = contact.tags.clone();
        contact.tags.retain(|t| t != tag);
        let read = contact.version;
        contact.version += 1;
        match save(deps, &contact, read, &before).await {
            Ok(()) => return Ok(true),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the contact kept changing; retry"))
}

/// The contact a WhatsApp sender is, created or completed as needed. Archived contacts
/// come back to active; blocked ones are returned as they are (the caller ignores them).
pub async fn upsert_from_whatsapp(
    deps: &Deps,
    account: &str,
    wa_id: Option<&str>,
    bsuid: Option<&str>,
    profile_name: Option<&str>,
) -> ServiceResult<Contact> {
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
            Some(mut contact) => {
                let mut changed = false;
                let mut writes = Vec::new();
                if contact.status == ContactStatus::Archived {
                    contact.status = ContactStatus::Active;
                    changed = true;
                }
                if contact.name.is_none() && profile_name.is_some() {
                    contact.name = profile_name.map(str::to_owned);
                    changed = true;
                }
                if contact.wa_id.is_none()
                    && let Some(wa) = wa_id
                {
                    contact.wa_id = Some(wa.to_owned());
                    contact.phone = phone::normalize(&format!("+{wa}")).ok();
                    writes.push(TransactItem::Put {
                        item: pointer(keys::contact_by_wa_id(account, &canonical_wa_id(wa)), &contact.id),
                        condition: None,
                    });
                    changed = true;
                }
                if contact.bsuid.is_none()
                    && let Some(b) = bsuid
                {
                    contact.bsuid = Some(b.to_owned());
                    writes.push(TransactItem::Put {
                        item: pointer(keys::contact_by_bsuid(account, b), &contact.id),
                        condition: None,
                    });
                    changed = true;
                }
                if !changed {
                    return Ok(contact);
                }
                let read = contact.version;
                contact.version += 1;
                writes.insert(
                    0,
                    TransactItem::Put {
                        item: to_item(&keys::contact(account, &contact.id), &contact)?,
                        condition: Some(Condition::version_is(read)),
                    },
                );
                match deps.table.transact(writes).await {
                    Ok(()) => return Ok(contact),
                    Err(TableError::TransactionConditionFailed { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            None => {
                let contact = Contact {
                    id: deps.ids.new_id(),
                    account_id: account.to_owned(),
                    name: profile_name.map(str::to_owned),
                    phone: wa_id.and_then(|wa| phone::normalize(&format!("+{wa}")).ok()),
                    wa_id: wa_id.map(str::to_owned),
                    bsuid: bsuid.map(str::to_owned),
                    email: None,
                    tags: Vec::new(),
                    status: ContactStatus::Active,
                    wallet_id: None,
                    wallet_joined_at: None,
                    created_at: deps.clock.now(),
                    version: 1,
                };
                match deps.table.transact(writes_for_new(&contact)?).await {
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewContact {
    pub name: Option<String>,
    pub phone: String,
    pub email: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `blocked` needs an admin.
    pub status: Option<ContactStatus>,
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

pub async fn create(deps: &Deps, caller: &Caller, input: NewContact) -> ServiceResult<Contact> {
    require_contact_access(caller)?;
    let e164 = phone::normalize(&input.phone).map_err(|e| ServiceError::invalid(e.to_string()))?;
    let contact = Contact {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: input.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        wa_id: Some(phone::wa_id_of(&e164)),
        phone: Some(e164),
        bsuid: None,
        email: clean_email(input.email)?,
        tags: tags::validate(deps, &caller.account_id, &input.tags).await?,
        status: ContactStatus::Active,
        wallet_id: None,
        wallet_joined_at: None,
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table.transact(writes_for_new(&contact)?).await.map_err(|e| match e {
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
    upsert_from_whatsapp(deps, &caller.account_id, Some(&wa), None, None).await
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Contact> {
    require_contact_access(caller)?;
    load(deps, &caller.account_id, id).await
}

/// Contacts whose name, phone or email contains `q` (case-insensitive), by creation.
pub async fn search(
    deps: &Deps,
    caller: &Caller,
    q: Option<&str>,
    tag: Option<&str>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> ServiceResult<ContactPage> {
    require_contact_access(caller)?;
    if let Some(tag) = tag.map(str::trim).filter(|t| !t.is_empty()) {
        return with_tag(deps, caller, tag, cursor, limit).await;
    }
    let limit = crate::accounts::users::page_size(limit)? as usize;
    let needle = q.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let digits: Option<String> = needle.as_ref().map(|n| n.chars().filter(char::is_ascii_digit).collect());
    let mut items = Vec::new();
    let mut cursor = cursor;
    loop {
        let query = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
            .sort(SortCondition::BeginsWith(keys::CONTACT_PREFIX.into()))
            .limit(100)
            .after(cursor.take());
        let page = deps.table.query(query).await?;
        for item in page.items {
            let contact: Contact = from_item(item)?;
            let hit = match &needle {
                None => true,
                Some(n) => {
                    contact.name.as_deref().is_some_and(|x| x.to_lowercase().contains(n.as_str()))
                        || contact.email.as_deref().is_some_and(|x| x.contains(n.as_str()))
                        || digits.as_deref().is_some_and(|d| {
                            !d.is_empty() && contact.phone.as_deref().is_some_and(|p| p.contains(d))
                        })
                }
            };
            if hit {
                items.push(contact);
            }
        }
        cursor = page.cursor;
        if items.len() >= limit || cursor.is_none() {
            break;
        }
    }
    // A page may end past `limit` matches: the cursor still points after the last item read.
    Ok(ContactPage { items, next_cursor: cursor })
}

/// The contacts carrying `tag`, by contact id: a page of the tag's `CTAG#<tag>#` index
/// items, then each contact by key (access pattern: query + one get per contact).
async fn with_tag(
    deps: &Deps,
    caller: &Caller,
    tag: &str,
    cursor: Option<String>,
    limit: Option<u32>,
) -> ServiceResult<ContactPage> {
    let limit = crate::accounts::users::page_size(limit)?;
    let (ids, next_cursor) =
        tags::tagged(deps, Tagged::Contact, &caller.account_id, tag, cursor, limit).await?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        match load(deps, &caller.account_id, &id).await {
            Ok(c) if c.tags.iter().any(|t| t == tag) => items.push(c),
            Ok(_) | Err(ServiceError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ContactPage { items, next_cursor })
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: ContactPatch) -> ServiceResult<Contact> {
    require_contact_access(caller)?;
    let mut contact = load(deps, &caller.account_id, id).await?;
    if let Some(name) = patch.name {
        contact.name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
    }
    if patch.email.is_some() {
        contact.email = clean_email(patch.email)?;
    }
    let tags_before = contact.tags.clone();
    if let Some(ids) = patch.tags {
        contact.tags = tags::validate(deps, &caller.account_id, &ids).await?;
    }
    if let Some(status) = patch.status {
        if status == ContactStatus::Blocked || contact.status == ContactStatus::Blocked {
            caller.require_admin()?;
        }
        contact.status = status;
    }
    let read = contact.version;
    contact.version += 1;
    save(deps, &contact, read, &tags_before).await?;
    Ok(contact)
}
