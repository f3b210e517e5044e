//! Meta's view of the templates brought home: a sync that reads every template of the
//! business account, and the webhooks that move one (status, category, quality).

use super::{all, catalog_access, id_by_name, insert, load, provider_failure, replace};
use crate::accounts::Caller;
use crate::conversations::channels;
use crate::conversations::events::{TemplateChange, TemplateUpdate};
use crate::conversations::model::{
    Template, TemplateCategory, TemplateHeader, TemplateQuality, TemplateStatus,
};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::ports::RemoteTemplate;
use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;

/// Meta's status words. `None`: a word that does not change the status (FLAGGED warns
/// that the quality fell; the template still sends).
pub fn status_from_provider(word: &str) -> Option<TemplateStatus> {
    Some(match word.to_ascii_uppercase().as_str() {
        "APPROVED" | "REINSTATED" => TemplateStatus::Approved,
        "PENDING" | "IN_APPEAL" => TemplateStatus::Pending,
        "REJECTED" => TemplateStatus::Rejected,
        "PAUSED" => TemplateStatus::Paused,
        "DISABLED" | "LIMIT_EXCEEDED" => TemplateStatus::Disabled,
        "DELETED" | "PENDING_DELETION" => TemplateStatus::Deleted,
        _ => return None,
    })
}

/// Meta's category words.
pub fn category_from_provider(word: &str) -> Option<TemplateCategory> {
    Some(match word.to_ascii_uppercase().as_str() {
        "MARKETING" => TemplateCategory::Marketing,
        "UTILITY" => TemplateCategory::Utility,
        "AUTHENTICATION" => TemplateCategory::Authentication,
        _ => return None,
    })
}

/// Meta's quality scores.
pub fn quality_from_provider(word: &str) -> TemplateQuality {
    match word.to_ascii_uppercase().as_str() {
        "GREEN" | "HIGH" => TemplateQuality::Green,
        "YELLOW" | "MEDIUM" => TemplateQuality::Yellow,
        "RED" | "LOW" => TemplateQuality::Red,
        _ => TemplateQuality::Unknown,
    }
}

/// Tells the features a template's status changed (campaigns and sequences pause on a
/// held template).
pub(super) async fn announce(
    deps: &Deps,
    account: &str,
    id: &str,
    status: TemplateStatus,
    reason: Option<String>,
) -> ServiceResult<()> {
    let changed = DomainEvent::TemplateStatusChanged {
        account_id: account.to_owned(),
        template_id: id.to_owned(),
        status: serde_json::to_value(status)?.as_str().unwrap_or_default().to_owned(),
        reason,
    };
    deps.publish(&[changed]).await
}

