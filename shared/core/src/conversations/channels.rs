//! Channels: connected numbers. Secrets are write-only: stored in `secret_*` attributes
//! beside the record, never part of what is returned.

use super::kinds::{self, Credentials, IdField};
use super::model::{Channel, ChannelKind};
use crate::accounts::Caller;
use crate::accounts::users::clean_name;
use crate::audit;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{ChannelAccess, Condition, Index, Item, Query, SortCondition, StoredSecret, TransactItem};
use crate::record::{concurrent, from_item, to_item};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const ACCESS_TOKEN: &str = "secret_access_token";
const APP_SECRET: &str = "secret_app_secret";
const VERIFY_TOKEN: &str = "secret_verify_token";
const WEBHOOK_SECRET: &str = "secret_webhook_secret";
/// The highest throughput a channel may ask for (Meta's upgraded tier).
pub const MAX_RATE: u32 = 1000;

fn valid_rate(rate: u32) -> ServiceResult<u32> {
    if (1..=MAX_RATE).contains(&rate) {
        Ok(rate)
    } else {
        Err(ServiceError::invalid(format!("rate_limit_per_second is 1 to {MAX_RATE}")))
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: String,
    /// Required for `whatsapp_cloud`.
    pub phone_number_id: Option<String>,
    /// Required for `messenger` (the Facebook Page's id) and `instagram` (the Instagram
    /// professional account's id).
    #[serde(default)]
    pub page_id: Option<String>,
    /// Required for `telegram`: the token BotFather gave (`<bot id>:<secret>`).
    #[serde(default)]
    pub bot_token: Option<Secret>,
    /// `telegram`: the public `https://` address atende is served at; atende then calls
    /// Telegram's `setWebhook` with `<it>/webhooks/telegram/<channel id>` and the channel's
    /// own secret token. Without it the channel is created unconnected.
    #[serde(default)]
    pub webhook_base_url: Option<String>,
    pub waba_id: Option<String>,
    /// The Meta app's id (to upload template header examples).
    #[serde(default)]
    pub app_id: Option<String>,
    /// Required for `whatsapp_cloud`, `messenger` and `instagram` (the Page's token).
    pub access_token: Option<Secret>,
    /// Only when the channel brings its own Meta app.
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    #[serde(default)]
    pub agents_can_start: bool,
    /// Messages per second to the provider (1–1000; default: the kind's, 80 for Meta's
    /// channels, 30 for a Telegram bot).
    #[schema(minimum = 1, maximum = 1000)]
    pub rate_limit_per_second: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub agents_can_start: Option<bool>,
    pub access_token: Option<Secret>,
    /// The Meta app's id; an empty text removes it.
    pub app_id: Option<String>,
    /// 1–1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub rate_limit_per_second: Option<u32>,
    /// `telegram`: (re)connects the bot to `<it>/webhooks/telegram/<channel id>` with the
    /// channel's secret token (`setWebhook`), e.g. after the address changed.
    #[serde(default)]
    pub webhook_base_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelList {
    pub items: Vec<Channel>,
}

/// A channel with what the webhook and the providers need (never leaves the server). The
/// secrets stay sealed until one is used, so reading a channel needs no key.
#[derive(Debug, Clone)]
pub struct ChannelWithSecrets {
    pub channel: Channel,
    pub access_token: StoredSecret,
    pub app_secret: Option<StoredSecret>,
    pub verify_token: Option<StoredSecret>,
    /// The secret token the provider sends back with each delivery (Telegram's).
    pub webhook_secret: Option<StoredSecret>,
}

impl ChannelWithSecrets {
    /// What the provider needs to send on the channel (its token opened).
    pub async fn access(&self, deps: &Deps) -> ServiceResult<ChannelAccess> {
        Ok(ChannelAccess {
            channel_id: self.channel.id.clone(),
            kind: self.channel.kind,
            phone_number_id: self.channel.phone_number_id.clone(),
            access_token: self.access_token.open(deps.sealer.as_ref()).await?,
        })
    }

    /// The channel's own Meta app secret, when it has one, opened.
    pub async fn app_secret(&self, deps: &Deps) -> ServiceResult<Option<Secret>> {
        open_optional(deps, self.app_secret.as_ref()).await
    }

    /// The secret token deliveries for the channel carry, when its provider sends one.
    pub async fn webhook_secret(&self, deps: &Deps) -> ServiceResult<Option<Secret>> {
        open_optional(deps, self.webhook_secret.as_ref()).await
    }

    /// The channel's own webhook verify token, when it has one, opened.
    pub async fn verify_token(&self, deps: &Deps) -> ServiceResult<Option<Secret>> {
        open_optional(deps, self.verify_token.as_ref()).await
    }
}

async fn open_optional(deps: &Deps, secret: Option<&StoredSecret>) -> ServiceResult<Option<Secret>> {
    match secret {
        Some(s) => Ok(Some(s.open(deps.sealer.as_ref()).await?)),
        None => Ok(None),
    }
}

fn pointer(key: crate::ports::Key, account: &str, channel: &str) -> Item {
    Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("account_id".to_owned(), attr::s(account)),
        ("channel_id".to_owned(), attr::s(channel)),
    ])
}

