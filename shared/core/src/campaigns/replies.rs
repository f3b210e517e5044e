//! What customers' messages and provider events do to campaigns and sequences, as
//! reactions to domain events (registered in `crate::features`):
//! - a reply within the collecting window is the campaign's: the recipient becomes
//!   `replied` and a session the reply opened waits in the campaign's team;
//! - a reply ends the contact's enrolments in sequences that stop on reply;
//! - `SAIR`, `STOP`, `PARAR` or `CANCELAR` alone opts the contact out of marketing, and
//!   the contact is told once;
//! - provider statuses of bulk messages move them forward;
//! - a template paused or disabled by Meta pauses the running campaigns that use it.

use super::bulk::{self, List, Touch};
use super::model::CampaignStatus;
use super::{sequences, store};
use crate::conversations::{messages, sessions};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError, UpdateOp};
use crate::record::from_item;

/// The words that opt a contact out, folded (case and accents ignored).
pub const OPT_OUT_WORDS: [&str; 4] = ["sair", "stop", "parar", "cancelar"];
/// What the contact is told, once.
pub const OPT_OUT_CONFIRMATION: &str =
    "Pronto! Você não receberá mais mensagens promocionais. Se mudar de ideia, é só nos avisar.";

/// Whether a customer's text asks to opt out (one of the words, alone).
pub fn is_opt_out(text: &str) -> bool {
    let folded = crate::conversations::contact_index::fold(text);
    OPT_OUT_WORDS.contains(&folded.as_str())
}

pub struct CampaignReplies;

#[async_trait::async_trait]
impl Reaction for CampaignReplies {
    fn name(&self) -> &'static str {
        "campaigns.replies"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::MessageReceived {
            account_id,
            channel_id,
            contact_id,
            session_id,
            new_session,
            at,
            keyword,
            ..
        } = event
        else {
            return Ok(());
        };
        let q = Query::partition(Index::Primary, keys::account_pk(account_id))
            .sort(SortCondition::BeginsWith(keys::marketing_prefix(contact_id)));
        let state = deps.table.query(q).await?.items;
        for item in &state {
            let Some(sk) = attr::get_s(item, "sk") else { continue };
            if sk.ends_with("#CAMP") {
                let touch: Touch = from_item(item.clone())?;
                attribute(deps, account_id, channel_id, session_id, *new_session, *at, &touch).await?;
            } else if let Some(sequence) = sk.rsplit_once("#SEQ#").map(|(_, s)| s) {
                sequences::on_reply(deps, account_id, sequence, contact_id).await?;
            }
        }
        if let Some(word) = keyword
            && is_opt_out(word)
        {
            opt_out(deps, account_id, contact_id, session_id).await?;
        }
        Ok(())
    }
}