/// Changes the template with `change` (re-read on a concurrent write): the template before
/// and after, or `None` when nothing changed.
async fn update(
    deps: &Deps,
    account: &str,
    id: &str,
    change: impl Fn(&mut Template),
) -> ServiceResult<Option<(Template, Template)>> {
    for _ in 0..5 {
        let mut t = load(deps, account, id).await?;
        let before = t.clone();
        change(&mut t);
        if t == before {
            return Ok(None);
        }
        t.updated_at = Some(deps.clock.now());
        match replace(deps, &mut t).await {
            Ok(()) => return Ok(Some((before, t))),
            Err(ServiceError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::conflict("the template kept changing"))
}

/// Applies one of Meta's template webhooks.
pub async fn apply_update(deps: &Deps, u: &TemplateUpdate) -> ServiceResult<()> {
    let Some((account, channel)) = channels::account_of_waba(deps, &u.waba_id).await? else {
        tracing::warn!(waba = %u.waba_id, "template update for an unknown WABA: ignored");
        return Ok(());
    };
    let Some(id) = id_by_name(deps, &account, &channel, &u.name, &u.language).await? else {
        tracing::warn!(account = %account, "template update for an unknown template: ignored");
        return Ok(());
    };
    match &u.change {
        TemplateChange::Status { event, reason } => {
            let reason = reason.clone().filter(|r| !r.is_empty() && r != "NONE");
            let Some(status) = status_from_provider(event) else {
                // FLAGGED: the quality fell; it still sends, so only the rating moves.
                if event.eq_ignore_ascii_case("FLAGGED") {
                    update(deps, &account, &id, |t| t.quality = Some(TemplateQuality::Red)).await?;
                }
                return Ok(());
            };
            let before = update(deps, &account, &id, |t| {
                t.status = status;
                t.status_reason = reason.clone();
            })
            .await?;
            if before.is_some_and(|(b, _)| b.status != status) {
                announce(deps, &account, &id, status, reason).await?;
            }
        }
        TemplateChange::Category { new_category, .. } => {
            if let Some(category) = category_from_provider(new_category) {
                update(deps, &account, &id, |t| {
                    if t.category != category {
                        t.previous_category = Some(t.category);
                        t.category = category;
                    }
                })
                .await?;
            }
        }
        TemplateChange::Quality { score } => {
            let quality = quality_from_provider(score);
            update(deps, &account, &id, |t| t.quality = Some(quality)).await?;
        }
    }
    Ok(())
}

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncReport {
    /// At Meta, unknown here: now here.
    pub created: u32,
    /// Here and at Meta, with something different: Meta's version kept.
    pub updated: u32,
    pub unchanged: u32,
    /// Here with a Meta id, no longer at Meta: marked deleted.
    pub deleted: u32,
}

fn adopt(t: &mut Template, r: &RemoteTemplate) {
    t.meta_id = Some(r.provider_id.clone());
    if let Some(status) = status_from_provider(&r.status) {
        t.status = status;
    }
    t.status_reason = r.reason.clone().filter(|x| !x.is_empty() && x != "NONE");
    t.quality = r.quality;
    if t.category != r.category {
        t.previous_category = Some(t.category);
        t.category = r.category;
    }
    // Meta's header example is a link of its own; a header file of ours stays ours when
    // Meta's header is a file of the same format.
    let ours = t.content.header.take();
    t.content = r.content.clone();
    if let (Some(ours), Some(theirs)) = (&ours, &r.content.header)
        && !matches!(ours, TemplateHeader::Text { .. })
        && std::mem::discriminant(ours) == std::mem::discriminant(theirs)
    {
        t.content.header = ours.clone().into();
    }
}

/// Reads every template of the channel's business account at Meta and brings this
/// account's copy in line: Meta is the truth for content, status, category and quality.
pub async fn sync(deps: &Deps, caller: &Caller, channel_id: &str) -> ServiceResult<SyncReport> {
    caller.require_admin()?;
    let channel = channels::load(deps, &caller.account_id, channel_id).await?;
    let Some(access) = catalog_access(deps, &channel).await? else {
        return Err(ServiceError::invalid(
            "the sandbox keeps its templates here: there is nothing at Meta to sync",
        ));
    };
    let remote = deps.templates.list(&access).await.map_err(provider_failure)?;
    let account = &caller.account_id;
    let mut report = SyncReport::default();
    for r in &remote {
        match id_by_name(deps, account, channel_id, &r.name, &r.language).await? {
            Some(id) => match update(deps, account, &id, |t| adopt(t, r)).await? {
                None => report.unchanged += 1,
                Some((before, after)) => {
                    report.updated += 1;
                    if before.status != after.status {
                        announce(deps, account, &id, after.status, after.status_reason).await?;
                    }
                }
            },
            None => {
                let mut t = Template::pending(
                    deps.ids.new_id(),
                    account,
                    channel_id,
                    &r.name,
                    &r.language,
                    r.category,
                    deps.clock.now(),
                );
                adopt(&mut t, r);
                t.previous_category = None;
                match insert(deps, &t).await {
                    Ok(()) => report.created += 1,
                    // A concurrent sync or creation took the name first: that one stands.
                    Err(ServiceError::Conflict(_)) => report.unchanged += 1,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let at_meta: HashSet<(&str, &str)> =
        remote.iter().map(|r| (r.name.as_str(), r.language.as_str())).collect();
    for t in all(deps, account).await? {
        let known = at_meta.contains(&(t.name.as_str(), t.language.as_str()));
        if t.channel_id != channel_id || known || t.status == TemplateStatus::Deleted || t.meta_id.is_none() {
            continue;
        }
        let reason = Some("no longer at Meta".to_owned());
        if update(deps, account, &t.id, |x| {
            x.status = TemplateStatus::Deleted;
            x.status_reason = reason.clone();
        })
        .await?
        .is_some()
        {
            report.deleted += 1;
            announce(deps, account, &t.id, TemplateStatus::Deleted, reason).await?;
        }
    }
    Ok(report)
}
