//! Kanban panels (*painéis*): ordered columns, and cards linked to a contact (and
//! optionally a session) with a title, value, owner and due date. Admins shape panels;
//! anyone with access to the contact base works the cards.
//!
//! Each card is its own item holding its column and a **rank** (a string that sorts
//! between its neighbours, see [`rank_between`]), so moving a card writes that card only:
//! concurrent moves of different cards never touch each other, and two moves of the same
//! card are ordered by its version (the loser gets a conflict and retries). Cards of equal
//! rank (two moved to the same gap at once) sort by id: the order is stable.
//!
//! Access patterns: a panel by id (get `PANEL#<id>`); all panels (query prefix `PANEL#`);
//! a panel's cards (query prefix `PCARD#<panel>#`), sorted by column and rank in memory.

use crate::accounts::{Caller, Profile};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_COLUMNS: usize = 30;
/// Cards a panel may hold (a board is read whole).
pub const MAX_CARDS: usize = 5_000;
const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Column {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Panel {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// In board order.
    pub columns: Vec<Column>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ColumnInput {
    /// An existing column's id to keep it (and its cards); absent for a new column.
    pub id: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PanelInput {
    pub name: String,
    /// In board order; a column that still has cards cannot be left out.
    pub columns: Vec<ColumnInput>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PanelList {
    pub items: Vec<Panel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Card {
    pub id: String,
    pub account_id: String,
    pub panel_id: String,
    pub column_id: String,
    /// Sorts the column's cards (then the id).
    pub rank: String,
    pub title: String,
    pub contact_id: String,
    pub session_id: Option<String>,
    /// In cents.
    pub value_cents: Option<i64>,
    pub owner_id: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCard {
    /// The first column when absent; the card goes to the column's end.
    pub column_id: Option<String>,
    pub title: String,
    pub contact_id: String,
    pub session_id: Option<String>,
    pub value_cents: Option<i64>,
    pub owner_id: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CardPatch {
    pub title: Option<String>,
    pub value_cents: Option<i64>,
    pub owner_id: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub due_date: Option<String>,
}

fn due_date(text: Option<&str>) -> ServiceResult<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .map_err(|_| ServiceError::invalid("due_date: YYYY-MM-DD"))
    })
    .transpose()
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CardMove {
    pub column_id: String,
    /// The card it goes right after in that column; absent: the column's top.
    pub after_card_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardColumn {
    pub id: String,
    pub name: String,
    pub cards: Vec<Card>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    pub panel: Panel,
    pub columns: Vec<BoardColumn>,
}

/// A rank strictly between `before` (`""`: the start) and `after` (`None`: the end), in
/// base 62. Hand-written: the fractional-indexing crates pull in more than these twenty
/// lines. Never ends in `0`, so there is always room before any rank.
pub fn rank_between(before: &str, after: Option<&str>) -> String {
    let digit = |s: &[u8], i: usize, absent: usize| {
        s.get(i).map(|c| DIGITS.iter().position(|d| d == c).unwrap_or(0)).unwrap_or(absent)
    };
    let (a, b) = (before.as_bytes(), after.map(str::as_bytes));
    let mut out = Vec::new();
    let mut i = 0;
    let mut bounded = b.is_some();
    loop {
        let da = digit(a, i, 0);
        let db = match (bounded, b) {
            (true, Some(b)) => digit(b, i, DIGITS.len()),
            _ => DIGITS.len(),
        };
        if da == db {
            out.push(DIGITS[da]);
            i += 1;
            continue;
        }
        let mid = (da + db) / 2;
        if mid > da {
            out.push(DIGITS[mid]);
            return String::from_utf8(out).unwrap_or_default();
        }
        // Adjacent digits: keep `before`'s and go on with no upper bound.
        out.push(DIGITS[da]);
        bounded = false;
        i += 1;
    }
}

fn clean_text(what: &str, s: &str, max: usize) -> ServiceResult<String> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() || s.chars().count() > max {
        return Err(ServiceError::invalid(format!("{what}: 1 to {max} characters")));
    }
    Ok(s)
}

fn require_base_access(caller: &Caller) -> ServiceResult<()> {
    if caller.profile == Profile::RestrictedAgent {
        return Err(ServiceError::forbidden("restricted agents have no access to panels"));
    }
    Ok(())
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Panel> {
    match deps.table.get(&keys::panel(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("panel")),
    }
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Panel> {
    require_base_access(caller)?;
    load(deps, &caller.account_id, id).await
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<PanelList> {
    require_base_access(caller)?;
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::PANEL_PREFIX.into()));
    let mut items: Vec<Panel> = query_all(deps, q).await?;
    items.sort_by_key(|p| p.name.to_lowercase());
    Ok(PanelList { items })
}

fn columns(deps: &Deps, existing: &[Column], input: Vec<ColumnInput>) -> ServiceResult<Vec<Column>> {
    if input.is_empty() || input.len() > MAX_COLUMNS {
        return Err(ServiceError::invalid(format!("columns: 1 to {MAX_COLUMNS}")));
    }
    let mut out: Vec<Column> = Vec::new();
    for c in input {
        let name = clean_text("columns.name", &c.name, 60)?;
        let id = match c.id {
            Some(id) if existing.iter().any(|e| e.id == id) => id,
            Some(id) => {
                return Err(ServiceError::invalid(format!("columns: the panel has no column {id:?}")));
            }
            None => deps.ids.new_id(),
        };
        if out.iter().any(|o| o.id == id) {
            return Err(ServiceError::invalid("columns: a column appears twice"));
        }
        out.push(Column { id, name });
    }
    Ok(out)
}

pub async fn create(deps: &Deps, caller: &Caller, input: PanelInput) -> ServiceResult<Panel> {
    caller.require_admin()?;
    let panel = Panel {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: clean_text("name", &input.name, 60)?,
        columns: columns(deps, &[], input.columns)?,
        created_at: deps.clock.now(),
        version: 1,
    };
    deps.table
        .put(to_item(&keys::panel(&panel.account_id, &panel.id), &panel)?, Some(Condition::NotExists))
        .await?;
    Ok(panel)
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, input: PanelInput) -> ServiceResult<Panel> {
    caller.require_admin()?;
    let mut panel = load(deps, &caller.account_id, id).await?;
    let new_columns = columns(deps, &panel.columns, input.columns)?;
    let cards = cards_of(deps, &caller.account_id, id).await?;
    if let Some(c) = cards.iter().find(|c| !new_columns.iter().any(|n| n.id == c.column_id)) {
        return Err(ServiceError::conflict(format!(
            "column {:?} still has cards: move them first",
            c.column_id
        )));
    }
    let read = panel.version;
    panel.name = clean_text("name", &input.name, 60)?;
    panel.columns = new_columns;
    panel.version += 1;
    let item = to_item(&keys::panel(&panel.account_id, &panel.id), &panel)?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)?;
    Ok(panel)
}

/// Deletes a panel and its cards (admins).
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    load(deps, &caller.account_id, id).await?;
    for card in cards_of(deps, &caller.account_id, id).await? {
        deps.table.delete(&keys::panel_card(&caller.account_id, id, &card.id), None).await?;
    }
    deps.table.delete(&keys::panel(&caller.account_id, id), None).await?;
    Ok(())
}

async fn cards_of(deps: &Deps, account: &str, panel: &str) -> ServiceResult<Vec<Card>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::panel_cards_prefix(panel)));
    let mut cards: Vec<Card> = query_all(deps, q).await?;
    cards.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.id.cmp(&b.id)));
    Ok(cards)
}