async fn attribute(
    deps: &Deps,
    account: &str,
    channel: &str,
    session: &str,
    new_session: bool,
    at: chrono::DateTime<chrono::Utc>,
    touch: &Touch,
) -> ServiceResult<()> {
    if touch.channel_id != channel || at >= touch.sent_at + store::COLLECTING {
        return Ok(());
    }
    let c = match store::load(deps, account, &touch.campaign_id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if matches!(c.status, CampaignStatus::Completed | CampaignStatus::Failed) {
        return Ok(());
    }
    // Each step is idempotent, in an order where a crash in between loses nothing.
    if new_session {
        sessions::attribute_to_campaign(deps, account, session, &c.team_id, &c.id, c.bot_id.as_deref())
            .await?;
        let key = keys::campaign_session(account, &c.id, session);
        let item = Item::from([("pk".to_owned(), attr::s(key.pk)), ("sk".to_owned(), attr::s(key.sk))]);
        deps.table.put(item, None).await?;
    }
    let list = List::Campaign { id: c.id.clone(), shard: touch.shard };
    bulk::mark_replied(deps, account, &list, &touch.recipient, session).await?;
    Ok(())
}

/// Opts the contact out of marketing; the first time, tells them in the session.
async fn opt_out(deps: &Deps, account: &str, contact: &str, session: &str) -> ServiceResult<()> {
    let now = deps.clock.now();
    let first = deps
        .table
        .update(
            &keys::contact(account, contact),
            vec![
                UpdateOp::Set("marketing_opt_out_at".into(), crate::record::ts(now)),
                UpdateOp::Add("version".into(), 1),
            ],
            Some(Condition::And(vec![
                Condition::Exists,
                Condition::Or(vec![
                    Condition::AttributeNotExists("marketing_opt_out_at".into()),
                    Condition::Equals(
                        "marketing_opt_out_at".into(),
                        crate::ports::AttributeValue::Null(true),
                    ),
                ]),
            ])),
        )
        .await;
    match first {
        Ok(_) => {
            let s = sessions::load(deps, account, session).await?;
            messages::send_system(deps, &s, OPT_OUT_CONFIRMATION).await?;
            Ok(())
        }
        Err(TableError::ConditionFailed) => Ok(()), // already out: told before
        Err(e) => Err(e.into()),
    }
}

/// Provider statuses of bulk messages.
pub struct BulkStatuses;

#[async_trait::async_trait]
impl Reaction for BulkStatuses {
    fn name(&self) -> &'static str {
        "campaigns.statuses"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::DeliveryStatus { account_id, reference, status, at, error_code, error_title } =
            event
        else {
            return Ok(());
        };
        let Some((list, item)) = bulk::parse_reference(reference) else { return Ok(()) };
        bulk::apply_status(deps, account_id, &list, &item, *status, *at, *error_code, error_title.as_deref())
            .await
    }
}

/// Meta paused or disabled a template: the running campaigns using it pause, with why.
pub struct PauseOnTemplateHold;

#[async_trait::async_trait]
impl Reaction for PauseOnTemplateHold {
    fn name(&self) -> &'static str {
        "campaigns.template_hold"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::TemplateStatusChanged { account_id, template_id, status, reason } = event else {
            return Ok(());
        };
        if !matches!(status.as_str(), "paused" | "disabled" | "rejected" | "deleted") {
            return Ok(());
        }
        let why = format!(
            "Meta {status} the template{}: the campaign was paused.",
            reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
        for c in store::all(deps, account_id).await? {
            if c.template_id == *template_id && c.status == CampaignStatus::Running {
                store::pause_for(deps, account_id, &c.id, &why).await?;
            }
        }
        sequences::hold_template(deps, account_id, template_id, &why).await
    }
}

/// Meta flagged the number's quality or lowered its messaging limit: its running campaigns
/// pause with the reason (an admin resumes them when the rating recovers).
pub struct PauseOnQualityDrop;

#[async_trait::async_trait]
impl Reaction for PauseOnQualityDrop {
    fn name(&self) -> &'static str {
        "campaigns.quality_drop"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::PhoneQualityChanged { account_id, channel_id, event, current_limit } = event else {
            return Ok(());
        };
        let why = match event.as_str() {
            "FLAGGED" => "Meta flagged the number's quality as low: the campaign was paused.".to_owned(),
            "DOWNGRADE" => format!(
                "Meta lowered the number's messaging limit{}: the campaign was paused.",
                current_limit.as_deref().map(|l| format!(" to {l}")).unwrap_or_default()
            ),
            _ => return Ok(()),
        };
        for c in store::all(deps, account_id).await? {
            if c.channel_id == *channel_id && c.status == CampaignStatus::Running {
                store::pause_for(deps, account_id, &c.id, &why).await?;
            }
        }
        Ok(())
    }
}

/// An admin lets a contact who opted out receive marketing again (on their request).
pub async fn opt_back_in(deps: &Deps, caller: &crate::accounts::Caller, contact: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    crate::conversations::contacts::load(deps, &caller.account_id, contact).await?;
    deps.table
        .update(
            &keys::contact(&caller.account_id, contact),
            vec![UpdateOp::Remove("marketing_opt_out_at".into()), UpdateOp::Add("version".into(), 1)],
            Some(Condition::Exists),
        )
        .await?;
    Ok(())
}
