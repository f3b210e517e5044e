//! The account's own settings.

use super::caller::Caller;
use super::model::Account;
use super::teams::load_account;
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::Condition;
use crate::record::{concurrent, to_item};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AccountPatch {
    pub name: Option<String>,
    /// 0–15 seconds.
    #[schema(minimum = 0, maximum = 15)]
    pub send_delay_seconds: Option<u32>,
    /// Transcribe received audio and voice messages (needs the deployment's provider).
    pub transcription_enabled: Option<bool>,
}

pub async fn get(deps: &Deps, caller: &Caller) -> ServiceResult<Account> {
    load_account(deps, &caller.account_id).await
}

pub async fn update(deps: &Deps, caller: &Caller, patch: AccountPatch) -> ServiceResult<Account> {
    caller.require_admin()?;
    let mut account = load_account(deps, &caller.account_id).await?;
    if let Some(name) = patch.name {
        account.name = super::users::clean_name(&name)?;
    }
    if let Some(delay) = patch.send_delay_seconds {
        if delay > 15 {
            return Err(ServiceError::invalid("the send delay is 0 to 15 seconds"));
        }
        account.send_delay_seconds = delay;
    }
    if let Some(on) = patch.transcription_enabled {
        if on && !deps.transcriber.configured() {
            return Err(ServiceError::conflict(
                "this deployment has no speech-to-text provider (ATENDE_TRANSCRIPTION_URL)",
            ));
        }
        account.transcription_enabled = on;
    }
    let read = account.version;
    account.version += 1;
    deps.table
        .put(to_item(&keys::account(&account.id), &account)?, Some(Condition::version_is(read)))
        .await
        .map_err(concurrent)?;
    let detail = serde_json::json!({
        "send_delay_seconds": account.send_delay_seconds,
        "transcription_enabled": account.transcription_enabled,
    });
    audit::record(deps, caller, "settings.updated", Some(&account.id), detail).await?;
    Ok(account)
}
