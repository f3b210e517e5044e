//! Builds a fresh set of adapters per test: embedded (temp directory, manual clock) or AWS
//! (unique table, queues and bucket on the moto server the test command started).

use async_trait::async_trait;
use atende_aws::{AwsConnection, Clients, DynamoTable, S3Blob, SqsQueue, provision};
use atende_core::ports::{Blob, Clock, ManualClock, Queue, QueueSpec, Table, UlidIds};
use atende_embedded::{FsBlob, SqliteQueue, SqliteTable};
use std::sync::Arc;
use std::time::Duration;

/// The environment variable the test command sets to moto's URL.
pub const MOTO_URL_VAR: &str = "ATENDE_TEST_MOTO_URL";

/// Moves every clock the adapters use forward.
#[async_trait]
pub trait TimeControl: Send + Sync {
    async fn advance(&self, by: Duration);
}

pub struct Adapters {
    pub table: Arc<dyn Table>,
    pub queue: Arc<dyn Queue>,
    pub blob: Arc<dyn Blob>,
    pub clock: ManualClock,
    pub time: Arc<dyn TimeControl>,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

/// The queues every contract test gets: a standard and a FIFO one, 3 receives, 30 s.
pub fn test_queues() -> Vec<QueueSpec> {
    let spec = |name: &str, fifo| QueueSpec {
        name: name.into(),
        fifo,
        max_receives: 3,
        visibility_timeout: Duration::from_secs(30),
    };
    vec![spec("std", false), spec("fifo", true)]
}

struct ManualTime(ManualClock);

#[async_trait]
impl TimeControl for ManualTime {
    async fn advance(&self, by: Duration) {
        self.0.advance(chrono::Duration::from_std(by).unwrap_or_default());
    }
}

/// Embedded adapters in a fresh temporary directory, with a server for presigned URLs.
pub async fn embedded() -> Adapters {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = ManualClock::starting_now();
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let ids = Arc::new(UlidIds::new(shared_clock.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    let blob = FsBlob::open(
        &dir.path().join("blobs"),
        &base_url,
        b"test-signing-key".to_vec(),
        shared_clock.clone(),
    )
    .expect("a blob store");
    let server = tokio::spawn({
        let router = atende_runtime::blobs::router(blob.clone());
        async move { axum::serve(listener, router).await }
    });
    let table = SqliteTable::open(&dir.path().join("table.db"), shared_clock.clone()).expect("a table");
    let queue =
        SqliteQueue::open(&dir.path().join("queue.db"), test_queues(), shared_clock, ids).expect("a queue");
    Adapters {
        table: Arc::new(table),
        queue: Arc::new(queue),
        blob: Arc::new(blob),
        time: Arc::new(ManualTime(clock.clone())),
        clock,
        _keep: Box::new((dir, AbortOnDrop(server))),
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The moto server's URL. Panics (the test fails, it is not skipped) when it is not set or
/// not reachable: the test command always starts one.
pub async fn moto_url() -> String {
    let url = std::env::var(MOTO_URL_VAR).unwrap_or_else(|_| {
        panic!("{MOTO_URL_VAR} is not set: run the tests with scripts/test, which starts moto_server")
    });
    let ready = reqwest::get(format!("{url}/__atende/ready")).await;
    assert!(
        ready.is_ok_and(|r| r.status().is_success()),
        "moto_server is not reachable at {url} (or lacks the test clock: start it with tools/moto_server.py)"
    );
    url
}

struct MotoTime {
    clock: ManualClock,
    url: String,
}

#[async_trait]
impl TimeControl for MotoTime {
    async fn advance(&self, by: Duration) {
        self.clock.advance(chrono::Duration::from_std(by).unwrap_or_default());
        advance_moto(&self.url, by).await;
    }
}

/// One moto test at a time: moto's clock is shared, and a test moving it forward must not
/// expire another test's delays or visibility timeouts.
static MOTO_SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The moto server, for this test alone while the lease lives.
pub struct MotoLease {
    pub url: String,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

pub async fn moto_lease() -> MotoLease {
    let url = moto_url().await;
    MotoLease { url, _guard: MOTO_SERIAL.lock().await }
}

/// Moves moto's clock forward (SQS delays, visibility timeouts, deduplication windows).
pub async fn advance_moto(url: &str, by: Duration) {
    let response = reqwest::Client::new()
        .post(format!("{url}/__atende/clock/advance?seconds={}", by.as_secs_f64()))
        .send()
        .await
        .expect("moto's clock answers");
    assert!(response.status().is_success(), "moto's clock refused to move");
}

/// For each SQS queue of `queue_urls`, how long until its soonest message is visible, on
/// moto's clock (a millisecond for one visible already; `None`: the queue is empty).
pub async fn moto_next_visible(url: &str, queue_urls: &[&str]) -> Vec<Option<Duration>> {
    let query: Vec<(&str, &str)> = queue_urls.iter().map(|u| ("queue_url", *u)).collect();
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/__atende/sqs/next-visible"))
        .query(&query)
        .send()
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto's next-visible answer");
    let each = answer["each"].as_array().expect("one answer per queue");
    each.iter().map(|w| w.as_f64().map(Duration::from_secs_f64)).collect()
}

/// Names no other test uses: a table, a bucket and a queue prefix.
pub fn fresh_names() -> provision::ResourceNames {
    let unique = ulid::Ulid::new().to_string().to_lowercase();
    provision::ResourceNames {
        table: format!("atende-{unique}"),
        bucket: format!("atende-{unique}"),
        queue_prefix: format!("t{unique}-"),
    }
}

/// AWS adapters on fresh resources in moto.
pub async fn aws() -> Adapters {
    let MotoLease { url, _guard: guard } = moto_lease().await;
    let clock = ManualClock::starting_now();
    let clients = Clients::connect(&AwsConnection {
        endpoint: Some(url.clone()),
        region: Some("us-east-1".into()),
        dummy_credentials: true,
        lambda_environment: false,
    })
    .await;
    let names = fresh_names();
    let queues = provision::ensure_all(&clients, &names, &test_queues()).await.expect("resources in moto");
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    Adapters {
        table: Arc::new(DynamoTable::new(clients.dynamodb.clone(), names.table, shared_clock)),
        queue: Arc::new(SqsQueue::new(clients.sqs.clone(), queues)),
        blob: Arc::new(S3Blob::new(clients.s3.clone(), names.bucket)),
        time: Arc::new(MotoTime { clock: clock.clone(), url }),
        clock,
        _keep: Box::new(guard),
    }
}
