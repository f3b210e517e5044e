//! The [`AppContext`]: the domain's ports plus authentication, built for AWS or embedded.

use crate::jwt::Auth;
use crate::settings::{
    AwsSettings, AwsStorage, LocalAws, LocalSettings, MetaSettings, ProviderSettings, queue_url_var,
};
use anyhow::Context;
use atende_aws::kms::KmsKeys;
use atende_aws::{AwsConnection, Clients, DynamoTable, S3Blob, SqsQueue, provision};
use atende_core::Deps;
use atende_core::ports::{Clock, QueueSpec, SystemClock, UlidIds};
use atende_core::secret::Secret;
#[cfg(feature = "embedded")]
use atende_embedded::{FsBlob, SqliteQueue, SqliteTable};
use rand::RngCore;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppContext {
    pub deps: Deps,
    pub auth: Arc<Auth>,
    pub meta: Arc<MetaSettings>,
    /// The WebSocket endpoint of live updates (`wss://...`), when the deployment has one
    /// (`ATENDE_LIVE_SOCKET_URL` on AWS; locally the SSE stream serves them).
    pub live_socket_url: Option<Arc<str>>,
}

/// The messaging providers: the Graph API client (WhatsApp, and Messenger's and
/// Instagram's Send API), the Bot API and the sandbox.
fn providers(
    cloud: Arc<atende_providers::whatsapp::CloudApi>,
    telegram: atende_providers::telegram::client::BotApi,
    queue: Arc<dyn atende_core::ports::Queue>,
    ids: Arc<dyn atende_core::ports::Ids>,
    clock: Arc<dyn Clock>,
) -> Arc<dyn atende_core::ports::Messaging> {
    Arc::new(atende_providers::ProviderRouter {
        direct: Arc::new(atende_providers::meta_direct::client::DirectApi { graph: cloud.clone() }),
        cloud,
        telegram: Arc::new(telegram),
        sandbox: Arc::new(atende_providers::sandbox::Sandbox { queue, ids, clock }),
    })
}

/// The local deployment app's secret: from the settings or derived from the data
/// directory's key (so `atende simulate` can sign like Meta would).
pub fn local_meta_secret(settings: &LocalSettings) -> anyhow::Result<Secret> {
    if let Some(s) = &settings.meta_app_secret {
        return Ok(s.clone());
    }
    Ok(meta_app_secret(settings, &local_secret(&settings.data_dir)?))
}

fn meta_app_secret(settings: &LocalSettings, key: &Secret) -> Secret {
    settings
        .meta_app_secret
        .clone()
        .unwrap_or_else(|| Secret::new(hex::encode(hmac_subkey(key, b"meta-app-secret"))))
}

/// Where the Graph API is and how long a call may take, and the other providers.
struct Graph<'a> {
    url: &'a str,
    version: &'a str,
    timeout: std::time::Duration,
    /// Internal targets user-given URLs may reach anyway (local development only).
    http_allow: Vec<std::net::SocketAddr>,
    providers: &'a ProviderSettings,
    limits: atende_core::limits::ApiLimits,
}

impl<'a> Graph<'a> {
    fn of(settings: &'a LocalSettings) -> Self {
        Self {
            url: &settings.graph_url,
            version: &settings.graph_version,
            timeout: settings.graph_timeout,
            http_allow: settings.http_allow.clone(),
            providers: &settings.providers,
            limits: settings.limits,
        }
    }
}

/// The domain's ports on the given storage, with the messaging providers and the features'
/// reactions.
fn assemble(
    table: Arc<dyn atende_core::ports::Table>,
    queue: Arc<dyn atende_core::ports::Queue>,
    blob: Arc<dyn atende_core::ports::Blob>,
    graph: Graph<'_>,
    clock: Arc<dyn Clock>,
    sealer: Arc<dyn atende_core::ports::Sealer>,
    limiter: Arc<dyn atende_core::ports::RateLimiter>,
) -> Deps {
    let ids: Arc<dyn atende_core::ports::Ids> = Arc::new(UlidIds::new(clock.clone()));
    // One Graph API client (one connection pool) sends messages and keeps templates.
    let cloud = Arc::new(atende_providers::whatsapp::CloudApi::new(graph.url, graph.version, graph.timeout));
    Deps {
        messaging: providers(
            cloud.clone(),
            atende_providers::telegram::client::BotApi::new(&graph.providers.telegram_url, graph.timeout),
            queue.clone(),
            ids.clone(),
            clock.clone(),
        ),
        templates: cloud,
        payments: Arc::new(atende_providers::asaas::Asaas::new(
            &graph.providers.asaas_production_url,
            &graph.providers.asaas_sandbox_url,
            graph.providers.asaas_timeout,
        )),
        transcriber: Arc::new(atende_providers::transcription::OpenAiTranscriber::new(
            graph.providers.transcription_url.as_deref(),
            graph.providers.transcription_key.clone(),
            &graph.providers.transcription_model,
            graph.providers.transcription_timeout,
        )),
        http: Arc::new(atende_providers::outbound_http::GuardedHttp::new(graph.http_allow.clone())),
        webhooks: Arc::new(atende_providers::standard_webhooks::StandardWebhooks::new(
            atende_providers::outbound_http::GuardedHttp::new(graph.http_allow),
        )),
        sealer,
        limiter,
        limits: graph.limits,
        table,
        queue,
        blob,
        clock,
        ids,
        reactions: Arc::new(atende_core::features::reactions()),
        config: Arc::default(),
    }
}

