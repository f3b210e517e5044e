//! Message templates (*modelos*): header, body, footer and buttons; created, edited and
//! deleted at Meta through the provider's catalogue (sandbox channels approve their own),
//! synced back from it, and moved by Meta's webhooks (status, category, quality). At most
//! 250 per channel.

mod render;
pub mod rules;
mod sync;

pub use render::render;
pub use sync::{
    SyncReport, apply_update, category_from_provider, quality_from_provider, status_from_provider, sync,
};

use super::channels::{self, ChannelWithSecrets};
use super::kinds::{self, Catalog};
use super::model::{Template, TemplateCategory, TemplateContent, TemplateHeader, TemplateStatus};
use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{
    CatalogAccess, Condition, Index, Item, ProviderError, Query, SortCondition, TransactItem,
};
use crate::record::{concurrent, from_item, to_item};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MAX_PER_CHANNEL: usize = 250;
pub use rules::MAX_BODY;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTemplate {
    pub channel_id: String,
    /// Meta's template name: lower-case letters, digits and underscores.
    pub name: String,
    /// e.g. `pt_BR`.
    pub language: String,
    pub category: TemplateCategory,
    #[serde(flatten)]
    pub content: TemplateContent,
}

/// A template's new content: it replaces header, body, footer and buttons (Meta reviews
/// the template again). Name and language never change.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TemplateEdit {
    #[serde(default)]
    pub category: Option<TemplateCategory>,
    #[serde(flatten)]
    pub content: TemplateContent,
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

/// The id of the channel's template of that name and language.
async fn id_by_name(
    deps: &Deps,
    account: &str,
    channel: &str,
    name: &str,
    language: &str,
) -> ServiceResult<Option<String>> {
    let pointer = deps.table.get(&keys::template_by_name(account, channel, name, language)).await?;
    Ok(pointer.and_then(|p| attr::get_s(&p, "template_id").map(str::to_owned)))
}

/// What a provider's refusal or silence means to the caller: Meta's own words for a
/// template it refuses (422), a retryable 502 when it did not answer.
fn provider_failure(e: ProviderError) -> ServiceError {
    match e {
        ProviderError::Coded { code: 190, .. } => ServiceError::invalid(
            "Meta refused the channel's access token (error 190): update it on the channel",
        ),
        ProviderError::Coded { code, title } => {
            ServiceError::invalid(format!("Meta refused it (error {code}): {title}"))
        }
        other => ServiceError::Provider(other),
    }
}

/// What the catalogue needs for a Cloud channel; `None` for the sandbox (no Meta).
async fn catalog_access(deps: &Deps, c: &ChannelWithSecrets) -> ServiceResult<Option<CatalogAccess>> {
    match kinds::catalog(c.channel.kind).map_err(ServiceError::invalid)? {
        Catalog::Local => return Ok(None),
        Catalog::Meta => {}
    }
    let waba_id = c.channel.waba_id.clone().ok_or_else(|| {
        ServiceError::invalid(
            "the channel has no waba_id: Meta keeps templates in the WhatsApp Business Account",
        )
    })?;
    Ok(Some(CatalogAccess {
        waba_id,
        app_id: c.channel.app_id.clone(),
        access_token: c.access_token.open(deps.sealer.as_ref()).await?,
    }))
}

/// The handle of a media header's example at Meta (uploaded from the account's file).
async fn example_handle(deps: &Deps, access: &CatalogAccess, t: &Template) -> ServiceResult<Option<String>> {
    let blob_key = match &t.content.header {
        Some(
            TemplateHeader::Image { blob_key, .. }
            | TemplateHeader::Video { blob_key, .. }
            | TemplateHeader::Document { blob_key, .. },
        ) => blob_key,
        _ => return Ok(None),
    };
    let Some(key) = blob_key else {
        return Err(ServiceError::invalid(
            "Meta reviews a media header from an example file: upload it (POST /v1/uploads) and give its blob_key",
        ));
    };
    if access.app_id.is_none() {
        return Err(ServiceError::invalid(
            "uploading a header example needs the channel's app_id (the Meta app's id)",
        ));
    }
    let blob = deps.blob.get(key).await?.ok_or(ServiceError::NotFound("header file"))?;
    let handle = deps
        .templates
        .upload_example(access, blob.bytes, &blob.content_type)
        .await
        .map_err(provider_failure)?;
    Ok(Some(handle))
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewTemplate) -> ServiceResult<Template> {
    caller.require_admin()?;
    let channel = channels::load(deps, &caller.account_id, &input.channel_id).await?;
    let access = catalog_access(deps, &channel).await?;
    let mut template = Template::pending(
        deps.ids.new_id(),
        &caller.account_id,
        &channel.channel.id,
        &input.name,
        &input.language,
        input.category,
        deps.clock.now(),
    );
    template.content = input.content.trimmed();
    if access.is_none() {
        // Meta approves Cloud API templates; the sandbox has no reviewer.
        template.status = TemplateStatus::Approved;
    }
    rules::check(&template, &keys::upload_prefix(&caller.account_id))?;
    let existing = all(deps, &caller.account_id).await?;
    if existing.iter().filter(|t| t.channel_id == template.channel_id).count() >= MAX_PER_CHANNEL {
        return Err(ServiceError::conflict("a channel holds at most 250 templates"));
    }
    let handle = match &access {
        Some(a) => example_handle(deps, a, &template).await?,
        None => None,
    };
    // Reserved here first (name and language are unique per channel): a crash after Meta
    // answered leaves a pending record that the next sync completes, never a stranger.
    insert(deps, &template).await?;
    let Some(access) = access else { return Ok(template) };
    match deps.templates.create(&access, &template, handle.as_deref()).await {
        Ok(created) => {
            template.meta_id = Some(created.provider_id);
            template.status = status_from_provider(&created.status).unwrap_or(TemplateStatus::Pending);
            if let Some(category) = created.category.filter(|c| *c != template.category) {
                template.previous_category = Some(template.category);
                template.category = category;
            }
            replace(deps, &mut template).await?;
            Ok(template)
        }
        Err(e) => {
            remove(deps, &template).await?;
            Err(provider_failure(e))
        }
    }
}

