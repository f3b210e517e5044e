//! Deleting a tag takes it off everything that carries it: contacts and sessions (each
//! found through its own tag index items, see `crate::crm::tags`).

use super::{contacts, sessions};
use crate::accounts::Caller;
use crate::crm::tags;
use crate::deps::Deps;
use crate::error::ServiceResult;

/// Deletes a tag (admins) and takes it off every contact and session: before the tag goes
/// (a crash leaves the tag there to delete again) and once more after (anything saved with
/// it meanwhile).
pub async fn delete_tag(deps: &Deps, caller: &Caller, tag: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    tags::load(deps, &caller.account_id, tag).await?;
    remove_everywhere(deps, &caller.account_id, tag).await?;
    tags::delete(deps, caller, tag).await?;
    remove_everywhere(deps, &caller.account_id, tag).await
}

async fn remove_everywhere(deps: &Deps, account: &str, tag: &str) -> ServiceResult<()> {
    contacts::remove_tag_everywhere(deps, account, tag).await?;
    sessions::remove_tag_everywhere(deps, account, tag).await?;
    Ok(())
}
