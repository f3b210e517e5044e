//! Kanban cards point at a contact and optionally a session: both are checked here before
//! `crm::panels` stores the card.

use super::{contacts, sessions};
use crate::accounts::Caller;
use crate::crm::panels::{self, Card, NewCard};
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};

pub async fn add(deps: &Deps, caller: &Caller, panel: &str, input: NewCard) -> ServiceResult<Card> {
    panels::get(deps, caller, panel).await?;
    let contact = match contacts::get(deps, caller, &input.contact_id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => {
            return Err(ServiceError::invalid(format!("contact_id: no contact {:?}", input.contact_id)));
        }
        Err(e) => return Err(e),
    };
    if let Some(s) = &input.session_id {
        let access = sessions::Access::of(deps, caller).await?;
        match sessions::readable(deps, &access, s).await {
            Ok(found) if found.contact_id == contact.id => {}
            Ok(_) => return Err(ServiceError::invalid("session_id: a session of another contact")),
            Err(ServiceError::NotFound(_)) => {
                return Err(ServiceError::invalid(format!("session_id: no session {s:?}")));
            }
            Err(e) => return Err(e),
        }
    }
    panels::add_card(deps, caller, panel, input).await
}
