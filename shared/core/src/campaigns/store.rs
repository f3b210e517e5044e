//! Campaigns as people edit them: drafts, the state machine (each change a conditional
//! write on the status, so a scheduler firing twice or two admins clicking at once change
//! it once), and the account's campaign settings.
//!
//! Access patterns: a campaign by id (get `CAMPAIGN#<id>`); the account's campaigns (query
//! prefix `CAMPAIGN#`).

use super::MAX_LISTED_CONTACTS;
use super::model::*;
use super::window::SendingWindow;
use crate::accounts::Caller;
use crate::conversations::kinds;
use crate::conversations::model::TemplateCategory;
use crate::conversations::{channels, imports, templates};
use crate::crm::placeholders;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Query, SortCondition, TableError, TransactItem, UpdateOp};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// How long replies are attributed to a campaign after its last send.
pub const COLLECTING: Duration = Duration::days(5);

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCampaign {
    pub name: String,
    pub channel_id: String,
    pub team_id: String,
    pub bot_id: Option<String>,
    pub template_id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub audience: Audience,
    /// When to start (RFC 3339); none: when an admin starts it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_at: Option<String>,
    pub window: Option<SendingWindow>,
}

/// An RFC 3339 time given as text (a 422 naming the field when it is not one).
fn time_of(field: &str, text: Option<&str>) -> ServiceResult<Option<DateTime<Utc>>> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)).map_err(|_| {
            ServiceError::invalid(format!("{field} is not an RFC 3339 time, e.g. 2026-11-27T09:00:00-03:00"))
        })
    })
    .transpose()
}

/// Changes to a draft (every field optional); `archived` may change in any state.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub team_id: Option<String>,
    pub template_id: Option<String>,
    #[schema(value_type = Object)]
    pub parameters: Option<Value>,
    pub audience: Option<Audience>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_at: Option<String>,
    pub window: Option<SendingWindow>,
    pub archived: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
    /// Include archived campaigns (default: no).
    #[serde(default)]
    pub archived: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignList {
    pub items: Vec<Campaign>,
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Campaign> {
    match deps.table.get(&keys::campaign(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("campaign")),
    }
}

/// The campaigns of an account (few: a query of its partition's prefix).
pub(crate) async fn all(deps: &Deps, account: &str) -> ServiceResult<Vec<Campaign>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::CAMPAIGN_PREFIX.into()));
    query_all(deps, q).await
}

pub(crate) async fn check(deps: &Deps, caller: &Caller, c: &Campaign) -> ServiceResult<()> {
    if c.name.trim().is_empty() || c.name.chars().count() > 200 {
        return Err(ServiceError::invalid("a campaign needs a name (up to 200 characters)"));
    }
    let channel = channels::get(deps, caller, &c.channel_id).await?;
    // The business writes first, with an approved template: the channel's kind must allow
    // both (see `conversations::kinds`).
    kinds::business_initiated(channel.kind).map_err(ServiceError::invalid)?;
    kinds::templates(channel.kind)
        .map_err(|why| ServiceError::invalid(format!("campaigns send approved templates. {why}")))?;
    crate::accounts::teams::get(deps, caller, &c.team_id).await?;
    let template = templates::load(deps, &caller.account_id, &c.template_id).await?;
    if template.channel_id != channel.id {
        return Err(ServiceError::invalid("the template belongs to another channel"));
    }
    // The parameters fit the template once every variable has a value.
    let sample = fill_parameters(&c.parameters, |_| Some("x".to_owned()))?;
    templates::render(&template, &sample)?;
    match &c.audience {
        Audience::Tags { tag_ids, .. } => {
            if tag_ids.is_empty() {
                return Err(ServiceError::invalid("name at least one tag"));
            }
            for t in tag_ids {
                crate::crm::tags::load(deps, &caller.account_id, t).await?;
            }
        }
        Audience::Contacts { contact_ids } => {
            if contact_ids.is_empty() || contact_ids.len() > MAX_LISTED_CONTACTS {
                return Err(ServiceError::invalid(format!(
                    "list between 1 and {MAX_LISTED_CONTACTS} contacts (use tags or an import for more)"
                )));
            }
        }
        Audience::Import { import_id } => {
            imports::load(deps, &caller.account_id, import_id).await?;
        }
    }
    if let Some(w) = &c.window {
        w.validate()?;
    }
    Ok(())
}

