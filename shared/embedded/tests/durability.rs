//! Crash safety of the embedded adapters, by killing a real writer process with SIGKILL.

use atende_core::ports::{Clock, OutgoingMessage, Queue, SystemClock, UlidIds};
use atende_embedded::SqliteQueue;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const CHILD_VAR: &str = "ATENDE_DURABILITY_CHILD_DIR";

fn open(dir: &std::path::Path) -> SqliteQueue {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    SqliteQueue::open(
        &dir.join("queue.db"),
        atende_core::queues::all(),
        clock.clone(),
        Arc::new(UlidIds::new(clock)),
    )
    .unwrap()
}

/// The writer: 32 tasks send at once (so commits carry many requests each), each printing
/// a message once its `send` has returned.
async fn writer(dir: &str) {
    let queue = open(std::path::Path::new(dir));
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut tasks = Vec::new();
    for task in 0..32 {
        let (queue, out) = (queue.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let body = format!("job-{task}-{i}");
                queue.send("routing", OutgoingMessage::new(body.clone())).await.unwrap();
                let mut out = out.lock().unwrap();
                writeln!(out, "sent {body}").unwrap();
                out.flush().unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn every_message_acknowledged_as_sent_survives_a_kill_9_mid_group_commit() {
    if let Ok(dir) = std::env::var(CHILD_VAR) {
        return writer(&dir).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "every_message_acknowledged_as_sent_survives_a_kill_9_mid_group_commit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(body) = line.strip_prefix("sent ") {
            acknowledged.push(body.to_owned());
            if acknowledged.len() == 3000 {
                child.kill().unwrap(); // SIGKILL, mid-stream
                break;
            }
        }
    }
    child.wait().unwrap();

    let queue = open(dir.path());
    let mut stored = Vec::new();
    loop {
        let batch = queue.receive("routing", 10, Duration::from_secs(60)).await.unwrap();
        if batch.is_empty() {
            break;
        }
        stored.extend(batch.into_iter().map(|m| m.body));
    }
    for body in &acknowledged {
        assert!(stored.contains(body), "{body} was acknowledged but lost");
    }
    assert!(stored.len() >= acknowledged.len());
    assert_eq!(
        stored.iter().collect::<std::collections::HashSet<_>>().len(),
        stored.len(),
        "nothing stored twice"
    );
}

#[tokio::test]
async fn on_restart_deliveries_orphaned_in_flight_come_back_at_once_and_delays_stay() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path());
    queue.send("inbound", OutgoingMessage::new("a1").group("g").dedup("a1")).await.unwrap();
    queue.send("inbound", OutgoingMessage::new("a2").group("g").dedup("a2")).await.unwrap();
    queue.send("routing", OutgoingMessage::new("later").delay(Duration::from_secs(600))).await.unwrap();
    let taken = queue.receive("inbound", 1, Duration::from_secs(60)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(
        queue.receive("inbound", 10, Duration::from_secs(60)).await.unwrap().is_empty(),
        "the group is blocked"
    );
    drop(queue); // the process dies with a1 in flight

    let queue = open(dir.path());
    assert_eq!(queue.recover_in_flight().await.unwrap(), 1);
    let again = queue.receive("inbound", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        again.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["a1", "a2"],
        "in order, at once"
    );
    assert!(
        queue.receive("routing", 10, Duration::from_secs(60)).await.unwrap().is_empty(),
        "a delay is not a delivery"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_a_group_commit_a_failed_condition_undoes_only_its_own_request() {
    use atende_core::ports::table::{Condition, Item, Key, TransactItem};
    use atende_core::ports::{AttributeValue, Table};
    let dir = tempfile::tempdir().unwrap();
    let table =
        atende_embedded::SqliteTable::open(&dir.path().join("table.db"), Arc::new(SystemClock)).unwrap();
    let item = |pk: &str, sk: &str| -> Item {
        Item::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
        ])
    };
    // 200 requests at once: each writes its own item and, in the same transaction, claims
    // one shared marker only if absent. Exactly one claim wins; the 199 losers must leave
    // nothing behind, while every winner's and every unconditional write stays.
    let mut tasks = Vec::new();
    for n in 0..200 {
        let table = table.clone();
        tasks.push(tokio::spawn(async move {
            let claim = table
                .transact(vec![
                    TransactItem::Put { item: item("OWN", &format!("{n:03}")), condition: None },
                    TransactItem::Put {
                        item: item("MARKER", "only"),
                        condition: Some(Condition::AttributeNotExists("pk".into())),
                    },
                ])
                .await;
            table.put(item("PLAIN", &format!("{n:03}")), None).await.unwrap();
            claim.is_ok()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1, "one claim wins");
    let own = table
        .query(atende_core::ports::table::Query::partition(atende_core::ports::table::Index::Primary, "OWN"))
        .await
        .unwrap();
    assert_eq!(own.items.len(), 1, "only the winner's own write is kept");
    let plain = table
        .query(atende_core::ports::table::Query::partition(
            atende_core::ports::table::Index::Primary,
            "PLAIN",
        ))
        .await
        .unwrap();
    assert_eq!(plain.items.len(), 200, "every unconditional write is kept");
    assert!(table.get(&Key::new("MARKER", "only")).await.unwrap().is_some());
}