/// The panel with each column's cards in order.
pub async fn board(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Board> {
    let panel = get(deps, caller, id).await?;
    let cards = cards_of(deps, &caller.account_id, id).await?;
    let columns = panel
        .columns
        .iter()
        .map(|c| BoardColumn {
            id: c.id.clone(),
            name: c.name.clone(),
            cards: cards.iter().filter(|k| k.column_id == c.id).cloned().collect(),
        })
        .collect();
    Ok(Board { panel, columns })
}

pub async fn load_card(deps: &Deps, account: &str, panel: &str, id: &str) -> ServiceResult<Card> {
    match deps.table.get(&keys::panel_card(account, panel, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("card")),
    }
}

fn check_value(value: Option<i64>) -> ServiceResult<()> {
    if value.is_some_and(|v| v < 0) {
        return Err(ServiceError::invalid("value_cents: zero or more"));
    }
    Ok(())
}

async fn check_owner(deps: &Deps, account: &str, owner: Option<&str>) -> ServiceResult<()> {
    if let Some(o) = owner {
        match crate::accounts::users::load_active(deps, account, o).await {
            Ok(_) => {}
            Err(ServiceError::NotFound(_)) => {
                return Err(ServiceError::invalid(format!("owner_id: no user {o:?} in this account")));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Adds a card at the end of its column. `conversations::cards` checks its contact and
/// session first (this module does not know them).
pub(crate) async fn add_card(
    deps: &Deps,
    caller: &Caller,
    panel_id: &str,
    input: NewCard,
) -> ServiceResult<Card> {
    let panel = get(deps, caller, panel_id).await?;
    check_value(input.value_cents)?;
    check_owner(deps, &caller.account_id, input.owner_id.as_deref()).await?;
    let column = match input.column_id {
        Some(c) if panel.columns.iter().any(|x| x.id == c) => c,
        Some(c) => return Err(ServiceError::invalid(format!("column_id: the panel has no column {c:?}"))),
        None => panel.columns[0].id.clone(),
    };
    let cards = cards_of(deps, &caller.account_id, panel_id).await?;
    if cards.len() >= MAX_CARDS {
        return Err(ServiceError::invalid(format!("a panel holds at most {MAX_CARDS} cards")));
    }
    let last = cards.iter().filter(|c| c.column_id == column).map(|c| c.rank.as_str()).max().unwrap_or("");
    let now = deps.clock.now();
    let card = Card {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        panel_id: panel_id.to_owned(),
        column_id: column,
        rank: rank_between(last, None),
        title: clean_text("title", &input.title, 200)?,
        contact_id: input.contact_id,
        session_id: input.session_id,
        value_cents: input.value_cents,
        owner_id: input.owner_id,
        due_date: due_date(input.due_date.as_deref())?,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let item = to_item(&keys::panel_card(&card.account_id, panel_id, &card.id), &card)?;
    deps.table.put(item, Some(Condition::NotExists)).await?;
    Ok(card)
}

async fn save_card(deps: &Deps, card: &mut Card, read: u64) -> ServiceResult<()> {
    card.version = read + 1;
    let item = to_item(&keys::panel_card(&card.account_id, &card.panel_id, &card.id), &*card)?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)
}

pub async fn update_card(
    deps: &Deps,
    caller: &Caller,
    panel: &str,
    id: &str,
    patch: CardPatch,
) -> ServiceResult<Card> {
    require_base_access(caller)?;
    let mut card = load_card(deps, &caller.account_id, panel, id).await?;
    check_value(patch.value_cents)?;
    check_owner(deps, &caller.account_id, patch.owner_id.as_deref()).await?;
    let read = card.version;
    if let Some(t) = &patch.title {
        card.title = clean_text("title", t, 200)?;
    }
    if patch.value_cents.is_some() {
        card.value_cents = patch.value_cents;
    }
    if patch.owner_id.is_some() {
        card.owner_id = patch.owner_id;
    }
    if patch.due_date.is_some() {
        card.due_date = due_date(patch.due_date.as_deref())?;
    }
    card.updated_at = deps.clock.now();
    save_card(deps, &mut card, read).await?;
    Ok(card)
}

/// Moves a card to a column, right after `after_card_id` (or to the top). Retries when
/// its neighbours move meanwhile; a conflict only when the card itself keeps changing.
pub async fn move_card(
    deps: &Deps,
    caller: &Caller,
    panel_id: &str,
    id: &str,
    to: CardMove,
) -> ServiceResult<Card> {
    let panel = get(deps, caller, panel_id).await?;
    if !panel.columns.iter().any(|c| c.id == to.column_id) {
        return Err(ServiceError::invalid(format!("column_id: the panel has no column {:?}", to.column_id)));
    }
    if to.after_card_id.as_deref() == Some(id) {
        return Err(ServiceError::invalid("after_card_id: a card cannot go after itself"));
    }
    for _ in 0..5 {
        let cards = cards_of(deps, &caller.account_id, panel_id).await?;
        let Some(mut card) = cards.iter().find(|c| c.id == id).cloned() else {
            return Err(ServiceError::NotFound("card"));
        };
        let column: Vec<&Card> = cards.iter().filter(|c| c.column_id == to.column_id && c.id != id).collect();
        let at = match &to.after_card_id {
            None => 0,
            Some(after) => match column.iter().position(|c| &c.id == after) {
                Some(p) => p + 1,
                None => return Err(ServiceError::invalid("after_card_id: no such card in that column")),
            },
        };
        let before = if at == 0 { "" } else { column[at - 1].rank.as_str() };
        let after = column.get(at).map(|c| c.rank.as_str());
        // Equal neighbours (a concurrent move into the same gap): go after both.
        let after = after.filter(|a| *a > before);
        let read = card.version;
        card.column_id = to.column_id.clone();
        card.rank = rank_between(before, after);
        card.updated_at = deps.clock.now();
        match save_card(deps, &mut card, read).await {
            Ok(()) => return Ok(card),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the card kept changing; reload the board"))
}

pub async fn delete_card(deps: &Deps, caller: &Caller, panel: &str, id: &str) -> ServiceResult<()> {
    require_base_access(caller)?;
    load_card(deps, &caller.account_id, panel, id).await?;
    deps.table.delete(&keys::panel_card(&caller.account_id, panel, id), None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_rank_always_sorts_strictly_between_its_neighbours(inserts in proptest::collection::vec(0usize..1000, 1..200)) {
            let mut ranks: Vec<String> = Vec::new();
            for at in inserts {
                let at = at % (ranks.len() + 1);
                let before = if at == 0 { "" } else { ranks[at - 1].as_str() };
                let after = ranks.get(at).map(String::as_str);
                let r = rank_between(before, after);
                prop_assert!(r.as_str() > before, "{r} > {before}");
                if let Some(a) = after { prop_assert!(r.as_str() < a, "{r} < {a}"); }
                ranks.insert(at, r);
            }
        }
    }
}