/// Each text of the parameters (a list or an object of texts, or the parts `body`,
/// `header`, `buttons` of [`templates::render`]) with its `{{variables}}` filled by `lookup`.
pub(crate) fn fill_parameters(
    parameters: &Value,
    lookup: impl Fn(&str) -> Option<String>,
) -> ServiceResult<Value> {
    fn fill(v: &Value, depth: u8, lookup: &dyn Fn(&str) -> Option<String>) -> ServiceResult<Value> {
        match v {
            Value::String(s) => Ok(Value::String(placeholders::fill(s, lookup))),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(v.to_string())),
            Value::Null if depth == 0 => Ok(Value::Null),
            Value::Array(list) if depth < 2 => Ok(Value::Array(
                list.iter().map(|x| fill(x, depth + 1, lookup)).collect::<ServiceResult<_>>()?,
            )),
            Value::Object(map) if depth < 2 => Ok(Value::Object(
                map.iter()
                    .map(|(k, x)| Ok((k.clone(), fill(x, depth + 1, lookup)?)))
                    .collect::<ServiceResult<_>>()?,
            )),
            _ if depth == 0 => Err(ServiceError::invalid("template parameters are a list or an object")),
            _ => Err(ServiceError::invalid("each template parameter is a text")),
        }
    }
    fill(parameters, 0, &lookup)
}

/// The values of `template` for one contact: the parameters' variables filled from the
/// contact (what campaigns and sequence steps send).
pub(crate) fn values_for(
    template: &crate::conversations::model::Template,
    parameters: &Value,
    contact: &crate::conversations::model::Contact,
) -> ServiceResult<crate::ports::TemplateValues> {
    let filled =
        fill_parameters(parameters, |v| crate::conversations::variables::value(contact, None, None, v))?;
    Ok(templates::render(template, &filled)?.1)
}

/// Anyone may draft a campaign.
pub async fn create(deps: &Deps, caller: &Caller, input: NewCampaign) -> ServiceResult<Campaign> {
    let channel = channels::load(deps, &caller.account_id, &input.channel_id).await?.channel;
    let c = Campaign {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        name: input.name.trim().to_owned(),
        channel_id: input.channel_id,
        team_id: input.team_id,
        bot_id: input.bot_id,
        template_id: input.template_id,
        parameters: input.parameters,
        audience: input.audience,
        start_at: time_of("start_at", input.start_at.as_deref())?,
        window: input.window,
        status: CampaignStatus::Draft,
        status_reason: None,
        paused_by_window: false,
        archived: false,
        rate_per_second: channel.rate_limit_per_second,
        slowed_at: None,
        created_by: caller.user_id.clone(),
        created_at: deps.clock.now(),
        started_at: None,
        collecting_until: None,
        completed_at: None,
        version: 1,
    };
    check(deps, caller, &c).await?;
    deps.table.put(to_item(&keys::campaign(&c.account_id, &c.id), &c)?, Some(Condition::NotExists)).await?;
    Ok(c)
}

