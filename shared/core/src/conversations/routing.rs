//! Where a new session goes. Today: the account's default team, waiting in its queue.
//! This is the one seam routing (wallets, distribution, overflow) plugs into.

use crate::deps::Deps;
use crate::error::ServiceResult;

/// The team that receives a new receptive session of `contact`.
pub async fn team_for_new_session(deps: &Deps, account: &str, _contact: &str) -> ServiceResult<String> {
    Ok(crate::accounts::teams::load_account(deps, account).await?.default_team_id)
}
