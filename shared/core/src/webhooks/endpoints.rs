//! Endpoints (admins): create (the secret shown once), list, read, change, delete, rotate
//! the secret (the previous one keeps signing for [`ROTATION_GRACE`]). Every change is
//! audited and rewrites the account's subscriptions (the event types some enabled endpoint
//! takes), which every domain event reads first.

use super::EVENT_TYPES;
use super::model::Endpoint;
use crate::accounts::Caller;
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, StoredSecret, TableError};
use crate::record::{concurrent, from_item, to_item};
use crate::secret::Secret;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long the secret before a rotation still signs (both signatures are sent).
pub const ROTATION_GRACE: Duration = Duration::hours(24);
/// Endpoints per account.
const MAX_ENDPOINTS: usize = 20;
const SECRET: &str = "secret";
const PREVIOUS_SECRET: &str = "previous_secret";

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://…` (or `http://`); never an internal address.
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// The event types to receive (see `GET /v1/webhook-event-types`); empty or absent:
    /// every type.
    #[serde(default)]
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Re-enabling an endpoint the system disabled clears its reason.
    pub enabled: Option<bool>,
}

/// An endpoint with its secret: in the answer to a creation or a rotation only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it. Shown this once.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<Endpoint>,
}

/// An endpoint and its secrets (the current one, and the previous one in its grace).
pub struct EndpointWithSecrets {
    pub endpoint: Endpoint,
    secret: StoredSecret,
    previous: Option<StoredSecret>,
}

impl EndpointWithSecrets {
    /// The secrets that sign a delivery at `now`, opened.
    pub async fn signing_secrets(&self, deps: &Deps, now: DateTime<Utc>) -> ServiceResult<Vec<Secret>> {
        let mut out = vec![self.secret.open(deps.sealer.as_ref()).await?];
        if let Some(previous) = &self.previous
            && self.endpoint.previous_secret_until.is_some_and(|until| until > now)
        {
            out.push(previous.open(deps.sealer.as_ref()).await?);
        }
        Ok(out)
    }
}

fn new_secret() -> Secret {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    Secret::new(format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(raw)))
}

/// A URL the sender may call (http(s), no internal address written in it: the sender's
/// own check; a name is checked at each delivery, after DNS).
fn valid_url(deps: &Deps, raw: &str) -> ServiceResult<String> {
    let url = raw.trim();
    if url.len() > 2048 {
        return Err(ServiceError::invalid("the URL is longer than 2048 characters"));
    }
    deps.webhooks.check(url).map_err(|e| ServiceError::invalid(format!("the URL is not allowed: {e}")))?;
    Ok(url.to_owned())
}

fn valid_types(types: Vec<String>) -> ServiceResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(ServiceError::invalid(format!("unknown event type {t:?}")));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