pub async fn list(deps: &Deps, caller: &Caller, filter: CampaignFilter) -> ServiceResult<CampaignList> {
    let mut items = all(deps, &caller.account_id).await?;
    items.retain(|c| filter.status.is_none_or(|s| s == c.status) && (filter.archived || !c.archived));
    items.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    Ok(CampaignList { items })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Campaign> {
    load(deps, &caller.account_id, id).await
}

async fn save(deps: &Deps, c: &mut Campaign) -> ServiceResult<()> {
    let read = c.version;
    c.version += 1;
    deps.table
        .put(to_item(&keys::campaign(&c.account_id, &c.id), c)?, Some(Condition::version_is(read)))
        .await
        .map_err(concurrent)
}

/// Edits a draft; `archived` alone may change in any state.
pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: CampaignPatch) -> ServiceResult<Campaign> {
    let mut c = load(deps, &caller.account_id, id).await?;
    let edits_content = patch.name.is_some()
        || patch.team_id.is_some()
        || patch.template_id.is_some()
        || patch.parameters.is_some()
        || patch.audience.is_some()
        || patch.start_at.is_some()
        || patch.window.is_some();
    if edits_content && c.status != CampaignStatus::Draft {
        return Err(ServiceError::conflict("only a draft can be edited"));
    }
    if let Some(v) = patch.name {
        c.name = v.trim().to_owned();
    }
    if let Some(v) = patch.team_id {
        c.team_id = v;
    }
    if let Some(v) = patch.template_id {
        c.template_id = v;
    }
    if let Some(v) = patch.parameters {
        c.parameters = v;
    }
    if let Some(v) = patch.audience {
        c.audience = v;
    }
    if let Some(v) = time_of("start_at", patch.start_at.as_deref())? {
        c.start_at = Some(v);
    }
    if let Some(v) = patch.window {
        c.window = Some(v);
    }
    if let Some(v) = patch.archived {
        c.archived = v;
    }
    if edits_content {
        check(deps, caller, &c).await?;
    }
    save(deps, &mut c).await?;
    Ok(c)
}

/// Deletes a draft.
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    let c = load(deps, &caller.account_id, id).await?;
    if c.status != CampaignStatus::Draft {
        return Err(ServiceError::conflict("only a draft can be deleted; archive it instead"));
    }
    match deps
        .table
        .delete(&keys::campaign(&caller.account_id, id), Some(Condition::version_is(c.version)))
        .await
    {
        Ok(()) => Ok(()),
        Err(e) => Err(concurrent(e)),
    }
}

