//! Table and queue operations per inbound message, outbound message and status update,
//! counted by wrapping the ports, turned into DynamoDB request units and SQS requests, and
//! priced at AWS on-demand list prices (us-east-1, as of this writing — check current ones):
//! DynamoDB $0.625 per million write request units and $0.125 per million read request
//! units; SQS $0.40 per million standard and $0.50 per million FIFO requests.

use crate::harness;
use crate::report::publish;
use async_trait::async_trait;
use atende_core::conversations::messages::{self, Draft, SendMessage};
use atende_core::conversations::sessions;
use atende_core::ports::table::item_size;
use atende_core::ports::{
    Condition, Item, Key, OutgoingMessage, Page, Query, Queue, QueueError, ReceivedMessage, Table,
    TableError, TransactItem, UpdateOp,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRU_PRICE: f64 = 0.625; // $ per million
const RRU_PRICE: f64 = 0.125;
const SQS_STANDARD: f64 = 0.40;
const SQS_FIFO: f64 = 0.50;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) write_units: f64,
    pub(crate) read_units: f64,
    pub(crate) sqs_standard: f64,
    pub(crate) sqs_fifo: f64,
}

pub(crate) type Shared = Arc<Mutex<Counts>>;

fn wru(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

fn rru(size: usize) -> f64 {
    size.div_ceil(4096).max(1) as f64
}

pub(crate) struct CountingTable {
    inner: Arc<dyn Table>,
    counts: Shared,
}

impl CountingTable {
    pub(crate) fn new(inner: Arc<dyn Table>, counts: Shared) -> Self {
        Self { inner, counts }
    }

    fn add(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.counts.lock().unwrap());
    }
}

#[async_trait]
impl Table for CountingTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let got = self.inner.get(key).await?;
        let size = got.as_ref().map(item_size).unwrap_or(0);
        self.add(|c| c.read_units += rru(size));
        Ok(got)
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        let size = item_size(&item);
        self.add(|c| c.write_units += wru(size));
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        ops: Vec<UpdateOp>,
        condition: Option<Condition>,
    ) -> Result<Item, TableError> {
        let item = self.inner.update(key, ops, condition).await?;
        let size = item_size(&item);
        self.add(|c| c.write_units += wru(size));
        Ok(item)
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), TableError> {
        self.add(|c| c.write_units += 1.0);
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, TableError> {
        let page = self.inner.query(query).await?;
        let size: usize = page.items.iter().map(item_size).sum();
        self.add(|c| c.read_units += rru(size));
        Ok(page)
    }
    async fn transact(&self, items: Vec<TransactItem>) -> Result<(), TableError> {
        // Transactions cost twice: two units per KB of each item.
        let units: f64 = items
            .iter()
            .map(|i| match i {
                TransactItem::Put { item, .. } => 2.0 * wru(item_size(item)),
                _ => 2.0,
            })
            .sum();
        self.add(|c| c.write_units += units);
        self.inner.transact(items).await
    }
}

pub(crate) struct CountingQueue {
    inner: Arc<dyn Queue>,
    counts: Shared,
}

impl CountingQueue {
    pub(crate) fn new(inner: Arc<dyn Queue>, counts: Shared) -> Self {
        Self { inner, counts }
    }

    fn add(&self, queue: &str, requests: f64) {
        let mut c = self.counts.lock().unwrap();
        if queue.starts_with("inbound") || queue.starts_with("outbound") {
            c.sqs_fifo += requests;
        } else {
            c.sqs_standard += requests;
        }
    }
}

#[async_trait]
impl Queue for CountingQueue {
    async fn send(&self, queue: &str, message: OutgoingMessage) -> Result<(), QueueError> {
        self.add(queue, 1.0);
        self.inner.send(queue, message).await
    }
    async fn send_batch(&self, queue: &str, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        self.add(queue, messages.len().div_ceil(10) as f64);
        self.inner.send_batch(queue, messages).await
    }
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let got = self.inner.receive(queue, max, visibility).await?;
        // Empty polls are the event source mapping's business (and free of our code):
        // count the receives that delivered something.
        if !got.is_empty() {
            self.add(queue, 1.0);
        }
        Ok(got)
    }
    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        self.add(queue, 1.0);
        self.inner.ack(queue, receipt).await
    }
    async fn release(&self, queue: &str, receipt: &str, after: Duration) -> Result<(), QueueError> {
        self.add(queue, 1.0);
        self.inner.release(queue, receipt, after).await
    }
}

async fn settle(counts: &Shared) {
    // Wait until the counters stop moving: the consumers are done.
    let mut last = -1.0;
    let mut still = 0;
    while still < 10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let c = *counts.lock().unwrap();
        let now = c.write_units + c.read_units + c.sqs_fifo + c.sqs_standard;
        if now == last {
            still += 1
        } else {
            still = 0
        }
        last = now;
    }
}