async fn insert(deps: &Deps, template: &Template) -> ServiceResult<()> {
    let account = &template.account_id;
    let by_name = keys::template_by_name(account, &template.channel_id, &template.name, &template.language);
    deps.table
        .transact(vec![
            TransactItem::Put {
                item: to_item(&keys::template(account, &template.id), template)?,
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
                "this channel already has a template with that name and language (edit it, or choose another name)",
            ),
            other => concurrent(other),
        })
}

/// Writes `template` over the version it was read at (and moves its version on).
async fn replace(deps: &Deps, template: &mut Template) -> ServiceResult<()> {
    let read = template.version;
    template.version += 1;
    deps.table
        .put(
            to_item(&keys::template(&template.account_id, &template.id), template)?,
            Some(Condition::version_is(read)),
        )
        .await
        .map_err(concurrent)
}

async fn remove(deps: &Deps, t: &Template) -> ServiceResult<()> {
    deps.table
        .transact(vec![
            TransactItem::Delete { key: keys::template(&t.account_id, &t.id), condition: None },
            TransactItem::Delete {
                key: keys::template_by_name(&t.account_id, &t.channel_id, &t.name, &t.language),
                condition: None,
            },
        ])
        .await?;
    Ok(())
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<TemplateList> {
    Ok(TemplateList { items: all(deps, &caller.account_id).await? })
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Template> {
    load(deps, &caller.account_id, id).await
}

/// New content for a template; at Meta it goes back to review (Meta edits approved,
/// rejected and paused templates only).
pub async fn edit(deps: &Deps, caller: &Caller, id: &str, input: TemplateEdit) -> ServiceResult<Template> {
    caller.require_admin()?;
    let mut t = load(deps, &caller.account_id, id).await?;
    let channel = channels::load(deps, &caller.account_id, &t.channel_id).await?;
    let access = catalog_access(deps, &channel).await?;
    if access.is_some()
        && !matches!(t.status, TemplateStatus::Approved | TemplateStatus::Rejected | TemplateStatus::Paused)
    {
        return Err(ServiceError::conflict(
            "Meta edits approved, rejected or paused templates only (this one is under review, disabled or deleted)",
        ));
    }
    if let Some(category) = input.category {
        t.category = category;
    }
    t.content = input.content.trimmed();
    rules::check(&t, &keys::upload_prefix(&caller.account_id))?;
    if let Some(access) = &access {
        if t.meta_id.is_none() {
            return Err(ServiceError::conflict(
                "Meta has not acknowledged this template yet: sync the channel first",
            ));
        }
        let handle = example_handle(deps, access, &t).await?;
        deps.templates.edit(access, &t, handle.as_deref()).await.map_err(provider_failure)?;
        t.status = TemplateStatus::Pending;
        t.status_reason = None;
    }
    t.updated_at = Some(deps.clock.now());
    replace(deps, &mut t).await?;
    Ok(t)
}

/// Deletes the template at Meta and here. Campaigns and sequences that use it pause with
/// the reason (the `deleted` status change reaches them first).
pub async fn delete(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let t = load(deps, &caller.account_id, id).await?;
    let channel = channels::load(deps, &caller.account_id, &t.channel_id).await?;
    if let Some(access) = catalog_access(deps, &channel).await?
        && t.meta_id.is_some()
        && t.status != TemplateStatus::Deleted
    {
        match deps.templates.delete(&access, &t).await {
            // Already gone at Meta (deleted there, or never created): nothing to undo.
            Ok(()) | Err(ProviderError::Http(404) | ProviderError::Coded { code: 100, .. }) => {}
            Err(e) => return Err(provider_failure(e)),
        }
    }
    sync::announce(deps, &t.account_id, &t.id, TemplateStatus::Deleted, Some("deleted by an admin".into()))
        .await?;
    remove(deps, &t).await
}
