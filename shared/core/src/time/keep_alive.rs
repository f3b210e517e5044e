//! Keep-alive (TalkToMe), per channel, inactive until explicitly enabled: after
//! `idle_minutes` without a customer message the inactivity message goes out; if the
//! customer still does not write within `close_minutes`, the closing message goes out and
//! the session is completed. Any customer message restarts the count (its timers go stale).

use crate::accounts::Caller;
use crate::conversations::{channels, messages, sessions};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::jobs::RoutingJob;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Item, TableError};
use crate::queues;
use crate::record::{from_item, to_item};
use crate::time::timers;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeepAlive {
    /// 1–10080 (a week).
    #[schema(minimum = 1, maximum = 10080)]
    pub idle_minutes: u32,
    pub inactivity_message: String,
    /// 1–10080 (a week).
    #[schema(minimum = 1, maximum = 10080)]
    pub close_minutes: u32,
    pub closing_message: String,
    /// Saved configurations do nothing until enabled.
    #[serde(default)]
    pub enabled: bool,
}

impl KeepAlive {
    /// What a channel has until an admin saves its own: disabled, with messages ready to
    /// enable.
    pub fn disabled_default() -> Self {
        Self {
            idle_minutes: 10,
            inactivity_message: "Oi! Ainda está por aí? Se precisar de algo, é só responder.".into(),
            close_minutes: 10,
            closing_message: "Como não tivemos resposta, vamos encerrar este atendimento. \
                              Quando quiser, é só mandar uma mensagem."
                .into(),
            enabled: false,
        }
    }
}

pub async fn config(deps: &Deps, account: &str, channel: &str) -> ServiceResult<Option<KeepAlive>> {
    match deps.configuration(&keys::keep_alive(account, channel)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// The channel's keep-alive: its saved one, or the disabled default.
pub async fn get(deps: &Deps, caller: &Caller, channel: &str) -> ServiceResult<KeepAlive> {
    channels::get(deps, caller, channel).await?;
    Ok(config(deps, &caller.account_id, channel).await?.unwrap_or_else(KeepAlive::disabled_default))
}

pub async fn put(deps: &Deps, caller: &Caller, channel: &str, input: KeepAlive) -> ServiceResult<KeepAlive> {
    caller.require_admin()?;
    channels::get(deps, caller, channel).await?;
    let week = 7 * 24 * 60;
    if !(1..=week).contains(&input.idle_minutes) || !(1..=week).contains(&input.close_minutes) {
        return Err(ServiceError::invalid("idle_minutes and close_minutes are 1 to 10080 (a week)"));
    }
    if input.inactivity_message.trim().is_empty() || input.closing_message.trim().is_empty() {
        return Err(ServiceError::invalid("both messages need a text"));
    }
    let key = keys::keep_alive(&caller.account_id, channel);
    deps.table.put(to_item(&key, &input)?, None).await?;
    deps.config.forget(&key);
    Ok(input)
}

/// After a customer message: starts the count (when the channel's keep-alive is enabled).
/// Re-arming for the same message sets the same timer again, and a silence's messages are
/// sent once (see [`fire`]), so a repeated event changes nothing.
pub struct ArmOnCustomerMessage;

#[async_trait::async_trait]
impl Reaction for ArmOnCustomerMessage {
    fn name(&self) -> &'static str {
        "keep_alive.arm"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::MessageReceived { account_id, channel_id, session_id, at, .. } = event else {
            return Ok(());
        };
        let Some(cfg) = config(deps, account_id, channel_id).await? else { return Ok(()) };
        if !cfg.enabled {
            return Ok(());
        }
        let due = *at + Duration::minutes(i64::from(cfg.idle_minutes));
        schedule(deps, account_id, session_id, *at, due, false).await
    }
}

async fn schedule(
    deps: &Deps,
    account: &str,
    session: &str,
    last_inbound: DateTime<Utc>,
    due: DateTime<Utc>,
    closing: bool,
) -> ServiceResult<()> {
    let job = RoutingJob::KeepAlive {
        account_id: account.to_owned(),
        session_id: session.to_owned(),
        last_inbound_ms: last_inbound.timestamp_millis(),
        closing,
    };
    let id = format!("keepalive:{session}:{}:{closing}", last_inbound.timestamp_millis());
    timers::schedule(deps, &id, due, queues::ROUTING, None, &job).await
}

/// How long the record that a keep-alive message went out is kept.
const FIRED_TTL: Duration = Duration::days(7);

pub async fn fire(
    deps: &Deps,
    account: &str,
    session: &str,
    last_inbound_ms: i64,
    closing: bool,
) -> ServiceResult<()> {
    let s = sessions::load(deps, account, session).await?;
    let current = s.last_inbound_at.map(|t| t.timestamp_millis());
    if !s.status.is_open() || current != Some(last_inbound_ms) {
        return Ok(()); // the customer wrote, or the session ended: stale
    }
    let Some(cfg) = config(deps, account, &s.channel_id).await? else { return Ok(()) };
    if !cfg.enabled {
        return Ok(());
    }
    let last_inbound = s.last_inbound_at.unwrap_or_else(|| deps.clock.now());
    // Once per silence and stage: claimed before sending, so a timer set again for the same
    // message (a redelivered inbound event) never sends it twice.
    let fired = keys::keep_alive_fired(account, session, last_inbound_ms, closing);
    let claim = Item::from([
        ("pk".to_owned(), attr::s(fired.pk)),
        ("sk".to_owned(), attr::s(fired.sk)),
        ("ttl".to_owned(), attr::n((deps.clock.now() + FIRED_TTL).timestamp())),
    ]);
    match deps.table.put(claim, Some(Condition::NotExists)).await {
        Ok(()) => {}
        Err(TableError::ConditionFailed) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    if closing {
        messages::send_system(deps, &s, &cfg.closing_message).await?;
        sessions::complete_by_system(deps, account, &s.id).await
    } else {
        messages::send_system(deps, &s, &cfg.inactivity_message).await?;
        let due = deps.clock.now() + Duration::minutes(i64::from(cfg.close_minutes));
        schedule(deps, account, &s.id, last_inbound, due, true).await
    }
}
