//! The [`AppContext`]: the domain's ports plus authentication, built for AWS or embedded.

use crate::jwt::Auth;
use crate::settings::{AwsSettings, AwsStorage, LocalSettings, MetaSettings, queue_url_var};
use anyhow::Context;
use atende_aws::{AwsConnection, Clients, DynamoTable, S3Blob, SqsQueue};
use atende_core::Deps;
use atende_core::ports::{Clock, SystemClock, UlidIds};
use atende_core::secret::Secret;
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
}

/// The messaging providers: the Cloud API client and the sandbox.
pub fn providers(
    graph_url: &str,
    graph_version: &str,
    timeout: std::time::Duration,
    queue: Arc<dyn atende_core::ports::Queue>,
    ids: Arc<dyn atende_core::ports::Ids>,
    clock: Arc<dyn Clock>,
) -> Arc<dyn atende_core::ports::Messaging> {
    Arc::new(atende_providers::ProviderRouter {
        cloud: Arc::new(atende_providers::whatsapp::CloudApi::new(graph_url, graph_version, timeout)),
        sandbox: Arc::new(atende_providers::sandbox::Sandbox { queue, ids, clock }),
    })
}

/// The local deployment app's secret: from the settings or derived from the data
/// directory's key (so `atende simulate` can sign like Meta would).
pub fn local_meta_secret(settings: &LocalSettings) -> anyhow::Result<Secret> {
    if let Some(s) = &settings.meta_app_secret {
        return Ok(s.clone());
    }
    std::fs::create_dir_all(&settings.data_dir)?;
    Ok(Secret::new(hex::encode(hmac_subkey(&local_secret(&settings.data_dir)?, b"meta-app-secret"))))
}

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
    pub fn embedded(settings: &LocalSettings, clock: Arc<dyn Clock>) -> anyhow::Result<(Self, Embedded)> {
        let dir = &settings.data_dir;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        let key = local_secret(dir)?;
        let ids = Arc::new(UlidIds::new(clock.clone()));
        let table = SqliteTable::open(&dir.join("table.db"), clock.clone())?;
        let queue =
            SqliteQueue::open(&dir.join("queue.db"), atende_core::queues::all(), clock.clone(), ids.clone())?;
        let blob_key = hmac_subkey(&key, b"blob-links");
        let blob = FsBlob::open(&dir.join("blobs"), &settings.public_url, blob_key, clock.clone())?;
        let jwt_secret = match &settings.jwt_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => hmac_subkey(&key, b"jwt"),
        };
        let queue_port: Arc<dyn atende_core::ports::Queue> = Arc::new(queue.clone());
        let deps = Deps {
            table: Arc::new(table.clone()),
            queue: queue_port.clone(),
            blob: Arc::new(blob.clone()),
            clock: clock.clone(),
            messaging: providers(
                &settings.graph_url,
                &settings.graph_version,
                settings.graph_timeout,
                queue_port,
                ids.clone(),
                clock.clone(),
            ),
            ids,
            reactions: Arc::new(atende_core::features::reactions()),
        };
        let meta = Arc::new(MetaSettings {
            graph_url: settings.graph_url.clone(),
            graph_version: settings.graph_version.clone(),
            app_secret: local_meta_secret(settings)?,
            verify_token: match &settings.meta_verify_token {
                Some(t) => t.clone(),
                None => Secret::new(hex::encode(hmac_subkey(&key, b"meta-verify-token"))),
            },
        });
        let auth = Arc::new(Auth::new(&jwt_secret, settings.session_ttl, clock));
        Ok((Self { deps, auth, meta }, Embedded { table, queue, blob }))
    }

    /// The AWS adapters, configured from the function's environment.
    pub async fn aws(settings: &AwsSettings) -> anyhow::Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let deps = aws_deps(
            &settings.storage,
            &settings.meta.graph_url,
            &settings.meta.graph_version,
            clock.clone(),
        )
        .await?;
        let auth = Arc::new(Auth::new(
            settings.auth.jwt_secret.expose().as_bytes(),
            settings.auth.session_ttl,
            clock,
        ));
        Ok(Self { deps, auth, meta: Arc::new(settings.meta.clone()) })
    }
}

/// The ports on DynamoDB, SQS and S3.
pub async fn aws_deps(
    storage: &AwsStorage,
    graph_url: &str,
    graph_version: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Deps> {
    let clients = Clients::connect(&AwsConnection {
        endpoint: storage.aws_endpoint.clone(),
        region: None,
        dummy_credentials: false,
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
    let queue: Arc<dyn atende_core::ports::Queue> = Arc::new(SqsQueue::new(clients.sqs.clone(), queues));
    let ids: Arc<dyn atende_core::ports::Ids> = Arc::new(UlidIds::new(clock.clone()));
    Ok(Deps {
        table: Arc::new(DynamoTable::new(clients.dynamodb.clone(), &storage.table_name, clock.clone())),
        messaging: providers(
            graph_url,
            graph_version,
            std::time::Duration::from_secs(10),
            queue.clone(),
            ids.clone(),
            clock.clone(),
        ),
        queue,
        blob: Arc::new(S3Blob::new(clients.s3.clone(), &storage.media_bucket)),
        clock,
        ids,
        reactions: Arc::new(atende_core::features::reactions()),
    })
}

/// The local runtime's master secret: generated once, kept in `<data dir>/secret.key`
/// (mode 0600), so sessions and blob links survive restarts.
fn local_secret(dir: &Path) -> anyhow::Result<Secret> {
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

/// A separate key per purpose, derived from the master secret.
fn hmac_subkey(master: &Secret, purpose: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(master.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().to_vec()
}
