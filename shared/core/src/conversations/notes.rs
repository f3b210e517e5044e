//! Internal notes on sessions: never sent; authors edit or delete their own within 2 h;
//! admins delete any.

use super::model::Note;
use super::sessions::{self, Access};
use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition};
use crate::record::{from_item, to_item};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const EDIT_WINDOW: Duration = Duration::hours(2);

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NoteText {
    pub text: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteList {
    pub items: Vec<Note>,
}

fn clean(text: &str) -> ServiceResult<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 4096 {
        return Err(ServiceError::invalid("a note has 1 to 4096 characters"));
    }
    Ok(t.to_owned())
}

pub async fn add(deps: &Deps, caller: &Caller, session: &str, input: NoteText) -> ServiceResult<Note> {
    let access = Access::of(deps, caller).await?;
    sessions::readable(deps, &access, session).await?;
    let note = Note {
        id: deps.ids.new_id(),
        session_id: session.to_owned(),
        author_id: caller.user_id.clone(),
        text: clean(&input.text)?,
        created_at: deps.clock.now(),
        edited_at: None,
    };
    deps.table
        .put(to_item(&keys::note(&caller.account_id, session, &note.id), &note)?, Some(Condition::NotExists))
        .await?;
    Ok(note)
}

/// The author of notes the system writes (a payment received, overdue, refunded).
pub const SYSTEM_AUTHOR: &str = "system";

/// A note by the system under an id the caller derives from what it records (so writing
/// it again is a no-op): put with a not-exists condition, in the caller's transaction.
pub fn system_note(
    account: &str,
    session: &str,
    id: &str,
    text: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<crate::ports::TransactItem> {
    let note = Note {
        id: id.to_owned(),
        session_id: session.to_owned(),
        author_id: SYSTEM_AUTHOR.to_owned(),
        text: text.to_owned(),
        created_at: at,
        edited_at: None,
    };
    Ok(crate::ports::TransactItem::Put {
        item: to_item(&keys::note(account, session, id), &note)?,
        condition: Some(Condition::NotExists),
    })
}

pub async fn list(deps: &Deps, caller: &Caller, session: &str) -> ServiceResult<NoteList> {
    let access = Access::of(deps, caller).await?;
    sessions::readable(deps, &access, session).await?;
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::notes_prefix(session)));
    let page = deps.table.query(q).await?;
    Ok(NoteList { items: page.items.into_iter().map(from_item).collect::<ServiceResult<_>>()? })
}

async fn own_note(
    deps: &Deps,
    caller: &Caller,
    session: &str,
    id: &str,
    deleting: bool,
) -> ServiceResult<Note> {
    let access = Access::of(deps, caller).await?;
    sessions::readable(deps, &access, session).await?;
    let note: Note = match deps.table.get(&keys::note(&caller.account_id, session, id)).await? {
        Some(item) => from_item(item)?,
        None => return Err(ServiceError::NotFound("note")),
    };
    if deleting && caller.is_admin() {
        return Ok(note);
    }
    if note.author_id != caller.user_id {
        return Err(ServiceError::forbidden("only the note's author may change it"));
    }
    if deps.clock.now() > note.created_at + EDIT_WINDOW {
        return Err(ServiceError::forbidden("notes can be changed only within 2 hours"));
    }
    Ok(note)
}

pub async fn edit(
    deps: &Deps,
    caller: &Caller,
    session: &str,
    id: &str,
    input: NoteText,
) -> ServiceResult<Note> {
    let mut note = own_note(deps, caller, session, id, false).await?;
    note.text = clean(&input.text)?;
    note.edited_at = Some(deps.clock.now());
    deps.table
        .put(to_item(&keys::note(&caller.account_id, session, id), &note)?, Some(Condition::Exists))
        .await?;
    Ok(note)
}

pub async fn delete(deps: &Deps, caller: &Caller, session: &str, id: &str) -> ServiceResult<()> {
    own_note(deps, caller, session, id, true).await?;
    deps.table.delete(&keys::note(&caller.account_id, session, id), None).await?;
    Ok(())
}
