//! Settings, from environment variables only. A missing or malformed variable is an error
//! that names it.

use atende_core::limits::ApiLimits;
use atende_core::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("the environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("the environment variable {name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads variables through `lookup` (the process environment in production; a map in tests).
pub struct Env<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    pub fn process() -> Env<'static> {
        Env(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn required(&self, name: &'static str) -> Result<String, SettingsError> {
        (self.0)(name).ok_or(SettingsError::Missing(name))
    }

    fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name)
    }

    fn parsed<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        match (self.0)(name) {
            None => Ok(default),
            Some(raw) => {
                raw.parse().map_err(|e: T::Err| SettingsError::Invalid { name, reason: e.to_string() })
            }
        }
    }
}

/// Names of the queue URL variables, one per queue of `atende_core::queues`.
/// (`inbound-dlq` → `ATENDE_QUEUE_INBOUND_DLQ_URL`.)
pub fn queue_url_var(queue: &str) -> String {
    format!("ATENDE_QUEUE_{}_URL", queue.to_uppercase().replace('-', "_"))
}

/// Meta: the deployment's app and the Graph API.
#[derive(Debug, Clone)]
pub struct MetaSettings {
    pub graph_url: String,
    pub graph_version: String,
    /// The deployment app's secret (checks `X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// What Meta's verify handshake must present.
    pub verify_token: Secret,
}

impl MetaSettings {
    fn from_env(env: &Env<'_>, app_secret: Secret, verify_token: Secret) -> Self {
        Self {
            graph_url: env
                .optional("ATENDE_GRAPH_API_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".into()),
            graph_version: env.optional("ATENDE_GRAPH_API_VERSION").unwrap_or_else(|| "v23.0".into()),
            app_secret,
            verify_token,
        }
    }
}

/// Asaas and the speech-to-text provider: deployment settings.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `ATENDE_ASAAS_URL` overrides both Asaas environments (a fake in tests).
    pub asaas_production_url: String,
    pub asaas_sandbox_url: String,
    /// `ATENDE_ASAAS_TIMEOUT_MS`, default 10 s.
    pub asaas_timeout: Duration,
    /// `ATENDE_TRANSCRIPTION_URL`: an OpenAI-compatible base (`https://api.openai.com/v1`,
    /// `https://api.groq.com/openai/v1`, a Whisper server's); unset, no account can enable
    /// transcription.
    pub transcription_url: Option<String>,
    /// `ATENDE_TRANSCRIPTION_KEY` (bearer; optional for a self-hosted server).
    pub transcription_key: Option<Secret>,
    /// `ATENDE_TRANSCRIPTION_MODEL`, default `whisper-1`.
    pub transcription_model: String,
    /// `ATENDE_TRANSCRIPTION_TIMEOUT_MS`, default 120 s.
    pub transcription_timeout: Duration,
    /// `ATENDE_TELEGRAM_API_URL`, default `https://api.telegram.org` (a fake in tests).
    pub telegram_url: String,
}

impl ProviderSettings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, SettingsError> {
        let asaas = env.optional("ATENDE_ASAAS_URL");
        Ok(Self {
            asaas_production_url: asaas.clone().unwrap_or_else(|| "https://api.asaas.com/v3".into()),
            asaas_sandbox_url: asaas.unwrap_or_else(|| "https://api-sandbox.asaas.com/v3".into()),
            asaas_timeout: Duration::from_millis(env.parsed("ATENDE_ASAAS_TIMEOUT_MS", 10_000u64)?),
            transcription_url: env.optional("ATENDE_TRANSCRIPTION_URL"),
            transcription_key: env.optional("ATENDE_TRANSCRIPTION_KEY").map(Secret::new),
            transcription_model: env
                .optional("ATENDE_TRANSCRIPTION_MODEL")
                .unwrap_or_else(|| "whisper-1".into()),
            transcription_timeout: Duration::from_millis(
                env.parsed("ATENDE_TRANSCRIPTION_TIMEOUT_MS", 120_000u64)?,
            ),
            telegram_url: env
                .optional("ATENDE_TELEGRAM_API_URL")
                .unwrap_or_else(|| "https://api.telegram.org".into()),
        })
    }
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 key for login sessions.
    pub jwt_secret: Secret,
    pub session_ttl: Duration,
}

/// Where a deployment's storage is.
#[derive(Debug, Clone)]
pub struct AwsStorage {
    pub table_name: String,
    pub media_bucket: String,
    /// Queue name → URL, for the queues whose variables are set.
    pub queue_urls: Vec<(String, String)>,
    /// Override of every AWS endpoint (moto in tests).
    pub aws_endpoint: Option<String>,
    /// The KMS key the data key that seals stored secrets is encrypted under; without it
    /// the sealing key derives from the JWT secret.
    pub kms_key_id: Option<String>,
}

