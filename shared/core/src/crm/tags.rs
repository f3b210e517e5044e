//! Tags (*etiquetas*): account-defined, a name and a colour. Contacts carry tag **ids**, so
//! renaming a tag renames it everywhere without touching a contact; deleting one removes it
//! from every contact (found through the `CTAG#<tag>#<contact>` items each contact's
//! transaction keeps).
//!
//! Access patterns: a tag by id (get `TAG#<id>`); all tags (query the account's partition,
//! prefix `TAG#`); a name's owner (get `TAGNAME#<lowercased>`); the contacts carrying a tag
//! (query prefix `CTAG#<tag>#`).

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError, TransactItem};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Tags one contact may carry.
pub const MAX_TAGS_PER_CONTACT: usize = 20;
const MAX_NAME: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// `#RRGGBB`.
    pub colour: String,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTag {
    pub name: String,
    /// `#RRGGBB`; grey when absent.
    pub colour: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TagPatch {
    pub name: Option<String>,
    pub colour: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagList {
    /// By name.
    pub items: Vec<Tag>,
}

fn clean_name(name: &str) -> ServiceResult<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ServiceError::invalid(format!("name: 1 to {MAX_NAME} characters")));
    }
    Ok(name)
}

fn clean_colour(colour: Option<&str>) -> ServiceResult<String> {
    let colour = colour.unwrap_or("#9e9e9e").trim();
    let hex = colour.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ServiceError::invalid("colour: #RRGGBB, e.g. #1e88e5"));
    }
    Ok(colour.to_ascii_lowercase())
}

fn name_pointer(tag: &Tag) -> Item {
    let key = keys::tag_name(&tag.account_id, &tag.name.to_lowercase());
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("tag_id".to_owned(), attr::s(&tag.id)),
    ])
}

fn name_taken(e: TableError) -> ServiceError {
    match e {
        TableError::TransactionConditionFailed { index: 1 } => {
            ServiceError::conflict("a tag with this name exists")
        }
        other => concurrent(other),
    }
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Tag> {
    match deps.table.get(&keys::tag(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("tag")),
    }
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<TagList> {
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::TAG_PREFIX.into()));
    let mut items: Vec<Tag> = query_all(deps, q).await?;
    items.sort_by_key(|t| t.name.to_lowercase());
    Ok(TagList { items })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Tag> {
    load(deps, &caller.account_id, id).await
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewTag) -> ServiceResult<Tag> {
    caller.require_admin()?;
    let tag = Tag {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: clean_name(&input.name)?,
        colour: clean_colour(input.colour.as_deref())?,
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table
        .transact(vec![
            TransactItem::Put {
                item: to_item(&keys::tag(&tag.account_id, &tag.id), &tag)?,
                condition: Some(Condition::NotExists),
            },
            TransactItem::Put { item: name_pointer(&tag), condition: Some(Condition::NotExists) },
        ])
        .await
        .map_err(name_taken)?;
    Ok(tag)
}

/// The ids of the tags with these names (any case), each created (grey) when the account
/// has none by that name: for imports. Names that are not valid tag names are an error
/// naming them.
pub async fn ensure_named(
    deps: &Deps,
    account: &str,
    names: &[String],
) -> ServiceResult<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for raw in names {
        let name = clean_name(raw)
            .map_err(|_| ServiceError::invalid(format!("tag {raw:?}: 1 to {MAX_NAME} characters")))?;
        let lower = name.to_lowercase();
        if out.contains_key(&lower) {
            continue;
        }
        for _ in 0..3 {
            if let Some(p) = deps.table.get(&keys::tag_name(account, &lower)).await?
                && let Some(id) = attr::get_s(&p, "tag_id")
            {
                out.insert(lower.clone(), id.to_owned());
                break;
            }
            let tag = Tag {
                id: deps.ids.new_id(),
                account_id: account.to_owned(),
                name: name.clone(),
                colour: clean_colour(None)?,
                created_at: deps.clock.now(),
                version: 1,
            };
            let writes = vec![
                TransactItem::Put {
                    item: to_item(&keys::tag(account, &tag.id), &tag)?,
                    condition: Some(Condition::NotExists),
                },
                TransactItem::Put { item: name_pointer(&tag), condition: Some(Condition::NotExists) },
            ];
            match deps.table.transact(writes).await {
                Ok(()) => {
                    out.insert(lower.clone(), tag.id);
                    break;
                }
                // Created meanwhile by someone else: read theirs.
                Err(TableError::TransactionConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(out)
}

/// Renames or recolours a tag (admins). Contacts hold its id: nothing else is rewritten.
pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: TagPatch) -> ServiceResult<Tag> {
    caller.require_admin()?;
    let mut tag = load(deps, &caller.account_id, id).await?;
    let old_name = tag.name.to_lowercase();
    if let Some(name) = &patch.name {
        tag.name = clean_name(name)?;
    }
    if patch.colour.is_some() {
        tag.colour = clean_colour(patch.colour.as_deref())?;
    }
    let read = tag.version;
    tag.version += 1;
    let mut writes = vec![TransactItem::Put {
        item: to_item(&keys::tag(&tag.account_id, &tag.id), &tag)?,
        condition: Some(Condition::version_is(read)),
    }];
    if tag.name.to_lowercase() != old_name {
        writes.push(TransactItem::Put { item: name_pointer(&tag), condition: Some(Condition::NotExists) });
        writes
            .push(TransactItem::Delete { key: keys::tag_name(&tag.account_id, &old_name), condition: None });
    }
    deps.table.transact(writes).await.map_err(name_taken)?;
    Ok(tag)
}

/// Deletes a loaded tag and its name. Only `conversations::tagging::delete_tag` calls it
/// (admins; it takes the tag off contacts and sessions before and after: this module does
/// not know them).
pub(crate) async fn delete(deps: &Deps, tag: &Tag) -> ServiceResult<()> {
    deps.table
        .transact(vec![
            TransactItem::Delete {
                key: keys::tag(&tag.account_id, &tag.id),
                condition: Some(Condition::Exists),
            },
            TransactItem::Delete {
                key: keys::tag_name(&tag.account_id, &tag.name.to_lowercase()),
                condition: None,
            },
        ])
        .await
        .map_err(concurrent)?;
    Ok(())
}

/// What a tag is on: each kind keeps `<prefix><tag>#<id>` index items in its own
/// transactions, which filters and tag deletion read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    Contact,
    Session,
}

impl Tagged {
    fn kind(self) -> &'static str {
        match self {
            Tagged::Contact => "CTAG",
            Tagged::Session => "STAG",
        }
    }

    fn prefix(self, tag: &str) -> String {
        keys::tagged_prefix(self.kind(), tag)
    }

    pub(crate) fn key(self, account: &str, tag: &str, id: &str) -> crate::ports::Key {
        keys::tagged(account, self.kind(), tag, id)
    }
}

/// The ids of what carries `tag`, a page at a time (its index items).
pub async fn tagged(
    deps: &Deps,
    what: Tagged,
    account: &str,
    tag: &str,
    cursor: Option<String>,
    limit: u32,
) -> ServiceResult<(Vec<String>, Option<String>)> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(what.prefix(tag)))
        .limit(limit)
        .after(cursor);
    let page = deps.table.query(q).await?;
    let ids = page.items.iter().filter_map(|i| attr::get_s(i, "id").map(str::to_owned)).collect();
    Ok((ids, page.cursor))
}

