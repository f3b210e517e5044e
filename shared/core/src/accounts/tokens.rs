//! API tokens for integrators: `atd_<account>_<token>_<secret>`, shown once, stored as a
//! SHA-256 hash of the secret (the secret is 256 random bits, so a fast hash is enough).

use super::caller::Caller;
use super::model::ApiToken;
use super::users::{self, clean_name};
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Query, SortCondition, TableError};
use crate::record::{from_item, to_item};
use crate::secret::Secret;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

const PREFIX: &str = "atd_";
const SECRET_HASH: &str = "secret_sha256";

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewApiToken {
    pub name: String,
}

/// The token as created: `token` is shown this once and never again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApiToken {
    #[serde(flatten)]
    pub meta: ApiToken,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTokenList {
    pub items: Vec<ApiToken>,
}

/// Whether a bearer credential is an API token (as opposed to a login session).
pub fn looks_like_api_token(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewApiToken) -> ServiceResult<CreatedApiToken> {
    caller.require_admin()?;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = hex::encode(raw);
    let meta = ApiToken {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: clean_name(&input.name)?,
        created_by: caller.user_id.clone(),
        created_at: deps.clock.now(),
    };
    let mut item = to_item(&keys::api_token(&meta.account_id, &meta.id), &meta)?;
    item.insert(SECRET_HASH.into(), attr::s(hash_secret(&secret)));
    deps.table.put(item, Some(Condition::NotExists)).await?;
    audit::record(deps, caller, "api_token.created", Some(&meta.id), serde_json::json!({"name": meta.name}))
        .await?;
    let token = format!("{PREFIX}{}_{}_{secret}", meta.account_id, meta.id);
    Ok(CreatedApiToken { meta, token })
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<ApiTokenList> {
    caller.require_admin()?;
    let query = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::TOKEN_PREFIX.into()));
    Ok(ApiTokenList { items: crate::record::query_all(deps, query).await? })
}

pub async fn revoke(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    match deps.table.delete(&keys::api_token(&caller.account_id, id), Some(Condition::Exists)).await {
        Ok(()) => audit::record(deps, caller, "api_token.revoked", Some(id), serde_json::json!({})).await,
        Err(TableError::ConditionFailed) => Err(ServiceError::NotFound("API token")),
        Err(other) => Err(other.into()),
    }
}

/// The caller an API token stands for: its creator, with the creator's current profile.
/// Revoked tokens, wrong secrets and deleted creators all fail the same way.
pub async fn authenticate(deps: &Deps, credential: &Secret) -> ServiceResult<Caller> {
    let rejected = || ServiceError::Unauthenticated("the API token is not valid".into());
    let rest = credential.expose().strip_prefix(PREFIX).ok_or_else(rejected)?;
    let mut parts = rest.splitn(3, '_');
    let (Some(account), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(rejected());
    };
    if account.is_empty() || id.is_empty() || secret.is_empty() {
        return Err(rejected());
    }
    let item = deps.table.get(&keys::api_token(account, id)).await?.ok_or_else(rejected)?;
    let stored = attr::get_s(&item, SECRET_HASH).unwrap_or_default();
    if !bool::from(stored.as_bytes().ct_eq(hash_secret(secret).as_bytes())) {
        return Err(rejected());
    }
    let meta: ApiToken = from_item(item)?;
    let (user, _) = users::load_active(deps, account, &meta.created_by).await.map_err(|_| rejected())?;
    Ok(Caller { account_id: user.account_id, user_id: user.id, profile: user.profile, source: None })
}