impl AwsStorage {
    pub fn from_env(env: &Env<'_>) -> Result<Self, SettingsError> {
        let mut queue_urls = Vec::new();
        for spec in atende_core::queues::all() {
            for name in [spec.name.clone(), atende_core::queues::dlq_of(&spec.name)] {
                if let Some(url) = (env.0)(&queue_url_var(&name)) {
                    queue_urls.push((name, url));
                }
            }
        }
        Ok(Self {
            table_name: env.required("ATENDE_TABLE_NAME")?,
            media_bucket: env.required("ATENDE_MEDIA_BUCKET")?,
            queue_urls,
            aws_endpoint: env.optional("ATENDE_AWS_ENDPOINT"),
            kms_key_id: env.optional("ATENDE_KMS_KEY_ID"),
        })
    }
}

/// Settings of a function running in AWS.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `ATENDE_LIVE_SOCKET_URL`: the WebSocket API's `wss://` URL (live updates).
    pub live_socket_url: Option<String>,
    pub storage: AwsStorage,
    pub auth: AuthSettings,
    pub meta: MetaSettings,
    pub providers: ProviderSettings,
    pub limits: ApiLimits,
}

/// The API's limits: `ATENDE_RATE_ACCOUNT_BURST` / `_PER_MINUTE` for each account,
/// `ATENDE_RATE_TOKEN_BURST` / `_PER_MINUTE` for each API token (defaults in
/// `atende_core::limits`).
pub fn api_limits(env: &Env<'_>) -> Result<ApiLimits, SettingsError> {
    use atende_core::limits as l;
    Ok(ApiLimits {
        account: l::Limit::per_minute(
            env.parsed("ATENDE_RATE_ACCOUNT_BURST", l::ACCOUNT_BURST)?,
            env.parsed("ATENDE_RATE_ACCOUNT_PER_MINUTE", l::ACCOUNT_PER_MINUTE)?,
        ),
        token: l::Limit::per_minute(
            env.parsed("ATENDE_RATE_TOKEN_BURST", l::TOKEN_BURST)?,
            env.parsed("ATENDE_RATE_TOKEN_PER_MINUTE", l::TOKEN_PER_MINUTE)?,
        ),
    })
}

impl AwsSettings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, SettingsError> {
        let meta = MetaSettings::from_env(
            env,
            Secret::new(env.required("ATENDE_META_APP_SECRET")?),
            Secret::new(env.required("ATENDE_META_VERIFY_TOKEN")?),
        );
        Ok(Self {
            live_socket_url: env.optional("ATENDE_LIVE_SOCKET_URL"),
            meta,
            providers: ProviderSettings::from_env(env)?,
            limits: api_limits(env)?,
            storage: AwsStorage::from_env(env)?,
            auth: AuthSettings {
                jwt_secret: Secret::new(env.required("ATENDE_JWT_SECRET")?),
                session_ttl: Duration::from_secs(env.parsed("ATENDE_SESSION_TTL_HOURS", 12u64)? * 3600),
            },
        })
    }
}

/// `atende serve --aws`: the local runtime on DynamoDB, SQS and S3 at one endpoint (moto,
/// LocalStack or a real account's), the resources named here and created when missing.
#[derive(Debug, Clone)]
pub struct LocalAws {
    /// `ATENDE_AWS_ENDPOINT` (required).
    pub endpoint: String,
    /// `AWS_REGION`, default `us-east-1`.
    pub region: String,
    /// No `AWS_ACCESS_KEY_ID` set: fixed dummy credentials (what moto and LocalStack take).
    pub dummy_credentials: bool,
    /// `ATENDE_TABLE_NAME` (default `atende`), `ATENDE_MEDIA_BUCKET` (default
    /// `atende-media`), `ATENDE_QUEUE_PREFIX` (default `atende-`).
    pub names: atende_aws::provision::ResourceNames,
}

impl LocalAws {
    pub fn from_env(env: &Env<'_>) -> Result<Self, SettingsError> {
        Ok(Self {
            endpoint: env.required("ATENDE_AWS_ENDPOINT")?,
            region: env.optional("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            dummy_credentials: env.optional("AWS_ACCESS_KEY_ID").is_none(),
            names: atende_aws::provision::ResourceNames {
                table: env.optional("ATENDE_TABLE_NAME").unwrap_or_else(|| "atende".into()),
                bucket: env.optional("ATENDE_MEDIA_BUCKET").unwrap_or_else(|| "atende-media".into()),
                queue_prefix: env.optional("ATENDE_QUEUE_PREFIX").unwrap_or_else(|| "atende-".into()),
            },
        })
    }
}

/// Settings of the one-machine runtime. Everything has a default.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The URL clients reach this server at (for presigned blob links).
    pub public_url: String,
    /// `None` = generate one and keep it in the data directory.
    pub jwt_secret: Option<Secret>,
    pub session_ttl: Duration,
    /// How often the scheduler tick runs.
    pub tick_interval: Duration,
    pub graph_url: String,
    pub graph_version: String,
    /// How long a Graph API call may take.
    pub graph_timeout: Duration,
    /// `None` = derived from the data directory's secret (see `atende simulate`).
    pub meta_app_secret: Option<Secret>,
    pub meta_verify_token: Option<Secret>,
    /// Consumer loops per queue, as Lambda runs several batches of a queue at once. Safe
    /// for every queue: a FIFO queue hands out nothing more of a group while one of its
    /// messages is in flight, and every job is idempotent. 0 runs no consumer (the ingest
    /// benchmark measures the webhook function alone, as it runs in AWS).
    pub pollers_per_queue: usize,
    /// Internal `ip:port` targets flows' HTTP nodes may call anyway (`ATENDE_HTTP_ALLOW`,
    /// comma-separated): a local integrator during development. Empty by default.
    pub http_allow: Vec<SocketAddr>,
    pub providers: ProviderSettings,
    /// The API's limits (see [`api_limits`]).
    pub limits: ApiLimits,
}