/// Moves a campaign from one of `from` to `to` with `ops`: a conditional write, so of two
/// concurrent attempts one wins, with the event of the change in the same transaction (see
/// `crate::outbox`). None when it was not in one of `from`.
pub(crate) async fn transition(
    deps: &Deps,
    account: &str,
    id: &str,
    from: &[CampaignStatus],
    to: CampaignStatus,
    mut ops: Vec<UpdateOp>,
) -> ServiceResult<Option<Campaign>> {
    let allowed =
        Condition::Or(from.iter().map(|s| Condition::equals("status", attr::s(s.as_str()))).collect());
    ops.push(UpdateOp::Set("status".into(), attr::s(to.as_str())));
    ops.push(UpdateOp::Add("version".into(), 1));
    let changed = crate::events::DomainEvent::CampaignChanged {
        account_id: account.to_owned(),
        campaign_id: id.to_owned(),
        status: to.as_str().to_owned(),
        at: deps.clock.now(),
    };
    let update = TransactItem::Update {
        key: keys::campaign(account, id),
        ops,
        condition: Some(Condition::And(vec![Condition::Exists, allowed])),
    };
    match crate::outbox::transact(deps, vec![update], vec![changed]).await? {
        Ok(()) => Ok(Some(load(deps, account, id).await?)),
        Err(TableError::TransactionConditionFailed { index: 0 }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn reason(text: &str) -> UpdateOp {
    UpdateOp::Set("status_reason".into(), attr::s(text))
}

pub(crate) fn refused(c: &Campaign, what: &str) -> ServiceError {
    ServiceError::conflict(format!("a {} campaign cannot be {what}", c.status.as_str()))
}

/// A safety rule or an event stops a running campaign with its reason.
pub(crate) async fn pause_for(deps: &Deps, account: &str, id: &str, why: &str) -> ServiceResult<bool> {
    let ops = vec![reason(why), UpdateOp::Set("paused_by_window".into(), attr::b(false))];
    let paused =
        transition(deps, account, id, &[CampaignStatus::Running], CampaignStatus::Paused, ops).await?;
    if paused.is_some() {
        tracing::warn!(campaign = %id, reason = why, "campaign paused");
    }
    Ok(paused.is_some())
}

/// A send failed for good with `code`: Meta's spam limit (131048) pauses the campaign.
pub(crate) async fn on_send_failure(
    deps: &Deps,
    account: &str,
    id: &str,
    code: Option<i64>,
) -> ServiceResult<()> {
    if code == Some(131048) {
        pause_for(deps, account, id, "Meta limited the number for spam (131048): the campaign was paused.")
            .await?;
    }
    Ok(())
}

/// Meta answered 130429 (throughput exceeded): the campaign takes a quarter less, at most
/// once a second (one conditional write on the campaign).
pub(crate) async fn slow_down(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let c = load(deps, account, id).await?;
    let now = deps.clock.now();
    if c.rate_per_second <= 1 || c.slowed_at.is_some_and(|at| now - at < chrono::Duration::seconds(1)) {
        return Ok(());
    }
    let ops = vec![
        UpdateOp::Set("rate_per_second".into(), attr::n((c.rate_per_second * 3 / 4).max(1))),
        UpdateOp::Set("slowed_at".into(), crate::record::ts(now)),
        UpdateOp::Add("version".into(), 1),
    ];
    match deps.table.update(&keys::campaign(account, id), ops, Some(Condition::version_is(c.version))).await {
        // Another send slowed it meanwhile: once is enough.
        Ok(_) | Err(TableError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Settings of the account's campaigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CampaignSettings {
    /// Pause a campaign when more than this share of its sends fail …
    pub failure_threshold_percent: u32,
    /// … over this many sends.
    pub failure_window: u32,
    /// Price per message by template category, in `currency` (Meta's rates for the
    /// account's market; the estimate multiplies them).
    pub prices: Prices,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Prices {
    pub marketing: f64,
    pub utility: f64,
    pub authentication: f64,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            failure_threshold_percent: 20,
            failure_window: 200,
            // Meta's Brazil rates (USD 0.0625 marketing, 0.0068 utility and
            // authentication) at about BRL 5.5 per dollar; set your contract's.
            prices: Prices { marketing: 0.3438, utility: 0.0374, authentication: 0.0374 },
            currency: "BRL".into(),
        }
    }
}

pub async fn settings(deps: &Deps, account: &str) -> ServiceResult<CampaignSettings> {
    match deps.table.get(&keys::campaign_settings(account)).await? {
        Some(item) => from_item(item),
        None => Ok(CampaignSettings::default()),
    }
}

pub async fn get_settings(deps: &Deps, caller: &Caller) -> ServiceResult<CampaignSettings> {
    settings(deps, &caller.account_id).await
}

pub async fn put_settings(
    deps: &Deps,
    caller: &Caller,
    s: CampaignSettings,
) -> ServiceResult<CampaignSettings> {
    caller.require_admin()?;
    if !(1..=100).contains(&s.failure_threshold_percent) || !(10..=100_000).contains(&s.failure_window) {
        return Err(ServiceError::invalid("the threshold is 1–100 % over 10–100,000 sends"));
    }
    let prices = [s.prices.marketing, s.prices.utility, s.prices.authentication];
    if prices.iter().any(|p| !p.is_finite() || *p < 0.0) || s.currency.trim().len() != 3 {
        return Err(ServiceError::invalid("prices are zero or more, the currency a 3-letter code"));
    }
    deps.table.put(to_item(&keys::campaign_settings(&caller.account_id), &s)?, None).await?;
    Ok(s)
}

/// The price per message of a template category.
pub fn price_of(s: &CampaignSettings, category: TemplateCategory) -> f64 {
    match category {
        TemplateCategory::Marketing => s.prices.marketing,
        TemplateCategory::Utility => s.prices.utility,
        TemplateCategory::Authentication => s.prices.authentication,
    }
}
