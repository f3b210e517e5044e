//! `atende simulate`: a person plays the customer of a channel, locally.

use anyhow::Context;
use atende_providers::whatsapp::signature;
use atende_runtime::context::local_meta_secret;
use atende_runtime::settings::LocalSettings;
use clap::Args;
use serde_json::json;

#[derive(Args)]
pub struct Simulate {
    /// The channel's id (a sandbox channel, usually).
    #[arg(long)]
    channel: String,
    /// The customer's phone number, e.g. +5511987654321.
    #[arg(long)]
    from: String,
    /// The customer's WhatsApp profile name.
    #[arg(long, default_value = "Customer")]
    name: String,
    /// The server to post to (default: http://ATENDE_ADDR).
    #[arg(long)]
    url: Option<String>,
    /// What the customer writes.
    text: String,
}

pub async fn run(settings: LocalSettings, args: Simulate) -> anyhow::Result<()> {
    let secret = local_meta_secret(&settings)?;
    let wa_id: String = args.from.chars().filter(char::is_ascii_digit).collect();
    anyhow::ensure!(wa_id.len() >= 8, "--from needs a phone number");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "sandbox",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "sandbox", "phone_number_id": format!("sandbox-{}", args.channel)},
                    "contacts": [{"profile": {"name": args.name}, "wa_id": wa_id}],
                    "messages": [{
                        "from": wa_id,
                        "id": format!("wamid.sim.{}.{}", now.as_secs(), now.subsec_nanos()),
                        "timestamp": now.as_secs().to_string(),
                        "type": "text",
                        "text": {"body": args.text}
                    }]
                }
            }]
        }]
    })
    .to_string();
    let base = args.url.unwrap_or_else(|| format!("http://{}", settings.addr));
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp/{}", args.channel))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature::sign(secret.expose().as_bytes(), body.as_bytes()))
        .body(body)
        .send()
        .await
        .with_context(|| format!("posting to {base} (is `atende serve` running?)"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "the server answered {status}: {text}");
    println!("delivered to channel {} as {}", args.channel, args.from);
    Ok(())
}