fn valid_description(d: String) -> ServiceResult<String> {
    let d = d.trim().to_owned();
    if d.chars().count() > 500 {
        return Err(ServiceError::invalid("the description is longer than 500 characters"));
    }
    Ok(d)
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewEndpoint) -> ServiceResult<EndpointWithSecret> {
    caller.require_admin()?;
    if all(deps, &caller.account_id).await?.len() >= MAX_ENDPOINTS {
        return Err(ServiceError::conflict(format!("an account has at most {MAX_ENDPOINTS} endpoints")));
    }
    let endpoint = Endpoint {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        url: valid_url(deps, &input.url)?,
        description: valid_description(input.description)?,
        event_types: valid_types(input.event_types)?,
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        previous_secret_until: None,
        created_at: deps.clock.now(),
        version: 0,
    };
    let secret = new_secret();
    let mut full =
        EndpointWithSecrets { endpoint, secret: StoredSecret::Plain(secret.clone()), previous: None };
    save(deps, &mut full).await?;
    subscriptions_changed(deps, &caller.account_id).await?;
    let detail = serde_json::json!({"url": full.endpoint.url});
    audit::record(deps, caller, "webhook_endpoint.created", Some(&full.endpoint.id), detail).await?;
    Ok(EndpointWithSecret { endpoint: full.endpoint, secret: secret.expose().to_owned() })
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<EndpointList> {
    caller.require_admin()?;
    Ok(EndpointList { items: all(deps, &caller.account_id).await?.into_iter().map(|e| e.endpoint).collect() })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Endpoint> {
    caller.require_admin()?;
    Ok(load(deps, &caller.account_id, id).await?.endpoint)
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: EndpointPatch) -> ServiceResult<Endpoint> {
    caller.require_admin()?;
    let mut full = load(deps, &caller.account_id, id).await?;
    let e = &mut full.endpoint;
    if let Some(url) = patch.url {
        e.url = valid_url(deps, &url)?;
    }
    if let Some(d) = patch.description {
        e.description = valid_description(d)?;
    }
    if let Some(types) = patch.event_types {
        e.event_types = valid_types(types)?;
    }
    if let Some(enabled) = patch.enabled {
        e.enabled = enabled;
        if enabled {
            e.disabled_reason = None;
            e.failing_since = None;
        }
    }
    save(deps, &mut full).await?;
    subscriptions_changed(deps, &caller.account_id).await?;
    let detail = serde_json::json!({"url": full.endpoint.url, "enabled": full.endpoint.enabled});
    audit::record(deps, caller, "webhook_endpoint.updated", Some(id), detail).await?;
    Ok(full.endpoint)
}

pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    match deps.table.delete(&keys::webhook_endpoint(&caller.account_id, id), Some(Condition::Exists)).await {
        Ok(()) => {}
        Err(TableError::ConditionFailed) => return Err(ServiceError::NotFound("webhook endpoint")),
        Err(e) => return Err(e.into()),
    }
    subscriptions_changed(deps, &caller.account_id).await?;
    audit::record(deps, caller, "webhook_endpoint.deleted", Some(id), serde_json::json!({})).await
}

/// A new secret; the current one keeps signing for [`ROTATION_GRACE`].
pub async fn rotate_secret(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<EndpointWithSecret> {
    caller.require_admin()?;
    let mut full = load(deps, &caller.account_id, id).await?;
    let secret = new_secret();
    full.previous = Some(std::mem::replace(&mut full.secret, StoredSecret::Plain(secret.clone())));
    full.endpoint.previous_secret_until = Some(deps.clock.now() + ROTATION_GRACE);
    save(deps, &mut full).await?;
    let detail = serde_json::json!({"previous_valid_until": full.endpoint.previous_secret_until});
    audit::record(deps, caller, "webhook_endpoint.secret_rotated", Some(id), detail).await?;
    Ok(EndpointWithSecret { endpoint: full.endpoint, secret: secret.expose().to_owned() })
}

/// An endpoint of the account, with its secrets.
pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<EndpointWithSecrets> {
    let item = deps
        .table
        .get(&keys::webhook_endpoint(account, id))
        .await?
        .ok_or(ServiceError::NotFound("webhook endpoint"))?;
    decode(item)
}

fn decode(item: Item) -> ServiceResult<EndpointWithSecrets> {
    let secret = StoredSecret::from_stored(attr::get_s(&item, SECRET).unwrap_or_default().to_owned());
    let previous = attr::get_s(&item, PREVIOUS_SECRET).map(|s| StoredSecret::from_stored(s.to_owned()));
    Ok(EndpointWithSecrets { endpoint: from_item(item)?, secret, previous })
}

/// Every endpoint of the account (at most [`MAX_ENDPOINTS`]).
pub async fn all(deps: &Deps, account: &str) -> ServiceResult<Vec<EndpointWithSecrets>> {
    let query = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::WEBHOOK_ENDPOINT_PREFIX.into()));
    crate::record::query_all_items(deps, query).await?.into_iter().map(decode).collect()
}

/// Saves over the version read (a new one: version 0); a conflict when it changed.
pub(crate) async fn save(deps: &Deps, full: &mut EndpointWithSecrets) -> ServiceResult<()> {
    let e = &mut full.endpoint;
    let condition = if e.version == 0 { Condition::NotExists } else { Condition::version_is(e.version) };
    e.version += 1;
    let mut item = to_item(&keys::webhook_endpoint(&e.account_id, &e.id), &*e)?;
    item.insert(SECRET.into(), attr::s(full.secret.to_stored(deps.sealer.as_ref()).await?));
    if let Some(previous) = &full.previous {
        item.insert(PREVIOUS_SECRET.into(), attr::s(previous.to_stored(deps.sealer.as_ref()).await?));
    }
    deps.table.put(item, Some(condition)).await.map_err(concurrent)
}

/// The event types some enabled endpoint of the account takes (`*`: every type).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriptions {
    pub types: Vec<String>,
}

impl Subscriptions {
    pub fn wants(&self, event_type: &str) -> bool {
        self.types.iter().any(|t| t == "*" || t == event_type)
    }
}

/// Rewrites the account's subscriptions from its endpoints.
pub(crate) async fn subscriptions_changed(deps: &Deps, account: &str) -> ServiceResult<()> {
    let mut types: Vec<String> = Vec::new();
    for full in all(deps, account).await? {
        let e = full.endpoint;
        if !e.enabled {
            continue;
        }
        let wanted = if e.event_types.is_empty() { vec!["*".to_owned()] } else { e.event_types };
        for t in wanted {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    let key = keys::webhook_subscriptions(account);
    deps.table.put(to_item(&key, &Subscriptions { types })?, None).await?;
    deps.config.forget(&key);
    Ok(())
}

/// The account's subscriptions, through the configuration cache.
pub async fn subscriptions(deps: &Deps, account: &str) -> ServiceResult<Subscriptions> {
    match deps.configuration(&keys::webhook_subscriptions(account)).await? {
        Some(item) => from_item(item),
        None => Ok(Subscriptions::default()),
    }
}