impl LocalSettings {
    /// The defaults, with data in `dir` and a free loopback port: for tests and benchmarks,
    /// which change what they need with struct update syntax.
    pub fn in_dir(dir: &std::path::Path) -> Self {
        let mut settings = Self::from_env(&Env(&|_| None)).expect("the defaults are valid");
        settings.data_dir = dir.to_owned();
        settings.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        settings.public_url = "http://127.0.0.1:0".into();
        settings
    }

    pub fn from_env(env: &Env<'_>) -> Result<Self, SettingsError> {
        let addr: SocketAddr = env.parsed("ATENDE_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))?;
        let public_url = env.optional("ATENDE_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        Ok(Self {
            addr,
            data_dir: PathBuf::from(env.optional("ATENDE_DATA_DIR").unwrap_or_else(|| "./.atende".into())),
            public_url,
            jwt_secret: env.optional("ATENDE_JWT_SECRET").map(Secret::new),
            session_ttl: Duration::from_secs(env.parsed("ATENDE_SESSION_TTL_HOURS", 12u64)? * 3600),
            tick_interval: Duration::from_millis(env.parsed("ATENDE_TICK_MS", 1000u64)?),
            graph_url: env
                .optional("ATENDE_GRAPH_API_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".into()),
            graph_version: env.optional("ATENDE_GRAPH_API_VERSION").unwrap_or_else(|| "v23.0".into()),
            graph_timeout: Duration::from_millis(env.parsed("ATENDE_GRAPH_TIMEOUT_MS", 10_000u64)?),
            meta_app_secret: env.optional("ATENDE_META_APP_SECRET").map(Secret::new),
            meta_verify_token: env.optional("ATENDE_META_VERIFY_TOKEN").map(Secret::new),
            pollers_per_queue: env.parsed("ATENDE_POLLERS_PER_QUEUE", 4usize)?,
            providers: ProviderSettings::from_env(env)?,
            limits: api_limits(env)?,
            http_allow: match env.optional("ATENDE_HTTP_ALLOW") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        s.trim().parse().map_err(|_| SettingsError::Invalid {
                            name: "ATENDE_HTTP_ALLOW",
                            reason: "a comma-separated list of ip:port".into(),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let vars = env_of(&[
            ("ATENDE_TABLE_NAME", "t"),
            ("ATENDE_JWT_SECRET", "s"),
            ("ATENDE_META_APP_SECRET", "a"),
            ("ATENDE_META_VERIFY_TOKEN", "v"),
        ]);
        let lookup = |n: &str| vars.get(n).cloned();
        let err = AwsSettings::from_env(&Env(&lookup)).unwrap_err();
        assert_eq!(err, SettingsError::Missing("ATENDE_MEDIA_BUCKET"));
        assert!(err.to_string().contains("ATENDE_MEDIA_BUCKET"));
    }

    #[test]
    fn a_malformed_variable_is_named_with_the_reason() {
        let vars = env_of(&[("ATENDE_ADDR", "not-an-address")]);
        let lookup = |n: &str| vars.get(n).cloned();
        let err = LocalSettings::from_env(&Env(&lookup)).unwrap_err();
        assert!(matches!(err, SettingsError::Invalid { name: "ATENDE_ADDR", .. }));
    }

    #[test]
    fn local_settings_default_everything() {
        let lookup = |_: &str| None;
        let s = LocalSettings::from_env(&Env(&lookup)).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.data_dir, PathBuf::from("./.atende"));
        assert_eq!(s.public_url, "http://127.0.0.1:3000");
    }

    #[test]
    fn queue_urls_are_read_per_queue() {
        let vars = env_of(&[
            ("ATENDE_TABLE_NAME", "t"),
            ("ATENDE_MEDIA_BUCKET", "b"),
            ("ATENDE_JWT_SECRET", "s"),
            ("ATENDE_META_APP_SECRET", "a"),
            ("ATENDE_META_VERIFY_TOKEN", "v"),
            ("ATENDE_QUEUE_INBOUND_URL", "https://sqs/inbound.fifo"),
        ]);
        let lookup = |n: &str| vars.get(n).cloned();
        let s = AwsSettings::from_env(&Env(&lookup)).unwrap();
        assert_eq!(s.storage.queue_urls, vec![("inbound".to_owned(), "https://sqs/inbound.fifo".to_owned())]);
        assert_eq!(format!("{:?}", s.auth.jwt_secret), "Secret(***)");
    }
}
