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

/// The writer: sends forever, printing each message once `send` has returned.
async fn writer(dir: &str) {
    let queue = open(std::path::Path::new(dir));
    let mut out = std::io::stdout();
    for i in 0.. {
        queue.send("routing", OutgoingMessage::new(format!("job-{i}"))).await.unwrap();
        writeln!(out, "sent job-{i}").unwrap();
        out.flush().unwrap();
    }
}

#[tokio::test]
async fn every_message_acknowledged_as_sent_survives_a_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_VAR) {
        return writer(&dir).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "every_message_acknowledged_as_sent_survives_a_kill_9",
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
            if acknowledged.len() == 300 {
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