/// The channel's record with its secrets sealed beside it (one already sealed is kept as
/// it is: rewriting a channel opens nothing).
async fn with_secrets(deps: &Deps, channel: &Channel, secrets: Secrets<'_>) -> ServiceResult<Item> {
    let Secrets { token, app, verify, webhook } = secrets;
    let mut item = to_item(&keys::channel(&channel.account_id, &channel.id), channel)?;
    let sealer = deps.sealer.as_ref();
    item.insert(ACCESS_TOKEN.into(), attr::s(token.to_stored(sealer).await?));
    if let Some(s) = app {
        item.insert(APP_SECRET.into(), attr::s(s.to_stored(sealer).await?));
    }
    if let Some(s) = verify {
        item.insert(VERIFY_TOKEN.into(), attr::s(s.to_stored(sealer).await?));
    }
    if let Some(s) = webhook {
        item.insert(WEBHOOK_SECRET.into(), attr::s(s.to_stored(sealer).await?));
    }
    Ok(item)
}

/// A channel's secrets, as [`with_secrets`] writes them.
struct Secrets<'a> {
    token: &'a StoredSecret,
    app: Option<&'a StoredSecret>,
    verify: Option<&'a StoredSecret>,
    webhook: Option<&'a StoredSecret>,
}

impl<'a> Secrets<'a> {
    fn of(c: &'a ChannelWithSecrets) -> Self {
        Self {
            token: &c.access_token,
            app: c.app_secret.as_ref(),
            verify: c.verify_token.as_ref(),
            webhook: c.webhook_secret.as_ref(),
        }
    }
}

/// A channel item's record and its secrets as stored (one stored before sealing existed is
/// read as it is, and sealed at the channel's next write).
fn split(item: Item) -> ServiceResult<ChannelWithSecrets> {
    let secret = |name: &str| attr::get_s(&item, name).map(|v| StoredSecret::from_stored(v.to_owned()));
    let (access_token, app_secret, verify_token, webhook_secret) = (
        secret(ACCESS_TOKEN).unwrap_or_else(|| StoredSecret::Plain(Secret::new(""))),
        secret(APP_SECRET),
        secret(VERIFY_TOKEN),
        secret(WEBHOOK_SECRET),
    );
    Ok(ChannelWithSecrets {
        channel: from_item(item)?,
        access_token,
        app_secret,
        verify_token,
        webhook_secret,
    })
}

/// A channel with its secrets, through the configuration cache (at most
/// [`crate::cache::CONFIG_TTL`] old when another process changed it).
pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<ChannelWithSecrets> {
    found(deps.configuration(&keys::channel(account, id)).await?)
}

/// The same, read fresh: for changing it (the write is conditional on its version).
async fn load_fresh(deps: &Deps, account: &str, id: &str) -> ServiceResult<ChannelWithSecrets> {
    found(deps.table.get(&keys::channel(account, id)).await?)
}

fn found(item: Option<Item>) -> ServiceResult<ChannelWithSecrets> {
    item.map_or(Err(ServiceError::NotFound("channel")), split)
}