/// The index writes a change of `id`'s tags from `before` to `after` needs, for its own
/// transaction.
pub fn index_changes(
    what: Tagged,
    account: &str,
    id: &str,
    before: &[String],
    after: &[String],
) -> Vec<TransactItem> {
    let added = after.iter().filter(|t| !before.contains(t)).map(|t| {
        let key = what.key(account, t, id);
        TransactItem::Put {
            item: Item::from([
                ("pk".to_owned(), attr::s(key.pk)),
                ("sk".to_owned(), attr::s(key.sk)),
                ("id".to_owned(), attr::s(id)),
            ]),
            condition: None,
        }
    });
    let removed = before
        .iter()
        .filter(|t| !after.contains(t))
        .map(|t| TransactItem::Delete { key: what.key(account, t, id), condition: None });
    added.chain(removed).collect()
}

/// The event of a change of `id`'s tags from `before` to `after` (none when they are the
/// same set); `version` is the thing's version after the change.
pub fn changed(
    what: Tagged,
    account: &str,
    id: &str,
    version: u64,
    before: &[String],
    after: &[String],
    at: chrono::DateTime<chrono::Utc>,
) -> Option<crate::events::DomainEvent> {
    let added: Vec<String> = after.iter().filter(|t| !before.contains(t)).cloned().collect();
    let removed: Vec<String> = before.iter().filter(|t| !after.contains(t)).cloned().collect();
    (!added.is_empty() || !removed.is_empty()).then(|| crate::events::DomainEvent::TagsChanged {
        account_id: account.to_owned(),
        target: match what {
            Tagged::Contact => "contact",
            Tagged::Session => "session",
        }
        .to_owned(),
        target_id: id.to_owned(),
        added,
        removed,
        version,
        at,
    })
}

/// Drops the index item saying `id` carries `tag` (when the thing itself no longer does).
pub async fn forget(deps: &Deps, what: Tagged, account: &str, tag: &str, id: &str) -> ServiceResult<()> {
    Ok(deps.table.delete(&what.key(account, tag, id), None).await?)
}

/// `ids` as a contact's or session's tags: each once, in the given order, every one an existing tag of
/// the account (a clear 422 naming the first that is not), at most
/// [`MAX_TAGS_PER_CONTACT`] (sessions too).
pub async fn validate(deps: &Deps, account: &str, ids: &[String]) -> ServiceResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim();
        if out.iter().any(|o| o == id) {
            continue;
        }
        match load(deps, account, id).await {
            Ok(_) => out.push(id.to_owned()),
            Err(ServiceError::NotFound(_)) => {
                return Err(ServiceError::invalid(format!("tags: no tag with id {id:?} in this account")));
            }
            Err(e) => return Err(e),
        }
    }
    if out.len() > MAX_TAGS_PER_CONTACT {
        return Err(ServiceError::invalid(format!("tags: at most {MAX_TAGS_PER_CONTACT} per contact")));
    }
    Ok(out)
}
