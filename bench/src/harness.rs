//! The product in this process, with an account, an admin and a WhatsApp channel.

use atende_core::accounts::provisioning::{NewAccount, create_account};
use atende_core::accounts::{Caller, Profile};
use atende_core::conversations::ChannelKind;
use atende_core::conversations::channels::{self, NewChannel};
use atende_core::secret::Secret;
use atende_local::serve::{Running, start_with};
use atende_runtime::AppContext;
use atende_runtime::context::Embedded;
use atende_runtime::settings::LocalSettings;
use atende_testkit::fake_graph::FakeGraph;
use serde_json::{Value, json};
use std::time::Duration;

pub const SECRET: &str = "bench-app-secret";
pub const PHONE_ID: &str = "1122334455667";
/// The channel's WhatsApp Business Account (template statuses arrive for it).
pub const WABA_ID: &str = "998877665544";

pub struct Product {
    pub running: Running,
    pub base: String,
    pub admin: Caller,
    pub token: String,
    pub graph: FakeGraph,
    /// The embedded queue, for its depths.
    pub queue: atende_embedded::SqliteQueue,
    _dir: tempfile::TempDir,
}

pub fn settings(dir: &std::path::Path, graph: &FakeGraph) -> LocalSettings {
    LocalSettings {
        // No timers in these scenarios; a slow tick keeps its reads out of the counts.
        tick_interval: Duration::from_secs(3600),
        graph_url: graph.base_url.clone(),
        graph_timeout: Duration::from_secs(5),
        meta_app_secret: Some(Secret::new(SECRET)),
        // The scenarios measure the product, one account at full speed: no request limit.
        limits: atende_core::limits::ApiLimits::none(),
        ..LocalSettings::in_dir(dir)
    }
}

/// Starts the product; `prepare` may wrap the context's ports before anything runs.
pub async fn start(
    rate: u32,
    prepare: impl FnOnce(AppContext, Embedded) -> (AppContext, Embedded),
) -> anyhow::Result<Product> {
    start_tuned(rate, None, prepare).await
}

/// [`start`], with `pollers` consumer loops per queue instead of the default (0: the
/// webhook function alone, nothing consuming behind it).
pub async fn start_tuned(
    rate: u32,
    pollers: Option<usize>,
    prepare: impl FnOnce(AppContext, Embedded) -> (AppContext, Embedded),
) -> anyhow::Result<Product> {
    start_configured(
        rate,
        |settings| {
            if let Some(pollers) = pollers {
                settings.pollers_per_queue = pollers;
            }
        },
        prepare,
    )
    .await
}

/// [`start`], with `tune` changing the settings first (providers, pollers).
pub async fn start_configured(
    rate: u32,
    tune: impl FnOnce(&mut LocalSettings),
    prepare: impl FnOnce(AppContext, Embedded) -> (AppContext, Embedded),
) -> anyhow::Result<Product> {
    let dir = tempfile::tempdir()?;
    let graph = FakeGraph::start().await;
    let mut settings = settings(dir.path(), &graph);
    tune(&mut settings);
    let (ctx, embedded) =
        AppContext::embedded(&settings, std::sync::Arc::new(atende_core::ports::SystemClock))?;
    let (ctx, embedded) = prepare(ctx, embedded);
    let created = create_account(
        &ctx.deps,
        NewAccount {
            name: "Bench".into(),
            admin_email: "bench@atende.example".into(),
            admin_password: Secret::new("bench password"),
            admin_name: None,
        },
    )
    .await?;
    let admin = Caller {
        account_id: created.account.id.clone(),
        user_id: created.admin.id.clone(),
        profile: Profile::Admin,
        source: None,
    };
    channels::create(
        &ctx.deps,
        &admin,
        NewChannel {
            kind: ChannelKind::WhatsappCloud,
            name: "Bench".into(),
            phone_number_id: Some(PHONE_ID.into()),
            page_id: None,
            bot_token: None,
            webhook_base_url: None,
            waba_id: Some(WABA_ID.into()),
            app_id: None,
            access_token: Some(Secret::new("bench-token")),
            app_secret: None,
            verify_token: None,
            agents_can_start: true,
            rate_limit_per_second: Some(rate),
        },
    )
    .await?;
    let (token, _) = ctx.auth.issue(&created.admin).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let queue = embedded.queue.clone();
    let running = start_with(&settings, ctx, embedded).await?;
    let base = format!("http://{}", running.addr);
    Ok(Product { running, base, admin, token, graph, queue, _dir: dir })
}

/// A signed Meta webhook body with one message from `wa_id`: `kind` (`text`, `audio`) and
/// its object.
fn message(wamid: &str, wa_id: &str, kind: &str, content: Value) -> (String, String) {
    let payload: Value = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": chrono::Utc::now().timestamp().to_string(), "type": kind, kind: content}]}}]}]});
    let body = payload.to_string();
    let sig = atende_providers::whatsapp::signature::sign(SECRET.as_bytes(), body.as_bytes());
    (body, sig)
}

/// A signed Meta webhook body with one text message from `wa_id`.
pub fn text(wamid: &str, wa_id: &str, body: &str) -> (String, String) {
    message(wamid, wa_id, "text", json!({"body": body}))
}

/// A signed Meta webhook body with one voice note (media `media_id`) from `wa_id`.
pub fn voice(wamid: &str, wa_id: &str, media_id: &str) -> (String, String) {
    message(
        wamid,
        wa_id,
        "audio",
        json!({"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": true}),
    )
}

/// A signed status webhook.
pub fn status(wamid: &str, wa_id: &str, status: &str) -> (String, String) {
    let payload: Value = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": PHONE_ID},
        "statuses": [{"id": wamid, "status": status, "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": wa_id}]}}]}]});
    let body = payload.to_string();
    let sig = atende_providers::whatsapp::signature::sign(SECRET.as_bytes(), body.as_bytes());
    (body, sig)
}

pub fn wa(n: usize) -> String {
    format!("5511{:09}", 900_000_000 + n)
}
