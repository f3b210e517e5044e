//! The whole product in-process: routers called directly, consumers drained by hand, the
//! clock moved by hand, Meta played by the fake Graph API. On the embedded adapters, or on
//! DynamoDB, SQS and S3 in moto (`Backend::Moto`, what `atende serve --aws` runs on), the
//! scenarios written once and run on both by [`on_both_backends!`].

use atende_core::accounts::provisioning::{NewAccount, create_account};
use atende_core::ports::{Clock, ManualClock};
use atende_core::secret::Secret;
use atende_providers::whatsapp::signature;
use atende_runtime::AppContext;
use atende_runtime::context::Embedded;
use atende_runtime::settings::{LocalAws, LocalSettings};
use atende_testkit::fake_asaas::FakeAsaas;
use atende_testkit::fake_graph::FakeGraph;
use atende_testkit::fake_stt::FakeStt;
use atende_testkit::fake_telegram::FakeTelegram;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
/// The phone-number id of every pywa fixture.
pub const FIXTURE_PHONE_ID: &str = "1122334455667";
/// The customer of every pywa fixture.
pub const FIXTURE_WA_ID: &str = "972987654321";

/// The adapters a stack runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Moto,
}

/// What the stack holds of its adapters beyond the ports.
enum Store {
    Embedded(Embedded),
    Moto {
        lease: atende_testkit::harness::MotoLease,
        /// Logical queue name → (SQS URL, spec).
        queues: std::collections::HashMap<String, (String, atende_core::ports::QueueSpec)>,
    },
}

pub struct Stack {
    pub ctx: AppContext,
    store: Store,
    pub clock: ManualClock,
    pub graph: FakeGraph,
    pub asaas: FakeAsaas,
    pub stt: FakeStt,
    pub telegram: FakeTelegram,
    pub api: Router,
    pub webhook: Router,
    /// The registry's queue functions, drained as their event source mappings would.
    functions: Vec<atende_runtime::function::QueueFunction>,
    _dir: tempfile::TempDir,
}

pub struct Tenant {
    pub token: String,
    #[allow(dead_code)]
    pub account: String,
    pub admin: String,
    pub default_team: String,
}

impl Stack {
    pub async fn new() -> Self {
        Self::with_deps(|_| {}).await
    }

    pub async fn on(backend: Backend) -> Self {
        match backend {
            Backend::Embedded => Self::new().await,
            Backend::Moto => Self::on_moto().await,
        }
    }

    /// A stack whose ports and reactions are first changed by `change`.
    pub async fn with_deps(change: impl FnOnce(&mut atende_core::Deps)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fakes = Fakes::start().await;
        let clock = ManualClock::starting_now();
        // The blob server of presigned links (what `atende serve` mounts at `/blobs`).
        let blobs = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = LocalSettings {
            public_url: format!("http://{}", blobs.local_addr().unwrap()),
            ..settings(dir.path(), &fakes)
        };
        let (mut ctx, embedded) = AppContext::embedded(&settings, Arc::new(clock.clone())).unwrap();
        let router = atende_runtime::blobs::router(embedded.blob.clone());
        tokio::spawn(async move { axum::serve(blobs, router).await });
        change(&mut ctx.deps);
        Self::assemble(ctx, Store::Embedded(embedded), clock, fakes, dir)
    }

    /// On fresh resources in moto, wired as `atende serve --aws` wires them.
    async fn on_moto() -> Self {
        let lease = atende_testkit::harness::moto_lease().await;
        let dir = tempfile::tempdir().unwrap();
        let fakes = Fakes::start().await;
        let clock = ManualClock::starting_now();
        let aws = LocalAws {
            endpoint: lease.url.clone(),
            region: "us-east-1".into(),
            dummy_credentials: true,
            names: atende_testkit::harness::fresh_names(),
        };
        let (ctx, queues) =
            AppContext::local_on_aws(&settings(dir.path(), &fakes), &aws, Arc::new(clock.clone()))
                .await
                .unwrap();
        Self::assemble(ctx, Store::Moto { lease, queues }, clock, fakes, dir)
    }