/// This process wrote these channel items: drop their cached reads.
fn forget(deps: &Deps, keys: &[crate::ports::Key]) {
    for key in keys {
        deps.config.forget(key);
    }
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewChannel) -> ServiceResult<Channel> {
    caller.require_admin()?;
    let id = deps.ids.new_id();
    let (phone_number_id, token, generated_secret) = credentials(&input, &id)?;
    let rate = valid_rate(input.rate_limit_per_second.unwrap_or(kinds::default_rate(input.kind)))?;
    let channel = Channel {
        id: id.clone(),
        account_id: caller.account_id.clone(),
        kind: input.kind,
        name: clean_name(&input.name)?,
        phone_number_id: phone_number_id.clone(),
        waba_id: input.waba_id.filter(|w| !w.trim().is_empty()),
        app_id: input.app_id.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()),
        active: true,
        agents_can_start: input.agents_can_start,
        has_own_app: input.app_secret.is_some(),
        rate_limit_per_second: rate,
        removed_at: None,
        created_at: deps.clock.now(),
        version: 1,
    };
    // Connected first: a refusal leaves nothing written, and a delivery that arrives
    // before the record is answered 404 and retried by the provider.
    if let (Some(secret), Some(base)) = (&generated_secret, &input.webhook_base_url) {
        connect(deps, &channel, &token, secret, base).await?;
    }
    let mut writes = vec![
        TransactItem::Put {
            item: with_secrets(
                deps,
                &channel,
                Secrets {
                    token: &StoredSecret::Plain(token),
                    app: input.app_secret.map(StoredSecret::Plain).as_ref(),
                    verify: input.verify_token.map(StoredSecret::Plain).as_ref(),
                    webhook: generated_secret.map(StoredSecret::Plain).as_ref(),
                },
            )
            .await?,
            condition: Some(Condition::NotExists),
        },
        TransactItem::Put {
            item: pointer(keys::phone_number_id(&phone_number_id), &caller.account_id, &id),
            condition: Some(Condition::NotExists),
        },
        TransactItem::Put { item: pointer(keys::channel_id(&id), &caller.account_id, &id), condition: None },
    ];
    if let Some(waba) = &channel.waba_id {
        writes.push(TransactItem::Put {
            item: pointer(keys::waba(waba), &caller.account_id, &id),
            condition: None,
        });
    }
    deps.table.transact(writes).await.map_err(|e| match e {
        crate::ports::TableError::TransactionConditionFailed { index: 1 } => {
            ServiceError::conflict("this phone number, page or bot is already connected to a channel")
        }
        other => concurrent(other),
    })?;
    // A webhook for this number may have been refused (and its absence cached) before.
    forget(
        deps,
        &[
            keys::channel(&caller.account_id, &id),
            keys::phone_number_id(&phone_number_id),
            keys::channel_id(&id),
        ],
    );
    let detail = serde_json::json!({"kind": channel.kind, "name": channel.name});
    audit::record(deps, caller, "channel.created", Some(&channel.id), detail).await?;
    Ok(channel)
}

/// The provider's id, the token and (for a bot) the webhook secret token of a new channel,
/// as its kind needs them (see [`kinds::credentials`]).
fn credentials(input: &NewChannel, id: &str) -> ServiceResult<(String, Secret, Option<Secret>)> {
    let kind = input.kind.as_str();
    fn numeric(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    }
    let token = || {
        input
            .access_token
            .clone()
            .filter(|t| !t.expose().trim().is_empty())
            .ok_or_else(|| ServiceError::invalid(format!("a {kind} channel needs an access_token")))
    };
    match kinds::credentials(input.kind) {
        Credentials::None => Ok((format!("sandbox-{id}"), Secret::new("sandbox"), None)),
        Credentials::IdAndToken(field) => {
            let given = match field {
                IdField::PhoneNumberId => &input.phone_number_id,
                IdField::PageId => &input.page_id,
            };
            let provider_id = numeric(given).ok_or_else(|| {
                ServiceError::invalid(format!("a {kind} channel needs its numeric {}", field.name()))
            })?;
            Ok((provider_id.to_owned(), token()?, None))
        }
        Credentials::BotToken => {
            let bot = input.bot_token.clone().unwrap_or_else(|| Secret::new(""));
            let bot_id = bot
                .expose()
                .split_once(':')
                .filter(|(id, rest)| {
                    !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty()
                })
                .map(|(id, _)| id.to_owned())
                .ok_or_else(|| {
                    ServiceError::invalid(format!("a {kind} channel needs its bot_token (<bot id>:<secret>)"))
                })?;
            Ok((bot_id, bot, Some(webhook_secret())))
        }
    }
}

/// A secret token for a provider to send back with each delivery: 48 characters of
/// `A-Za-z0-9` (Telegram takes 1–256 of `A-Za-z0-9_-`).
fn webhook_secret() -> Secret {
    use rand::Rng;
    let text: String =
        rand::rngs::OsRng.sample_iter(&rand::distributions::Alphanumeric).take(48).map(char::from).collect();
    Secret::new(text)
}

