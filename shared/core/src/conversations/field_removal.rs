//! Deleting a custom field takes its value off every contact that has one (found through
//! the field's `CIDX#cf.<key>#` search index items, see `super::contact_index`).

use super::{contact_index, contacts};
use crate::accounts::Caller;
use crate::crm::fields;
use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Index, Key, Query, SortCondition};

/// Deletes a custom field (admins) and its values: before the definition goes (a crash
/// leaves it there to delete again) and once more after (anything saved meanwhile).
pub async fn delete_field(deps: &Deps, caller: &Caller, key: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let field = fields::load(deps, &caller.account_id, key).await?;
    remove_values(deps, &caller.account_id, key).await?;
    fields::delete(deps, &field).await?;
    remove_values(deps, &caller.account_id, key).await
}

async fn remove_values(deps: &Deps, account: &str, key: &str) -> ServiceResult<()> {
    // The facet's own prefix, whatever the value: `CIDX#cf.<key>#`.
    let prefix = keys::contact_index_prefix(&contact_index::field_facet(key), "");
    loop {
        let q = Query::partition(Index::Primary, keys::account_pk(account))
            .sort(SortCondition::BeginsWith(prefix.clone()))
            .limit(100);
        let page = deps.table.query(q).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            if let Some(id) = attr::get_s(&item, "id") {
                contacts::drop_field(deps, account, id, key).await?;
            }
            // Saving the contact without the value dropped the item; a stale one goes here.
            if let (Some(pk), Some(sk)) = (attr::get_s(&item, "pk"), attr::get_s(&item, "sk")) {
                deps.table.delete(&Key::new(pk, sk), None).await?;
            }
        }
    }
}
