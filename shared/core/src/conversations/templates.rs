//! Message templates (*modelos*): created by admins, approved by Meta (its
//! `message_template_status_update` webhook moves the status), at most 250 per channel.

use super::channels;
use super::model::{ChannelKind, Template, TemplateCategory, TemplateStatus};
use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TransactItem};
use crate::record::{concurrent, from_item, to_item};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

pub const MAX_PER_CHANNEL: usize = 250;
pub const MAX_BODY: usize = 1024;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTemplate {
    pub channel_id: String,
    /// Meta's template name: lower-case letters, digits and underscores.
    pub name: String,
    /// e.g. `pt_BR`.
    pub language: String,
    pub category: TemplateCategory,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<Template>,
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<Template> {
    match deps.table.get(&keys::template(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("template")),
    }
}

async fn all(deps: &Deps, account: &str) -> ServiceResult<Vec<Template>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::TEMPLATE_PREFIX.into()));
    crate::record::query_all(deps, q).await
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewTemplate) -> ServiceResult<Template> {
    caller.require_admin()?;
    let channel = channels::load(deps, &caller.account_id, &input.channel_id).await?.channel;
    let name = input.name.trim().to_owned();
    if name.is_empty()
        || name.len() > 512
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ServiceError::invalid("a template name uses lower-case letters, digits and underscores"));
    }
    let body = input.body.trim().to_owned();
    if body.is_empty() || body.chars().count() > MAX_BODY {
        return Err(ServiceError::invalid("a template body has 1 to 1024 characters"));
    }
    if input.language.trim().is_empty() {
        return Err(ServiceError::invalid("a template needs a language, e.g. pt_BR"));
    }
    let existing = all(deps, &caller.account_id).await?;
    if existing.iter().filter(|t| t.channel_id == channel.id).count() >= MAX_PER_CHANNEL {
        return Err(ServiceError::conflict("a channel holds at most 250 templates"));
    }
    let template = Template {
        id: deps.ids.new_id(),
        account_id: caller.account_id.clone(),
        channel_id: channel.id.clone(),
        name,
        language: input.language.trim().to_owned(),
        category: input.category,
        body,
        // Meta approves Cloud API templates; the sandbox has no reviewer.
        status: if channel.kind == ChannelKind::Sandbox {
            TemplateStatus::Approved
        } else {
            TemplateStatus::Pending
        },
        status_reason: None,
        created_at: deps.clock.now(),
        version: 1,
    };
    let by_name = keys::template_by_name(&caller.account_id, &channel.id, &template.name, &template.language);
    deps.table
        .transact(vec![
            TransactItem::Put {
                item: to_item(&keys::template(&caller.account_id, &template.id), &template)?,
                condition: Some(Condition::NotExists),
            },
            TransactItem::Put {
                item: Item::from([
                    ("pk".to_owned(), attr::s(by_name.pk)),
                    ("sk".to_owned(), attr::s(by_name.sk)),
                    ("template_id".to_owned(), attr::s(&template.id)),
                ]),
                condition: Some(Condition::NotExists),
            },
        ])
        .await
        .map_err(|e| match e {
            crate::ports::TableError::TransactionConditionFailed { index: 1 } => ServiceError::conflict(
                "this channel already has a template with that name and language (a new body needs a new template)",
            ),
            other => concurrent(other),
        })?;
    Ok(template)
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<TemplateList> {
    Ok(TemplateList { items: all(deps, &caller.account_id).await? })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Template> {
    load(deps, &caller.account_id, id).await
}

pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let t = load(deps, &caller.account_id, id).await?;
    deps.table
        .transact(vec![
            TransactItem::Delete { key: keys::template(&caller.account_id, id), condition: None },
            TransactItem::Delete {
                key: keys::template_by_name(&caller.account_id, &t.channel_id, &t.name, &t.language),
                condition: None,
            },
        ])
        .await?;
    Ok(())
}

/// Applies Meta's `message_template_status_update`.
pub async fn apply_status(deps: &Deps, update: &super::events::TemplateStatusUpdate) -> ServiceResult<()> {
    let Some((account, channel)) = channels::account_of_waba(deps, &update.waba_id).await? else {
        tracing::warn!(waba = %update.waba_id, "template status for an unknown WABA: ignored");
        return Ok(());
    };
    let Some(pointer) =
        deps.table.get(&keys::template_by_name(&account, &channel, &update.name, &update.language)).await?
    else {
        tracing::warn!(account = %account, "template status for an unknown template: ignored");
        return Ok(());
    };
    let Some(id) = attr::get_s(&pointer, "template_id") else { return Ok(()) };
    let status = match update.event.to_ascii_uppercase().as_str() {
        "APPROVED" => TemplateStatus::Approved,
        "REJECTED" => TemplateStatus::Rejected,
        "PAUSED" => TemplateStatus::Paused,
        "DISABLED" => TemplateStatus::Disabled,
        _ => TemplateStatus::Pending,
    };
    for _ in 0..3 {
        let mut t = load(deps, &account, id).await?;
        t.status = status;
        t.status_reason = update.reason.clone().filter(|r| !r.is_empty() && r != "NONE");
        let read = t.version;
        t.version += 1;
        match deps
            .table
            .put(to_item(&keys::template(&account, id), &t)?, Some(Condition::version_is(read)))
            .await
        {
            Ok(()) => {
                let changed = crate::events::DomainEvent::TemplateStatusChanged {
                    account_id: account.clone(),
                    template_id: id.to_owned(),
                    status: serde_json::to_value(status)?.as_str().unwrap_or_default().to_owned(),
                    reason: t.status_reason.clone(),
                };
                return deps.publish(&[changed]).await;
            }
            Err(crate::ports::TableError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the template kept changing"))
}

/// The template's text with `parameters` filled in (`{{1}}`… in order, or `{{name}}` by
/// name), and the Cloud API components carrying them.
pub fn render(template: &Template, parameters: &Value) -> ServiceResult<(String, Value)> {
    let mut text = template.body.clone();
    let mut body_params = Vec::new();
    match parameters {
        Value::Null => {}
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                let value = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
                text = text.replace(&format!("{{{{{}}}}}", i + 1), &value);
                body_params.push(json!({"type": "text", "text": value}));
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let value = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
                text = text.replace(&format!("{{{{{k}}}}}"), &value);
                body_params.push(json!({"type": "text", "parameter_name": k, "text": value}));
            }
        }
        _ => return Err(ServiceError::invalid("template parameters are a list or an object")),
    }
    if text.contains("{{") {
        return Err(ServiceError::invalid("some template parameters are missing"));
    }
    let components =
        if body_params.is_empty() { json!([]) } else { json!([{"type": "body", "parameters": body_params}]) };
    Ok((text, components))
}