/// Points the provider's deliveries for `channel` at this deployment (Telegram's
/// `setWebhook`). A refusal is the caller's to fix (a wrong token or address): 422.
async fn connect(
    deps: &Deps,
    channel: &Channel,
    token: &Secret,
    secret: &Secret,
    base: &str,
) -> ServiceResult<()> {
    let base = base.trim().trim_end_matches('/');
    if !base.starts_with("https://") {
        return Err(ServiceError::invalid("webhook_base_url must be an https:// address"));
    }
    let access = ChannelAccess {
        channel_id: channel.id.clone(),
        kind: channel.kind,
        phone_number_id: channel.phone_number_id.clone(),
        access_token: token.clone(),
    };
    let url = format!("{base}/webhooks/{}/{}", channel.kind.as_str(), channel.id);
    deps.messaging.connect(&access, &url, secret).await.map_err(|e| match e {
        crate::ports::ProviderError::Refused(reason) => ServiceError::invalid(reason),
        other => ServiceError::Provider(other),
    })
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<ChannelList> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
            .sort(SortCondition::BeginsWith(keys::CHANNEL_PREFIX.into()))
            .after(cursor);
        let page = deps.table.query(q).await?;
        for item in page.items {
            let channel = split(item)?.channel;
            if channel.removed_at.is_none() {
                items.push(channel);
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(ChannelList { items })
}

/// A channel of the account; a removed one is gone from the API (as from the list), its
/// sessions stay readable.
pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Channel> {
    let channel = load(deps, &caller.account_id, id).await?.channel;
    if channel.removed_at.is_some() {
        return Err(ServiceError::NotFound("channel"));
    }
    Ok(channel)
}

pub async fn update(deps: &Deps, caller: &Caller, id: &str, patch: ChannelPatch) -> ServiceResult<Channel> {
    caller.require_admin()?;
    let mut full = load_fresh(deps, &caller.account_id, id).await?;
    if full.channel.removed_at.is_some() {
        return Err(ServiceError::NotFound("channel"));
    }
    let c = &mut full.channel;
    if let Some(name) = patch.name {
        c.name = clean_name(&name)?;
    }
    if let Some(active) = patch.active {
        c.active = active;
    }
    if let Some(app) = patch.app_id {
        c.app_id = Some(app.trim().to_owned()).filter(|a| !a.is_empty());
    }
    if let Some(v) = patch.agents_can_start {
        c.agents_can_start = v;
    }
    if let Some(rate) = patch.rate_limit_per_second {
        c.rate_limit_per_second = valid_rate(rate)?;
    }
    let token_changed = patch.access_token.is_some();
    if let Some(token) = patch.access_token {
        full.access_token = StoredSecret::Plain(token);
    }
    if let Some(base) = &patch.webhook_base_url {
        let secret = full.webhook_secret(deps).await?.ok_or_else(|| {
            ServiceError::invalid("this channel's provider is connected in its own console")
        })?;
        let token = full.access_token.open(deps.sealer.as_ref()).await?;
        connect(deps, &full.channel, &token, &secret, base).await?;
    }
    let read = full.channel.version;
    full.channel.version += 1;
    let item = with_secrets(deps, &full.channel, Secrets::of(&full)).await?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)?;
    forget(deps, &[keys::channel(&caller.account_id, id)]);
    let detail = serde_json::json!({"name": full.channel.name, "active": full.channel.active, "token_changed": token_changed});
    audit::record(deps, caller, "channel.updated", Some(id), detail).await?;
    Ok(full.channel)
}

/// Removes a channel for good: it stops receiving, sending on its sessions fails, its
/// sessions stay readable. Its phone-number id is freed for another channel.
pub async fn remove(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<()> {
    caller.require_admin()?;
    let mut full = load_fresh(deps, &caller.account_id, id).await?;
    if full.channel.removed_at.is_some() {
        return Err(ServiceError::NotFound("channel"));
    }
    let read = full.channel.version;
    full.channel.version += 1;
    full.channel.active = false;
    full.channel.removed_at = Some(deps.clock.now());
    let none =
        Secrets { token: &StoredSecret::Plain(Secret::new("")), app: None, verify: None, webhook: None };
    let item = with_secrets(deps, &full.channel, none).await?;
    deps.table
        .transact(vec![
            TransactItem::Put { item, condition: Some(Condition::version_is(read)) },
            TransactItem::Delete {
                key: keys::phone_number_id(&full.channel.phone_number_id),
                condition: Some(Condition::equals("channel_id", attr::s(id))),
            },
        ])
        .await
        .map_err(concurrent)?;
    forget(
        deps,
        &[keys::channel(&caller.account_id, id), keys::phone_number_id(&full.channel.phone_number_id)],
    );
    audit::record(deps, caller, "channel.deleted", Some(id), serde_json::json!({})).await
}

/// The (account, channel) a webhook belongs to, whatever the account.
pub async fn resolve(
    deps: &Deps,
    by: &super::events::ChannelRef,
) -> ServiceResult<Option<ChannelWithSecrets>> {
    let key = match by {
        super::events::ChannelRef::PhoneNumberId(p) => keys::phone_number_id(p),
        super::events::ChannelRef::Channel(c) => keys::channel_id(c),
    };
    let Some(pointer) = deps.configuration(&key).await? else { return Ok(None) };
    let (Some(account), Some(channel)) =
        (attr::get_s(&pointer, "account_id"), attr::get_s(&pointer, "channel_id"))
    else {
        return Ok(None);
    };
    match load(deps, account, channel).await {
        Ok(c) => Ok(Some(c)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The account of a WhatsApp Business Account.
pub async fn account_of_waba(deps: &Deps, waba: &str) -> ServiceResult<Option<(String, String)>> {
    Ok(deps.table.get(&keys::waba(waba)).await?.and_then(|p| {
        Some((attr::get_s(&p, "account_id")?.to_owned(), attr::get_s(&p, "channel_id")?.to_owned()))
    }))
}
