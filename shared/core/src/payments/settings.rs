//! The account's payment app: enabled or not, Asaas' sandbox or production, the API key
//! and the webhook token. Both secrets are sealed at rest (`Deps::sealer`) and never
//! returned: the view says only whether each is set.

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{GatewayAccess, StoredSecret};
use crate::record::{from_item, to_item};
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const API_KEY: &str = "secret_api_key";
const WEBHOOK_TOKEN: &str = "secret_webhook_token";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Sandbox,
    Production,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    enabled: bool,
    environment: Environment,
    updated_at: DateTime<Utc>,
}

/// What an admin sets. A secret left out keeps the stored one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettingsInput {
    pub enabled: bool,
    pub environment: Environment,
    /// The Asaas API key (`$aact_…`); required the first time.
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Secret>,
    /// The token Asaas sends in `asaas-access-token` (the one typed into Asaas' webhook
    /// settings): 32 to 255 characters, no spaces; required the first time.
    #[schema(value_type = Option<String>)]
    pub webhook_token: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentSettingsView {
    pub enabled: bool,
    pub environment: Environment,
    pub api_key_set: bool,
    pub webhook_token_set: bool,
    /// The path Asaas' webhook must call on this deployment's public URL.
    pub webhook_path: String,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The stored settings, their secrets still sealed.
pub struct Stored {
    pub enabled: bool,
    pub environment: Environment,
    pub api_key: Option<StoredSecret>,
    pub webhook_token: Option<StoredSecret>,
    updated_at: Option<DateTime<Utc>>,
}

impl Stored {
    /// How to reach the provider for this account (the key opened); a conflict when the
    /// app is off.
    pub async fn access(&self, deps: &Deps) -> ServiceResult<GatewayAccess> {
        Ok(GatewayAccess {
            sandbox: self.environment == Environment::Sandbox,
            api_key: self.ready()?.open(deps.sealer.as_ref()).await?,
        })
    }

    /// The key, still sealed, when the app is on; a conflict otherwise.
    fn ready(&self) -> ServiceResult<&StoredSecret> {
        match (&self.api_key, self.enabled) {
            (Some(key), true) => Ok(key),
            _ => Err(ServiceError::conflict("payments are not enabled for this account")),
        }
    }
}

pub async fn stored(deps: &Deps, account: &str) -> ServiceResult<Stored> {
    let Some(item) = deps.table.get(&keys::payment_settings(account)).await? else {
        return Ok(Stored {
            enabled: false,
            environment: Environment::Sandbox,
            api_key: None,
            webhook_token: None,
            updated_at: None,
        });
    };
    let (api_key, webhook_token) = (stored_secret(&item, API_KEY), stored_secret(&item, WEBHOOK_TOKEN));
    let record: Record = from_item(item)?;
    Ok(Stored {
        enabled: record.enabled,
        environment: record.environment,
        api_key,
        webhook_token,
        updated_at: Some(record.updated_at),
    })
}

/// The secret `name` of a settings item, as stored.
fn stored_secret(item: &crate::ports::Item, name: &str) -> Option<StoredSecret> {
    attr::get_s(item, name).map(|v| StoredSecret::from_stored(v.to_owned()))
}

/// The token the account's webhook deliveries must carry (`None`: none set, or no such
/// account): only that secret is opened.
pub async fn webhook_token(deps: &Deps, account: &str) -> ServiceResult<Option<Secret>> {
    match deps.table.get(&keys::payment_settings(account)).await? {
        Some(item) => match stored_secret(&item, WEBHOOK_TOKEN) {
            Some(token) => Ok(Some(token.open(deps.sealer.as_ref()).await?)),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// The account's provider access (a conflict when payments are off).
pub async fn access(deps: &Deps, account: &str) -> ServiceResult<GatewayAccess> {
    stored(deps, account).await?.access(deps).await
}

/// A conflict when payments are off for the account (nothing opened: for a request, which
/// does not talk to the provider).
pub async fn require_enabled(deps: &Deps, account: &str) -> ServiceResult<()> {
    stored(deps, account).await?.ready().map(|_| ())
}

fn view(account: &str, s: &Stored) -> PaymentSettingsView {
    PaymentSettingsView {
        enabled: s.enabled,
        environment: s.environment,
        api_key_set: s.api_key.is_some(),
        webhook_token_set: s.webhook_token.is_some(),
        webhook_path: format!("/webhooks/asaas/{account}"),
        updated_at: s.updated_at,
    }
}

fn admin(caller: &Caller) -> ServiceResult<()> {
    if caller.is_admin() { Ok(()) } else { Err(ServiceError::forbidden("only admins manage payments")) }
}

pub async fn get(deps: &Deps, caller: &Caller) -> ServiceResult<PaymentSettingsView> {
    admin(caller)?;
    Ok(view(&caller.account_id, &stored(deps, &caller.account_id).await?))
}

pub async fn put(
    deps: &Deps,
    caller: &Caller,
    input: PaymentSettingsInput,
) -> ServiceResult<PaymentSettingsView> {
    admin(caller)?;
    let before = stored(deps, &caller.account_id).await?;
    if let Some(key) = &input.api_key {
        let k = key.expose();
        if k.trim().is_empty() || k.len() > 512 || k.chars().any(char::is_whitespace) {
            return Err(ServiceError::invalid("api_key is the Asaas API key, without spaces"));
        }
    }
    if let Some(token) = &input.webhook_token {
        let t = token.expose();
        if !(32..=255).contains(&t.chars().count()) || t.chars().any(char::is_whitespace) {
            return Err(ServiceError::invalid("webhook_token has 32 to 255 characters and no spaces"));
        }
    }
    let api_key = input.api_key.map(StoredSecret::Plain).or(before.api_key);
    let webhook_token = input.webhook_token.map(StoredSecret::Plain).or(before.webhook_token);
    if input.enabled && (api_key.is_none() || webhook_token.is_none()) {
        return Err(ServiceError::invalid("enabling payments needs the api_key and the webhook_token"));
    }
    let now = deps.clock.now();
    let record = Record { enabled: input.enabled, environment: input.environment, updated_at: now };
    let mut item = to_item(&keys::payment_settings(&caller.account_id), &record)?;
    for (name, secret) in [(API_KEY, &api_key), (WEBHOOK_TOKEN, &webhook_token)] {
        if let Some(s) = secret {
            item.insert(name.into(), attr::s(s.to_stored(deps.sealer.as_ref()).await?));
        }
    }
    deps.table.put(item, None).await?;
    let saved = Stored {
        enabled: record.enabled,
        environment: record.environment,
        api_key,
        webhook_token,
        updated_at: Some(now),
    };
    Ok(view(&caller.account_id, &saved))
}