    fn assemble(
        ctx: AppContext,
        store: Store,
        clock: ManualClock,
        fakes: Fakes,
        dir: tempfile::TempDir,
    ) -> Self {
        Self {
            api: atende_api::router(ctx.clone()),
            webhook: atende_webhook::router(ctx.clone()),
            ctx,
            store,
            clock,
            graph: fakes.graph,
            asaas: fakes.asaas,
            stt: fakes.stt,
            telegram: fakes.telegram,
            functions: atende_local::registry::queue_functions(),
            _dir: dir,
        }
    }

    /// Moves every clock forward: the domain's and, on moto, SQS's.
    /// Whether this stack runs on moto, whose S3 does not check presigned signatures
    /// (what a link holds is then checked only where the file is used).
    pub fn runs_on_moto(&self) -> bool {
        matches!(self.store, Store::Moto { .. })
    }

    pub async fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
        if let Store::Moto { lease, .. } = &self.store {
            atende_testkit::harness::advance_moto(&lease.url, by.to_std().unwrap_or_default()).await;
        }
    }

    /// For each queue of `names`, how long until its soonest hidden message shows (`None`:
    /// none hidden; on moto, `None` only when the queue is empty and a millisecond when a
    /// message is visible already, see `tools/moto_server.py`).
    async fn next_visible_in(&self, names: &[&str]) -> Vec<Option<std::time::Duration>> {
        match &self.store {
            Store::Embedded(e) => {
                let mut each = Vec::with_capacity(names.len());
                for name in names {
                    each.push(e.queue.next_visible_in(name).await.unwrap());
                }
                each
            }
            Store::Moto { lease, queues } => {
                let urls: Vec<&str> = names.iter().map(|n| queues[*n].0.as_str()).collect();
                atende_testkit::harness::moto_next_visible(&lease.url, &urls).await
            }
        }
    }

    /// The queue of each registered function, in registry order.
    fn queue_names(&self) -> Vec<&str> {
        self.functions.iter().map(|f| f.queue.name.as_str()).collect()
    }

    /// Per function, whether its queue surely has nothing to receive now. On moto one call
    /// answers for every queue and spares a receive per empty queue (moto is slow); the
    /// embedded queue is asked directly by the receive.
    async fn surely_empty(&self) -> Vec<bool> {
        if let Store::Embedded(_) = &self.store {
            return vec![false; self.functions.len()];
        }
        let soon = std::time::Duration::from_millis(2);
        self.next_visible_in(&self.queue_names())
            .await
            .into_iter()
            .map(|w| w.is_none_or(|w| w > soon))
            .collect()
    }

    /// Whether `queue` holds no message at all, visible or hidden.
    pub async fn queue_is_empty(&self, queue: &str) -> bool {
        self.next_visible_in(&[queue]).await[0].is_none()
            && self.ctx.deps.queue.receive(queue, 10, std::time::Duration::ZERO).await.unwrap().is_empty()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request =
            Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
        let request = match body {
            Some(b) => request.header("content-type", "application/json").body(Body::from(b.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        respond(self.api.clone().oneshot(request).await.unwrap()).await
    }

    /// Posts a webhook body as Meta would (signed with the app secret unless told).
    pub async fn post_webhook(&self, body: &[u8], signature: Option<String>) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/webhooks/whatsapp")
            .header("content-type", "application/json");
        if let Some(sig) = signature {
            request = request.header("x-hub-signature-256", sig);
        }
        respond(self.webhook.clone().oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap())
            .await
    }

    /// Posts `body` to a webhook route with `headers`, as a provider would.
    pub async fn post_to(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> (StatusCode, Value) {
        let mut request =
            Request::builder().method(Method::POST).uri(path).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        respond(self.webhook.clone().oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap())
            .await
    }

    /// Uploads `bytes` as `mime` with `POST /v1/uploads`; the blob key.
    pub async fn upload(&self, t: &Tenant, bytes: &[u8], mime: &str) -> String {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/uploads")
            .header("authorization", format!("Bearer {}", t.token))
            .header("content-type", mime)
            .body(Body::from(bytes.to_vec()))
            .unwrap();
        let (status, body) = respond(self.api.clone().oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["blob_key"].as_str().unwrap().to_owned()
    }

    /// Posts an Asaas event for `account` with `token` in `asaas-access-token`.
    pub async fn post_asaas(&self, account: &str, token: &str, event: &Value) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/webhooks/asaas/{account}"))
            .header("content-type", "application/json")
            .header("asaas-access-token", token)
            .body(Body::from(event.to_string()))
            .unwrap();
        respond(self.webhook.clone().oneshot(request).await.unwrap()).await
    }

    /// Serves the webhook function on a loopback port (for providers that post by
    /// themselves); its base URL.
    pub async fn serve_webhooks(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = self.webhook.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }

    pub async fn deliver(&self, payload: &Value) -> StatusCode {
        let body = payload.to_string();
        self.post_webhook(body.as_bytes(), Some(sign(body.as_bytes()))).await.0
    }

    /// Every item of the embedded table as text (`pk sk body`), for tests that walk it.
    pub fn table_dump(&self) -> Vec<String> {
        let db = rusqlite::Connection::open_with_flags(
            self._dir.path().join("table.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut rows = db.prepare("SELECT pk, sk, body FROM items").unwrap();
        rows.query_map([], |r| {
            Ok(format!("{} {} {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// Runs every queue function of the registry until nothing is visible on any queue.
    pub async fn drain(&self) {
        loop {
            let mut handled = 0;
            let skip = self.surely_empty().await;
            for (function, skip) in self.functions.iter().zip(skip) {
                if !skip {
                    handled += function.drain_once(&self.ctx).await.unwrap();
                }
            }
            if handled == 0 {
                break;
            }
        }
    }

    /// Runs one function of the registry until its queue has nothing visible.
    pub async fn drain_function(&self, name: &str) {
        for f in self.functions.iter().filter(|f| f.name == name) {
            while f.drain_once(&self.ctx).await.unwrap() > 0 {}
        }
    }

    /// Drains, moving the clock to the next message that becomes visible each time, until
    /// the queues are empty (retries, backoffs, pacing and delays all run on the manual
    /// clock).
    pub async fn settle(&self) {
        for _ in 0..5000 {
            self.tick().await;
            self.drain().await;
            let next = self.next_visible_in(&self.queue_names()).await.into_iter().flatten().min();
            // Nothing hidden: the drain took every visible message, the queues are empty.
            let Some(wait) = next else { return };
            self.advance(chrono::Duration::from_std(wait.max(std::time::Duration::from_millis(1))).unwrap())
                .await;
        }
        panic!("the queues never emptied");
    }

    /// The scheduler tick (what EventBridge or the local runtime's interval runs).
    pub async fn tick(&self) -> usize {
        atende_scheduler::tick(&self.ctx).await.unwrap()
    }

    /// Moves the clock forward, firing due timers and draining, as time passes.
    pub async fn pass(&self, by: chrono::Duration) {
        self.advance(by).await;
        self.settle().await;
    }

    pub async fn tenant(&self, name: &str) -> Tenant {
        let email = format!("admin@{}.example", name.to_lowercase());
        let created = create_account(
            &self.ctx.deps,
            NewAccount {
                name: name.into(),
                admin_email: email.clone(),
                admin_password: Secret::new("a good password"),
                admin_name: None,
            },
        )
        .await
        .unwrap();
        Tenant {
            token: self.login(&email, "a good password").await,
            account: created.account.id,
            admin: created.admin.id,
            default_team: created.default_team.id,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(json!({"email": email, "password": password}).to_string()))
            .unwrap();
        let (status, body) = respond(self.api.clone().oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A user of the tenant, logged in: (id, token).
    pub async fn user(&self, t: &Tenant, email: &str, profile: &str) -> (String, String) {
        let (status, user) = self
            .call(
                Method::POST,
                "/v1/users",
                &t.token,
                Some(json!({"email": email, "password": "password123", "name": email, "profile": profile})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        (user["id"].as_str().unwrap().to_owned(), self.login(email, "password123").await)
    }

    /// The fixture customer writes "oi" (provider id `wamid`) and the tenant's admin assumes
    /// the session it opens; its id.
    pub async fn assumed_session(&self, t: &Tenant, wamid: &str) -> String {
        self.deliver(&text_from_customer(wamid, "oi", self.now())).await;
        self.assume_pending(t).await
    }

    /// Once what was delivered is applied, the tenant's admin assumes the first pending
    /// session; its id.
    pub async fn assume_pending(&self, t: &Tenant) -> String {
        self.settle().await;
        let session = self.sessions(&t.token, "pending").await[0]["id"].as_str().unwrap().to_owned();
        self.call(Method::POST, &format!("/v1/sessions/{session}/assume"), &t.token, None).await;
        session
    }

    /// The tenant's admin answers `text` in `session` through the API.
    pub async fn send_text(&self, t: &Tenant, session: &str, text: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/v1/sessions/{session}/messages"),
            &t.token,
            Some(json!({"type": "text", "text": text})),
        )
        .await
    }

    /// The tenant's admin completes `session` so that the customer's next message opens a
    /// new one (`archive_policy: new_session`).
    pub async fn complete_for_good(&self, t: &Tenant, session: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/v1/sessions/{session}/complete"),
            &t.token,
            Some(json!({"archive_policy": "new_session"})),
        )
        .await
    }

    pub async fn cloud_channel(&self, t: &Tenant, phone_number_id: &str) -> String {
        let (status, channel) = self
            .call(
                Method::POST,
                "/v1/channels",
                &t.token,
                Some(json!({"kind": "whatsapp_cloud", "name": "Main", "phone_number_id": phone_number_id,
                    "waba_id": "1234567890987654321", "access_token": "test-token", "agents_can_start": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{channel}");
        channel["id"].as_str().unwrap().to_owned()
    }

    pub async fn sessions(&self, token: &str, tab: &str) -> Vec<Value> {
        let (status, page) = self.call(Method::GET, &format!("/v1/sessions?tab={tab}"), token, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }

    pub async fn messages(&self, token: &str, session: &str) -> Vec<Value> {
        let (status, page) =
            self.call(Method::GET, &format!("/v1/sessions/{session}/messages?limit=100"), token, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }

    /// Every message of a session, all pages, newest first.
    pub async fn all_messages(&self, token: &str, session: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut path = format!("/v1/sessions/{session}/messages?limit=100");
        loop {
            let (status, page) = self.call(Method::GET, &path, token, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            out.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/v1/sessions/{session}/messages?limit=100&cursor={c}"),
                None => return out,
            }
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// The providers the stack talks to: Meta, Telegram, Asaas, speech to text.
struct Fakes {
    graph: FakeGraph,
    asaas: FakeAsaas,
    stt: FakeStt,
    telegram: FakeTelegram,
}

impl Fakes {
    async fn start() -> Self {
        Self {
            graph: FakeGraph::start().await,
            asaas: FakeAsaas::start().await,
            stt: FakeStt::start().await,
            telegram: FakeTelegram::start().await,
        }
    }
}

fn settings(dir: &std::path::Path, fakes: &Fakes) -> LocalSettings {
    let defaults = LocalSettings::in_dir(dir);
    LocalSettings {
        providers: atende_runtime::settings::ProviderSettings {
            asaas_production_url: fakes.asaas.base_url.clone(),
            asaas_sandbox_url: fakes.asaas.base_url.clone(),
            asaas_timeout: Duration::from_millis(400),
            transcription_url: Some(fakes.stt.base_url.clone()),
            transcription_key: Some(Secret::new(atende_testkit::fake_stt::KEY)),
            transcription_model: "whisper-1".into(),
            transcription_timeout: Duration::from_millis(600),
            telegram_url: fakes.telegram.base_url.clone(),
        },
        tick_interval: Duration::from_secs(1),
        // The clock stands still: a bucket would never refill (the limits' own tests set
        // the defaults back).
        limits: atende_core::limits::ApiLimits::none(),
        graph_url: fakes.graph.base_url.clone(),
        graph_timeout: Duration::from_millis(300),
        meta_app_secret: Some(Secret::new(APP_SECRET)),
        meta_verify_token: Some(Secret::new(VERIFY_TOKEN)),
        ..defaults
    }
}

/// Runs each named scenario (`async fn name(stack: Stack)`) twice, as
/// `embedded::name` and `on_moto::name`. A name after `multi_thread` runs on a
/// four-worker runtime.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)? $(; multi_thread $($mt:ident),* $(,)?)?) => {
        $crate::on_both_backends!(@module embedded Embedded [$($name),*] [$($($mt),*)?]);
        $crate::on_both_backends!(@module on_moto Moto [$($name),*] [$($($mt),*)?]);
    };
    (@module $module:ident $backend:ident [$($name:ident),*] [$($mt:ident),*]) => {
        mod $module {
            $($crate::on_both_backends!(@test $backend $name []);)*
            $($crate::on_both_backends!(@test $backend $mt [(flavor = "multi_thread", worker_threads = 4)]);)*
        }
    };
    (@test $backend:ident $name:ident [$($runtime:tt)*]) => {
        #[tokio::test $($runtime)*]
        async fn $name() {
            super::$name($crate::stack::Stack::on($crate::stack::Backend::$backend).await).await
        }
    };
}

pub fn sign(body: &[u8]) -> String {
    signature::sign(APP_SECRET.as_bytes(), body)
}

async fn respond(response: axum::response::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
    )
}

/// A pywa fixture payload: `file` (e.g. `message.json`), case `name`.
pub fn fixture(file: &str, name: &str) -> Value {
    let path = atende_testkit::fixtures::shared_fixture(&format!("whatsapp/{file}"));
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    all[name].clone()
}

/// Every case of a fixture file.
pub fn fixture_cases(file: &str) -> Vec<(String, Value)> {
    let path = atende_testkit::fixtures::shared_fixture(&format!("whatsapp/{file}"));
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    all.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The first message or status object of a payload, to edit.
pub fn first_event<'a>(payload: &'a mut Value, list: &str) -> &'a mut Value {
    &mut payload["entry"][0]["changes"][0]["value"][list][0]
}

/// A text message from the fixture customer with its own id and timestamp.
pub fn text_from_customer(id: &str, text: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut payload = fixture("message.json", "text");
    let m = first_event(&mut payload, "messages");
    m["id"] = json!(id);
    m["text"]["body"] = json!(text);
    m["timestamp"] = json!(at.timestamp().to_string());
    payload
}

/// A status payload for `provider_id`.
pub fn status_payload(kind: &str, provider_id: &str) -> Value {
    let mut payload = fixture("message_status.json", kind);
    first_event(&mut payload, "statuses")["id"] = json!(provider_id);
    payload
}

/// A queue that sends the messages `pick` chooses three times (distinct deduplication ids,
/// so each copy is delivered): every job of those must be idempotent.
pub struct Thrice {
    inner: Arc<dyn atende_core::ports::Queue>,
    pick: fn(&str, &atende_core::ports::OutgoingMessage) -> bool,
}

impl Thrice {
    pub fn of(
        inner: Arc<dyn atende_core::ports::Queue>,
        pick: fn(&str, &atende_core::ports::OutgoingMessage) -> bool,
    ) -> Self {
        Self { inner, pick }
    }

    fn copies(
        &self,
        queue: &str,
        m: &atende_core::ports::OutgoingMessage,
    ) -> Vec<atende_core::ports::OutgoingMessage> {
        if !(self.pick)(queue, m) {
            return vec![m.clone()];
        }
        (0..3)
            .map(|n| {
                let mut copy = m.clone();
                copy.dedup_id = m.dedup_id.as_ref().map(|d| format!("{d}#{n}"));
                copy
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl atende_core::ports::Queue for Thrice {
    async fn send(
        &self,
        queue: &str,
        m: atende_core::ports::OutgoingMessage,
    ) -> Result<(), atende_core::ports::QueueError> {
        self.inner.send_batch(queue, self.copies(queue, &m)).await
    }
    async fn send_batch(
        &self,
        queue: &str,
        ms: Vec<atende_core::ports::OutgoingMessage>,
    ) -> Result<(), atende_core::ports::QueueError> {
        let all: Vec<_> = ms.iter().flat_map(|m| self.copies(queue, m)).collect();
        for chunk in all.chunks(10) {
            self.inner.send_batch(queue, chunk.to_vec()).await?;
        }
        Ok(())
    }
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<atende_core::ports::ReceivedMessage>, atende_core::ports::QueueError> {
        self.inner.receive(queue, max, visibility).await
    }
    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), atende_core::ports::QueueError> {
        self.inner.ack(queue, receipt).await
    }
    async fn release(
        &self,
        queue: &str,
        receipt: &str,
        after: Duration,
    ) -> Result<(), atende_core::ports::QueueError> {
        self.inner.release(queue, receipt, after).await
    }
}