#[cfg(feature = "embedded")]
/// The embedded adapters' concrete handles, for what only the local runtime does with them
/// (serving presigned blob links, sweeping expired items, running consumers).
#[derive(Clone)]
pub struct Embedded {
    pub table: SqliteTable,
    pub queue: SqliteQueue,
    pub blob: FsBlob,
}

impl AppContext {
    /// Everything under `settings.data_dir`: `table.db`, `queue.db`, `blobs/`, `secret.key`.
    #[cfg(feature = "embedded")]
    pub fn embedded(settings: &LocalSettings, clock: Arc<dyn Clock>) -> anyhow::Result<(Self, Embedded)> {
        let dir = &settings.data_dir;
        let key = local_secret(dir)?;
        let ids = Arc::new(UlidIds::new(clock.clone()));
        let table = SqliteTable::open(&dir.join("table.db"), clock.clone())?;
        let queue =
            SqliteQueue::open(&dir.join("queue.db"), atende_core::queues::all(), clock.clone(), ids.clone())?;
        let blob_key = hmac_subkey(&key, b"blob-links");
        let blob = FsBlob::open(&dir.join("blobs"), &settings.public_url, blob_key, clock.clone())?;
        let graph = Graph::of(settings);
        let deps = assemble(
            Arc::new(table.clone()),
            Arc::new(queue.clone()),
            Arc::new(blob.clone()),
            graph,
            clock,
            local_sealer(&key),
            Arc::new(crate::limits::MemoryLimiter::default()),
        );
        let ctx = Self::local(settings, &key, deps);
        Ok((ctx, Embedded { table, queue, blob }))
    }

    /// The local runtime on the AWS adapters (`atende serve --aws`): the table, queues and
    /// bucket named by `aws` on its endpoint, created when missing; keys from the data
    /// directory as [`AppContext::embedded`]. Also returns each queue's URL and spec.
    pub async fn local_on_aws(
        settings: &LocalSettings,
        aws: &LocalAws,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<(Self, HashMap<String, (String, QueueSpec)>)> {
        let key = local_secret(&settings.data_dir)?;
        let clients = Clients::connect(&AwsConnection {
            endpoint: Some(aws.endpoint.clone()),
            region: Some(aws.region.clone()),
            dummy_credentials: aws.dummy_credentials,
            lambda_environment: false,
        })
        .await;
        let queues = provision::ensure_all(&clients, &aws.names, &atende_core::queues::all())
            .await
            .with_context(|| format!("preparing the table, queues and bucket on {}", aws.endpoint))?;
        let table: Arc<dyn atende_core::ports::Table> =
            Arc::new(DynamoTable::new(clients.dynamodb.clone(), &aws.names.table, clock.clone()));
        let deps = assemble(
            table.clone(),
            Arc::new(SqsQueue::new(clients.sqs.clone(), queues.clone())),
            Arc::new(S3Blob::new(clients.s3.clone(), &aws.names.bucket)),
            Graph::of(settings),
            clock,
            local_sealer(&key),
            Arc::new(crate::limits::TableLimiter::new(table)),
        );
        Ok((Self::local(settings, &key, deps), queues))
    }

    /// Authentication and Meta settings of the local runtime, from its settings or derived
    /// from the data directory's key.
    fn local(settings: &LocalSettings, key: &Secret, deps: Deps) -> Self {
        let jwt_secret = match &settings.jwt_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => hmac_subkey(key, b"jwt"),
        };
        let meta = Arc::new(MetaSettings {
            graph_url: settings.graph_url.clone(),
            graph_version: settings.graph_version.clone(),
            app_secret: meta_app_secret(settings, key),
            verify_token: match &settings.meta_verify_token {
                Some(t) => t.clone(),
                None => Secret::new(hex::encode(hmac_subkey(key, b"meta-verify-token"))),
            },
        });
        let auth = Arc::new(Auth::new(&jwt_secret, settings.session_ttl, deps.clock.clone()));
        Self { deps, auth, meta, live_socket_url: None }
    }

