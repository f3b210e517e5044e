//! The out-of-hours auto-reply (PRODUCT.md §6): a customer writing while the business is
//! closed gets the configured reply, at most once per session per closed period.

use crate::conversations::{messages, sessions};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::time::business_hours;

/// Sends the auto-reply when a customer message arrives outside business hours. The
/// session records the closed period it answered before the reply is sent, so a repeated
/// event (or a retry after a crash) never sends it twice.
pub struct OutOfHoursReply;

#[async_trait::async_trait]
impl Reaction for OutOfHoursReply {
    fn name(&self) -> &'static str {
        "business_hours.auto_reply"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::MessageReceived { account_id, channel_id, session_id, at, .. } = event else {
            return Ok(());
        };
        let Some(hours) = business_hours::effective(deps, account_id, Some(channel_id)).await? else {
            return Ok(());
        };
        // Open, or no auto-reply: nothing to read further.
        if business_hours::auto_reply_due(&hours, *at, None).is_none() {
            return Ok(());
        }
        for _ in 0..5 {
            let mut s = sessions::load(deps, account_id, session_id).await?;
            if s.bot_run.is_some() {
                return Ok(()); // a flow answers (the channel's out-of-hours flow)
            }
            let Some(period) = business_hours::auto_reply_due(&hours, *at, s.auto_reply_for) else {
                return Ok(()); // this closed period was already answered
            };
            s.auto_reply_for = Some(period);
            match sessions::save(deps, &mut s, vec![]).await {
                Ok(()) => {
                    messages::send_system(deps, &s, &hours.auto_reply.text).await?;
                    return Ok(());
                }
                Err(ServiceError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ServiceError::conflict("the session kept changing while the auto-reply was due"))
    }
}