pub(crate) fn per(counts: Counts, n: usize) -> Counts {
    let n = n as f64;
    Counts {
        write_units: counts.write_units / n,
        read_units: counts.read_units / n,
        sqs_standard: counts.sqs_standard / n,
        sqs_fifo: counts.sqs_fifo / n,
    }
}

pub(crate) fn dollars_per_million(c: Counts) -> f64 {
    c.write_units * WRU_PRICE
        + c.read_units * RRU_PRICE
        + c.sqs_standard * SQS_STANDARD
        + c.sqs_fifo * SQS_FIFO
}

pub async fn run(count: usize) -> anyhow::Result<()> {
    let counts: Shared = Arc::default();
    let c2 = counts.clone();
    let product = harness::start(1000, move |mut ctx, embedded| {
        ctx.deps.table = Arc::new(CountingTable { inner: ctx.deps.table.clone(), counts: c2.clone() });
        ctx.deps.queue = Arc::new(CountingQueue { inner: ctx.deps.queue.clone(), counts: c2 });
        (ctx, embedded)
    })
    .await?;
    let http = reqwest::Client::new();
    let post = |(body, sig): (String, String)| {
        let http = http.clone();
        let url = format!("{}/webhooks/whatsapp", product.base);
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await
        }
    };
    // Warm up: each contact's first message opens a session (not what we measure).
    for n in 0..count {
        post(harness::text(&format!("wamid.warm.{n}"), &harness::wa(n), "oi")).await?;
    }
    settle(&counts).await;
    let deps = product.running.ctx.deps.clone();
    let page = sessions::list(
        &deps,
        &product.admin,
        serde_json::from_value(json!({"tab": "pending", "limit": 100}))?,
    )
    .await?;
    let ids: Vec<String> = page.items.into_iter().map(|s| s.id).collect();
    for id in &ids {
        sessions::assume(&deps, &product.admin, id).await?;
    }
    settle(&counts).await;

    // Inbound: a message into an open session.
    *counts.lock().unwrap() = Counts::default();
    for n in 0..count {
        post(harness::text(&format!("wamid.in.{n}"), &harness::wa(n), "mais uma")).await?;
    }
    settle(&counts).await;
    let inbound = per(*counts.lock().unwrap(), count);

    // Outbound: an agent's message, stored, queued, claimed, sent, recorded.
    *counts.lock().unwrap() = Counts::default();
    let started = Instant::now();
    for i in 0..count {
        let draft = Draft::Text { text: format!("r{i}") };
        messages::send(
            &deps,
            &product.admin,
            &ids[i % ids.len()],
            SendMessage { draft, reply_to_message_id: None },
        )
        .await?;
    }
    while product.graph.sends().len() < count && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(&counts).await;
    let outbound = per(*counts.lock().unwrap(), count);

    // Status updates: delivered for every sent message.
    let sent: Vec<(String, String)> = product
        .graph
        .sends()
        .iter()
        .map(|r| (r.wamid.clone(), r.body["to"].as_str().unwrap_or("").to_owned()))
        .collect();
    *counts.lock().unwrap() = Counts::default();
    for (wamid, to) in &sent {
        post(harness::status(wamid, to, "delivered")).await?;
    }
    settle(&counts).await;
    let statuses = per(*counts.lock().unwrap(), sent.len());

    let row = |c: Counts| {
        format!(
            "{:.2} WRU, {:.2} RRU, {:.2} SQS std + {:.2} SQS FIFO requests → ${:.2} per million",
            c.write_units,
            c.read_units,
            c.sqs_standard,
            c.sqs_fifo,
            dollars_per_million(c)
        )
    };
    let j = |c: Counts| json!({"write_units": c.write_units, "read_units": c.read_units, "sqs_standard": c.sqs_standard, "sqs_fifo": c.sqs_fifo, "usd_per_million": dollars_per_million(c)});
    publish(
        "cost",
        &[
            ("sample", format!("{count} of each, averaged")),
            ("per inbound message", row(inbound)),
            ("per outbound message", row(outbound)),
            ("per status update", row(statuses)),
            (
                "prices",
                format!(
                    "DynamoDB ${WRU_PRICE}/M WRU, ${RRU_PRICE}/M RRU; SQS ${SQS_STANDARD}/M std, ${SQS_FIFO}/M FIFO"
                ),
            ),
        ],
        json!({"count": count, "inbound": j(inbound), "outbound": j(outbound), "status": j(statuses),
               "prices_usd_per_million": {"wru": WRU_PRICE, "rru": RRU_PRICE, "sqs_standard": SQS_STANDARD, "sqs_fifo": SQS_FIFO}}),
    )?;
    product.running.stop().await
}