    /// The AWS adapters, configured from the function's environment.
    pub async fn aws(settings: &AwsSettings) -> anyhow::Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let deps = aws_deps(
            &settings.storage,
            &settings.meta.graph_url,
            &settings.meta.graph_version,
            &settings.providers,
            settings.limits,
            clock.clone(),
            &settings.auth.jwt_secret,
        )
        .await?;
        let auth = Arc::new(Auth::new(
            settings.auth.jwt_secret.expose().as_bytes(),
            settings.auth.session_ttl,
            clock,
        ));
        Ok(Self {
            deps,
            auth,
            meta: Arc::new(settings.meta.clone()),
            live_socket_url: settings.live_socket_url.as_deref().map(Arc::from),
        })
    }
}

/// The ports on DynamoDB, SQS and S3; stored secrets sealed with a key derived from
/// `master` (the deployment's JWT secret until a KMS data key replaces it).
pub async fn aws_deps(
    storage: &AwsStorage,
    graph_url: &str,
    graph_version: &str,
    providers: &ProviderSettings,
    limits: atende_core::limits::ApiLimits,
    clock: Arc<dyn Clock>,
    master: &Secret,
) -> anyhow::Result<Deps> {
    let clients = Clients::connect(&AwsConnection {
        endpoint: storage.aws_endpoint.clone(),
        region: None,
        dummy_credentials: false,
        lambda_environment: true,
    })
    .await;
    let specs: HashMap<String, _> =
        atende_core::queues::all().into_iter().map(|s| (s.name.clone(), s)).collect();
    let mut queues = HashMap::new();
    for (name, url) in &storage.queue_urls {
        let spec = specs
            .get(name)
            .cloned()
            .with_context(|| format!("{} names no known queue", queue_url_var(name)))?;
        queues.insert(name.clone(), (url.clone(), spec));
    }
    let table: Arc<dyn atende_core::ports::Table> =
        Arc::new(DynamoTable::new(clients.dynamodb.clone(), &storage.table_name, clock.clone()));
    // The data key is had from KMS on the first secret sealed or opened, not at every cold
    // start: only the functions that use secrets call KMS (and may).
    let sealer: Arc<dyn atende_core::ports::Sealer> = match &storage.kms_key_id {
        Some(key_id) => {
            Arc::new(crate::seal::KmsSealer::new(table.clone(), KmsKeys::new(clients.kms.clone(), key_id)))
        }
        None => local_sealer(master),
    };
    Ok(assemble(
        table.clone(),
        Arc::new(SqsQueue::new(clients.sqs.clone(), queues)),
        Arc::new(S3Blob::new(clients.s3.clone(), &storage.media_bucket)),
        Graph {
            url: graph_url,
            version: graph_version,
            timeout: std::time::Duration::from_secs(10),
            http_allow: Vec::new(),
            providers,
            limits,
        },
        clock,
        sealer,
        // Shared by every instance of the deployment.
        Arc::new(crate::limits::TableLimiter::new(table)),
    ))
}

/// The local runtime's master secret: generated once, kept in `<data dir>/secret.key`
/// (mode 0600), so sessions and blob links survive restarts.
fn local_secret(dir: &Path) -> anyhow::Result<Secret> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating the data directory {}", dir.display()))?;
    let path = dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let trimmed = existing.trim();
        if trimmed.len() >= 32 {
            return Ok(Secret::new(trimmed));
        }
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = hex::encode(raw);
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(Secret::new(secret))
}

/// The sealer of stored secrets under a key derived from the master secret.
fn local_sealer(master: &Secret) -> Arc<dyn atende_core::ports::Sealer> {
    let mut key = [0u8; 32];
    key.copy_from_slice(&hmac_subkey(master, b"secrets-at-rest")[..32]);
    Arc::new(crate::seal::AesGcmSealer::new(&key))
}

/// A separate key per purpose, derived from the master secret.
fn hmac_subkey(master: &Secret, purpose: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(master.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().to_vec()
}
