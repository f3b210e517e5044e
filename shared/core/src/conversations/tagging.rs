//! Deleting a tag takes it off everything that carries it: contacts and sessions (each
//! found through its own tag index items, see `crate::crm::tags`).

use super::{contacts, sessions};
use crate::accounts::Caller;
use crate::crm::tags::{self, Tagged};
use crate::deps::Deps;
use crate::error::ServiceResult;

/// Deletes a tag (admins) and takes it off every contact and session: before the tag goes
/// (a crash leaves the tag there to delete again) and once more after (anything saved with
/// it meanwhile).
pub async fn delete_tag(deps: &Deps, caller: &Caller, tag: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let found = tags::load(deps, &caller.account_id, tag).await?;
    remove_everywhere(deps, &caller.account_id, tag).await?;
    tags::delete(deps, &found).await?;
    remove_everywhere(deps, &caller.account_id, tag).await
}

async fn remove_everywhere(deps: &Deps, account: &str, tag: &str) -> ServiceResult<()> {
    for what in [Tagged::Contact, Tagged::Session] {
        loop {
            let (ids, _) = tags::tagged(deps, what, account, tag, None, 100).await?;
            if ids.is_empty() {
                break;
            }
            for id in ids {
                let untagged = match what {
                    Tagged::Contact => contacts::untag(deps, account, &id, tag).await?,
                    Tagged::Session => sessions::untag(deps, account, &id, tag).await?,
                };
                // Saving it without the tag dropped its index item; otherwise drop it here.
                if !untagged {
                    tags::forget(deps, what, account, tag, &id).await?;
                }
            }
        }
    }
    Ok(())
}
