//! `atende`: the whole product on one machine, on embedded storage (or, with
//! `serve --aws`, on DynamoDB, SQS and S3 at one endpoint). Wiring only.

use atende_local::{admin, serve, simulate};

use atende_runtime::settings::{Env, LocalAws, LocalSettings};
use atende_runtime::telemetry;
use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "atende",
    version,
    about = "atende, the WhatsApp-first customer-service CRM, on one machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every HTTP router, run every queue consumer and the scheduler tick (default).
    Serve {
        /// Run on DynamoDB, SQS and S3 at ATENDE_AWS_ENDPOINT (e.g. moto) instead of the
        /// embedded storage; the table, bucket and queues are created when missing.
        #[arg(long)]
        aws: bool,
    },
    /// Play the customer: post a correctly signed, Meta-shaped webhook with a text message
    /// from `--from` to a channel of the running server.
    Simulate(simulate::Simulate),
    /// Administration of the local data directory.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Print the API's OpenAPI 3.1 document (what `GET /v1/openapi.json` serves).
    Openapi,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = || LocalSettings::from_env(&Env::process());
    match cli.command.unwrap_or(Command::Serve { aws: false }) {
        Command::Serve { aws } => {
            telemetry::init();
            let aws = if aws { Some(LocalAws::from_env(&Env::process())?) } else { None };
            serve::run(settings()?, aws).await
        }
        Command::Admin { command } => admin::run(settings()?, command).await,
        Command::Simulate(args) => simulate::run(settings()?, args).await,
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&atende_api::openapi_document())?);
            Ok(())
        }
    }
}
