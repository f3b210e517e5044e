//! Creating an account with its first admin and its default team, all or nothing.

use super::model::{Account, Membership, Profile, Team, User, Visibility};
use super::teams::{membership_write, team_writes};
use super::users::{NewUser, clean_name, email_taken, new_user_writes};
use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::keys;
use crate::ports::{Condition, TransactItem};
use crate::record::to_item;
use crate::secret::Secret;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub admin_email: String,
    pub admin_password: Secret,
    pub admin_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvisionedAccount {
    pub account: Account,
    pub admin: User,
    pub default_team: Team,
}

pub async fn create_account(deps: &Deps, input: NewAccount) -> ServiceResult<ProvisionedAccount> {
    let now = deps.clock.now();
    let account_id = deps.ids.new_id();
    let team = Team {
        id: deps.ids.new_id(),
        account_id: account_id.clone(),
        name: "Default".into(),
        visibility: Visibility::All,
        distribution: Default::default(),
        is_default: true,
        created_at: now,
        version: 1,
    };
    let account = Account {
        id: account_id.clone(),
        name: clean_name(&input.name)?,
        default_team_id: team.id.clone(),
        send_delay_seconds: 0,
        transcription_enabled: false,
        created_at: now,
        version: 1,
    };
    let admin_name =
        input.admin_name.unwrap_or_else(|| input.admin_email.split('@').next().unwrap_or("Admin").to_owned());
    let (admin, user_writes) = new_user_writes(
        deps,
        &account_id,
        NewUser {
            email: input.admin_email,
            password: input.admin_password,
            name: admin_name,
            display_name: None,
            profile: Profile::Admin,
            available: true,
        },
    )?;
    let membership = Membership {
        team_id: team.id.clone(),
        user_id: admin.id.clone(),
        member: true,
        supervisor: true,
        joined_at: now,
    };
    let mut writes = user_writes; // [user, email marker]
    writes.push(TransactItem::Put {
        item: to_item(&keys::account(&account_id), &account)?,
        condition: Some(Condition::NotExists),
    });
    writes.push(team_writes(&team)?);
    writes.push(membership_write(&account_id, &membership));
    deps.table.transact(writes).await.map_err(|e| email_taken(e, 1))?;
    Ok(ProvisionedAccount { account, admin, default_team: team })
}
