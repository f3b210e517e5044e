//! What the `{{variables}}` of a text (see `crm::placeholders`) stand for in a
//! conversation: the contact's fields and custom fields, the session's protocol, the
//! sending agent. Quick replies use it now; campaign and flow template parameters next.

use super::model::{Contact, Session};
use super::{contacts, sessions};
use crate::accounts::{Caller, users};
use crate::crm::fields;
use crate::crm::placeholders::{self, first_name};
use crate::crm::quick_replies::{self, QuickMedia};
use crate::deps::Deps;
use crate::error::ServiceResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The value of `name` for this contact, session and agent.
pub fn value(
    contact: &Contact,
    session: Option<&Session>,
    agent: Option<&str>,
    name: &str,
) -> Option<String> {
    match name {
        "name" => contact.name.clone(),
        "first_name" => contact.name.as_deref().map(first_name),
        "phone" => contact.phone.clone(),
        "email" => contact.email.clone(),
        "protocol" => session.map(|s| s.protocol.clone()),
        "agent.name" => agent.map(str::to_owned),
        "agent.first_name" => agent.map(first_name),
        other => other.strip_prefix("custom.").and_then(|k| contact.custom.get(k)).map(fields::display),
    }
}

/// `text` with its variables filled for this contact, session and agent.
pub fn fill(text: &str, contact: &Contact, session: Option<&Session>, agent: Option<&str>) -> String {
    placeholders::fill(text, |name| value(contact, session, agent, name))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RenderFor {
    /// The session the reply is for (its contact and protocol fill the variables).
    pub session_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RenderedReply {
    pub text: String,
    pub media: Option<QuickMedia>,
}

/// A quick reply the caller may use, filled for a session they may read, signed by them.
pub async fn render_quick_reply(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    input: RenderFor,
) -> ServiceResult<RenderedReply> {
    let reply = quick_replies::usable(deps, caller, id).await?;
    let access = sessions::Access::of(deps, caller).await?;
    let session = sessions::readable(deps, &access, &input.session_id).await?;
    let contact = contacts::load(deps, &caller.account_id, &session.contact_id).await?;
    let agent = users::load(deps, &caller.account_id, &caller.user_id)
        .await?
        .map(|(u, _)| u.display_name.unwrap_or(u.name));
    Ok(RenderedReply {
        text: fill(&reply.text, &contact, Some(&session), agent.as_deref()),
        media: reply.media,
    })
}
