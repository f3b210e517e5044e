//! `atende admin ...`: one-off commands on the local data directory.

use anyhow::Context;
use atende_core::accounts::provisioning::{NewAccount, create_account};
use atende_core::ports::SystemClock;
use atende_core::secret::Secret;
use atende_runtime::AppContext;
use atende_runtime::context::aws_deps;
use atende_runtime::settings::{AwsStorage, Env, LocalSettings};
use clap::Subcommand;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account with its first admin and its default team; prints the account id.
    CreateAccount {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        /// Also read from ATENDE_ADMIN_PASSWORD, to keep it out of shell history.
        #[arg(long, env = "ATENDE_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
        #[arg(long)]
        admin_name: Option<String>,
        /// Create it in an AWS deployment (ATENDE_TABLE_NAME, ATENDE_MEDIA_BUCKET and the
        /// usual AWS credentials and region) instead of the local data directory.
        #[arg(long)]
        aws: bool,
    },
}

pub async fn run(settings: LocalSettings, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateAccount { name, admin_email, admin_password, admin_name, aws } => {
            let deps = if aws {
                let storage = AwsStorage::from_env(&Env::process())?;
                // Creating an account stores no sealed secret; the deployment's key is used
                // when it is set, as the functions would.
                let master = Secret::new(std::env::var("ATENDE_JWT_SECRET").unwrap_or_default());
                aws_deps(
                    &storage,
                    "https://graph.facebook.com",
                    "v23.0",
                    &settings.providers,
                    settings.limits,
                    Arc::new(SystemClock),
                    &master,
                )
                .await?
            } else {
                AppContext::embedded(&settings, Arc::new(SystemClock))?.0.deps
            };
            let created = create_account(
                &deps,
                NewAccount { name, admin_email, admin_password: Secret::new(admin_password), admin_name },
            )
            .await
            .context("the account was not created")?;
            println!("{}", created.account.id);
        }
    }
    Ok(())
}
