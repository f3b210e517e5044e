//! Flows as admins edit them: a draft that may be incomplete, published into numbered
//! versions that never change (a run keeps the version it started with), a test code per
//! flow, and each channel's triggers.
//!
//! Access patterns: a flow (get `FLOW#<id>`); the account's flows (query prefix `FLOW#`);
//! a version (get `A#<account>#FLOW#<id>` / `V#<n>`); a test code (get `FLOWCODE#<code>`);
//! a channel's triggers (get `FLOWTRIG#<channel>`).

use super::model::Definition;
use super::validate;
use crate::accounts::Caller;
use crate::conversations::channels;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TransactItem};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Flow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// The draft, as edited (see `GET /v1/flows/schema`).
    #[schema(value_type = Object)]
    pub draft: Definition,
    /// The latest published version (runs start on it); none: never published.
    pub published_version: Option<u32>,
    /// Sending `#<test_code>` on a channel runs the draft for that contact only.
    pub test_code: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewFlow {
    pub name: String,
    /// The graph (see `GET /v1/flows/schema`).
    #[schema(value_type = Object)]
    pub definition: Value,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FlowPatch {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlowList {
    pub items: Vec<Flow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlowVersion {
    pub flow_id: String,
    pub version: u32,
    #[schema(value_type = Object)]
    pub definition: Definition,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
}

/// Where a channel's conversations meet flows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelTriggers {
    /// Answers new conversations while business hours are open (or always, when the
    /// channel has no hours).
    pub business_hours_flow: Option<String>,
    /// Answers new conversations while closed.
    pub out_of_hours_flow: Option<String>,
    /// Checked first, in order: a customer message matching one starts its flow.
    #[serde(default)]
    pub keywords: Vec<KeywordTrigger>,
    /// Runs when a session of the channel is completed, without reopening it (a CSAT
    /// question, a goodbye).
    pub on_completion_flow: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeywordTrigger {
    pub text: String,
    #[serde(default)]
    pub matching: KeywordMatch,
    pub flow_id: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeywordMatch {
    #[default]
    Exact,
    Contains,
}

fn definition_of(v: Value) -> ServiceResult<Definition> {
    serde_json::from_value(v).map_err(|e| {
        ServiceError::invalid(format!(
            "the definition does not follow the flow format ({e}); see GET /v1/flows/schema"
        ))
    })
}

fn clean_name(name: &str) -> ServiceResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 80 {
        return Err(ServiceError::invalid("name has 1 to 80 characters"));
    }
    Ok(n.to_owned())
}

fn new_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..8).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Flow> {
    match deps.table.get(&keys::flow(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("flow")),
    }
}

/// A published version. Versions never change, so every turn reads it through the
/// configuration cache.
pub async fn version(deps: &Deps, account: &str, id: &str, version: u32) -> ServiceResult<FlowVersion> {
    match deps.configuration(&keys::flow_version(account, id, version)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("flow version")),
    }
}

/// The published version runs start on, if any.
pub async fn published(deps: &Deps, account: &str, id: &str) -> ServiceResult<Option<FlowVersion>> {
    let flow = match load(deps, account, id).await {
        Ok(f) => f,
        Err(ServiceError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    match flow.published_version {
        Some(v) => Ok(Some(version(deps, account, id, v).await?)),
        None => Ok(None),
    }
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewFlow) -> ServiceResult<Flow> {
    caller.require_admin()?;
    let now = deps.clock.now();
    let flow = Flow {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: clean_name(&input.name)?,
        draft: definition_of(input.definition)?,
        published_version: None,
        test_code: new_code(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let code = Item::from([
        ("pk".to_owned(), attr::s(keys::account_pk(&flow.account_id))),
        ("sk".to_owned(), attr::s(keys::flow_test_code(&flow.account_id, &flow.test_code).sk)),
        ("flow_id".to_owned(), attr::s(&flow.id)),
    ]);
    deps.table
        .transact(vec![
            TransactItem::Put {
                item: to_item(&keys::flow(&flow.account_id, &flow.id), &flow)?,
                condition: Some(Condition::NotExists),
            },
            TransactItem::Put { item: code, condition: Some(Condition::NotExists) },
        ])
        .await
        .map_err(concurrent)?;
    Ok(flow)
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<FlowList> {
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::FLOW_PREFIX.into()));
    Ok(FlowList { items: query_all(deps, q).await? })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Flow> {
    load(deps, &caller.account_id, id).await
}

async fn save(deps: &Deps, flow: &mut Flow) -> ServiceResult<()> {
    let read = flow.version;
    flow.version += 1;
    flow.updated_at = deps.clock.now();
    deps.table
        .put(to_item(&keys::flow(&flow.account_id, &flow.id), flow)?, Some(Condition::version_is(read)))
        .await
        .map_err(concurrent)
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: FlowPatch) -> ServiceResult<Flow> {
    caller.require_admin()?;
    let mut flow = load(deps, &caller.account_id, id).await?;
    if let Some(name) = patch.name {
        flow.name = clean_name(&name)?;
    }
    if let Some(d) = patch.definition {
        flow.draft = definition_of(d)?;
    }
    save(deps, &mut flow).await?;
    Ok(flow)
}

/// Publishes the draft as the next version, when it has no problem (a 422 lists them).
pub async fn publish(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<FlowVersion> {
    caller.require_admin()?;
    let mut flow = load(deps, &caller.account_id, id).await?;
    let problems = validate::problems(&flow.draft);
    if !problems.is_empty() {
        return Err(ServiceError::invalid(format!("the draft cannot be published: {}", problems.join("; "))));
    }
    let v = FlowVersion {
        flow_id: flow.id.clone(),
        version: flow.published_version.unwrap_or(0) + 1,
        definition: flow.draft.clone(),
        published_at: deps.clock.now(),
        published_by: caller.user_id.clone(),
    };
    let read = flow.version;
    flow.version += 1;
    flow.published_version = Some(v.version);
    flow.updated_at = v.published_at;
    deps.table
        .transact(vec![
            TransactItem::Put {
                item: to_item(&keys::flow(&flow.account_id, &flow.id), &flow)?,
                condition: Some(Condition::version_is(read)),
            },
            TransactItem::Put {
                item: to_item(&keys::flow_version(&flow.account_id, &flow.id, v.version), &v)?,
                condition: Some(Condition::NotExists),
            },
        ])
        .await
        .map_err(concurrent)?;
    Ok(v)
}

pub async fn get_version(deps: &Deps, caller: &Caller, id: &str, v: u32) -> ServiceResult<FlowVersion> {
    load(deps, &caller.account_id, id).await?;
    version(deps, &caller.account_id, id, v).await
}

/// Deletes a flow that no trigger names (its versions stay for the runs on them).
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let flow = load(deps, &caller.account_id, id).await?;
    for channel in channels::list(deps, caller).await?.items {
        let t = triggers_of(deps, &caller.account_id, &channel.id).await?;
        if t.flows().any(|f| f == id) {
            return Err(ServiceError::conflict("a channel's triggers use this flow: change them first"));
        }
    }
    deps.table
        .transact(vec![
            TransactItem::Delete { key: keys::flow(&flow.account_id, id), condition: None },
            TransactItem::Delete {
                key: keys::flow_test_code(&flow.account_id, &flow.test_code),
                condition: None,
            },
        ])
        .await?;
    Ok(())
}

/// The flow a test code names.
pub async fn by_test_code(deps: &Deps, account: &str, code: &str) -> ServiceResult<Option<Flow>> {
    let Some(item) = deps.table.get(&keys::flow_test_code(account, code)).await? else { return Ok(None) };
    let Some(id) = attr::get_s(&item, "flow_id") else { return Ok(None) };
    match load(deps, account, id).await {
        Ok(f) => Ok(Some(f)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl ChannelTriggers {
    pub fn flows(&self) -> impl Iterator<Item = &str> {
        self.business_hours_flow
            .iter()
            .chain(&self.out_of_hours_flow)
            .chain(&self.on_completion_flow)
            .map(String::as_str)
            .chain(self.keywords.iter().map(|k| k.flow_id.as_str()))
    }
}

pub async fn triggers_of(deps: &Deps, account: &str, channel: &str) -> ServiceResult<ChannelTriggers> {
    match deps.configuration(&keys::flow_triggers(account, channel)).await? {
        Some(item) => from_item(item),
        None => Ok(ChannelTriggers::default()),
    }
}

pub async fn get_triggers(deps: &Deps, caller: &Caller, channel: &str) -> ServiceResult<ChannelTriggers> {
    channels::load(deps, &caller.account_id, channel).await?;
    triggers_of(deps, &caller.account_id, channel).await
}

/// Sets a channel's triggers: every flow named must exist and be published.
pub async fn put_triggers(
    deps: &Deps,
    caller: &Caller,
    channel: &str,
    t: ChannelTriggers,
) -> ServiceResult<ChannelTriggers> {
    caller.require_admin()?;
    channels::load(deps, &caller.account_id, channel).await?;
    if t.keywords.len() > 50 {
        return Err(ServiceError::invalid("at most 50 keyword triggers per channel"));
    }
    if t.keywords.iter().any(|k| k.text.trim().is_empty() || k.text.chars().count() > 100) {
        return Err(ServiceError::invalid("a keyword has 1 to 100 characters"));
    }
    for id in t.flows() {
        if load(deps, &caller.account_id, id).await?.published_version.is_none() {
            return Err(ServiceError::invalid(format!("flow {id} was never published")));
        }
    }
    let key = keys::flow_triggers(&caller.account_id, channel);
    deps.table.put(to_item(&key, &t)?, None).await?;
    deps.config.forget(&key);
    Ok(t)
}

/// The format's JSON Schema.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Definition)).unwrap_or(Value::Null)
}
