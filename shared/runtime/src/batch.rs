//! The SQS batch runner, shared by Lambda and the local consumer loop.
//!
//! - Partial batch failures: only the failed messages are reported (and retried).
//! - FIFO: once a message of a group fails, every later message of that group in the batch
//!   is reported failed without running, so the group's order holds on retry.
//! - A body that does not parse is logged by id and reported failed on its own (SQS moves it
//!   to the dead-letter queue after the queue's receive limit); it never fails its
//!   neighbours, not even those of its own group.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::de::DeserializeOwned;
use std::future::Future;

/// A job that is not due yet: the message is retried after this long, not as a failure.
/// Return it as `Err(RetryAfter(d).into())`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub std::time::Duration);

impl std::fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not due for {:?}", self.0)
    }
}

impl std::error::Error for RetryAfter {}

/// A message reported failed, with when to retry it if the handler said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub id: String,
    pub retry_after: Option<std::time::Duration>,
    /// The body cannot be understood: it belongs in the dead-letter queue now, where it
    /// blocks nothing (a retried poison message would block its FIFO group).
    pub poison: bool,
}

/// One message of a batch, whatever delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub body: String,
    pub group: Option<String>,
}

/// Runs `handler` on every record; returns the messages to report as failed. Records run
/// in lanes, concurrently: on a FIFO queue one lane per message group (in order within it),
/// on a standard queue one lane per message.
pub async fn run_batch<T, F, Fut>(records: Vec<Record>, fifo: bool, handler: F) -> Vec<Failure>
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut lanes: Vec<Vec<(usize, Record)>> = Vec::new();
    let mut lane_of_group: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, record) in records.into_iter().enumerate() {
        let lane = match (&record.group, fifo) {
            (Some(group), true) => *lane_of_group.entry(group.clone()).or_insert_with(|| {
                lanes.push(Vec::new());
                lanes.len() - 1
            }),
            _ => {
                lanes.push(Vec::new());
                lanes.len() - 1
            }
        };
        lanes[lane].push((index, record));
    }
    let handler = &handler;
    let outcomes = futures::future::join_all(lanes.into_iter().map(|lane| run_lane(lane, handler))).await;
    let mut failed: Vec<(usize, Failure)> = outcomes.into_iter().flatten().collect();
    failed.sort_by_key(|(index, _)| *index);
    failed.into_iter().map(|(_, f)| f).collect()
}

/// One lane, in order: once a record fails, the rest of the lane is reported failed without
/// running (a FIFO group keeps its order on retry). An unparseable record fails alone.
async fn run_lane<T, F, Fut>(lane: Vec<(usize, Record)>, handler: &F) -> Vec<(usize, Failure)>
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut failed = Vec::new();
    let mut blocked = false;
    for (index, record) in lane {
        if blocked {
            failed.push((index, Failure { id: record.id, retry_after: None, poison: false }));
            continue;
        }
        let job: T = match serde_json::from_str(&record.body) {
            Ok(job) => job,
            Err(e) => {
                // The id only: bodies may carry personal data.
                tracing::error!(message_id = %record.id, error = %e, "unparseable message: to the dead-letter queue");
                failed.push((index, Failure { id: record.id, retry_after: None, poison: true }));
                continue;
            }
        };
        let span = tracing::info_span!("message", id = %record.id);
        if let Err(e) = tracing::Instrument::instrument(handler(job), span).await {
            let retry_after = e.downcast_ref::<RetryAfter>().map(|r| r.0);
            if retry_after.is_none() {
                tracing::warn!(message_id = %record.id, error = %format!("{e:#}"), "job failed; it will be retried");
            }
            blocked = true;
            failed.push((index, Failure { id: record.id, retry_after, poison: false }));
        }
    }
    failed
}

/// Moves a poison message's body to the queue's dead-letter queue.
pub async fn to_dead_letters(
    queue: &dyn atende_core::ports::Queue,
    queue_name: &str,
    id: &str,
    body: &str,
) -> Result<(), atende_core::ports::QueueError> {
    // Group and deduplication id matter on FIFO dead-letter queues; the adapters drop them
    // on standard ones.
    let message = atende_core::ports::OutgoingMessage::new(body).group("poison").dedup(id);
    queue.send(&atende_core::queues::dlq_of(queue_name), message).await
}

/// The records of a Lambda SQS event, each with its receipt handle.
pub fn records_of(event: SqsEvent) -> Vec<(Record, String)> {
    event
        .records
        .into_iter()
        .map(|m| {
            let record = Record {
                id: m.message_id.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
                group: m.attributes.get("MessageGroupId").cloned(),
            };
            (record, m.receipt_handle.unwrap_or_default())
        })
        .collect()
}

/// Runs a Lambda SQS batch: the handler on each record, `RetryAfter` delays applied to the
/// messages' visibility, the failures reported to the event source mapping.
pub async fn run_lambda_batch<T, F, Fut>(
    queue: &dyn atende_core::ports::Queue,
    queue_name: &str,
    fifo: bool,
    event: SqsEvent,
    handler: F,
) -> SqsBatchResponse
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let records = records_of(event);
    let by_id: std::collections::HashMap<String, (String, String)> =
        records.iter().map(|(r, receipt)| (r.id.clone(), (receipt.clone(), r.body.clone()))).collect();
    let mut failed = run_batch(records.into_iter().map(|(r, _)| r).collect(), fifo, handler).await;
    let mut reported = Vec::new();
    for f in failed.drain(..) {
        let Some((receipt, body)) = by_id.get(&f.id) else { continue };
        if f.poison {
            match to_dead_letters(queue, queue_name, &f.id, body).await {
                Ok(()) => continue, // moved: report success so SQS deletes it
                Err(e) => tracing::warn!(message_id = %f.id, error = %e, "could not move a poison message"),
            }
        }
        if let Some(after) = f.retry_after
            && let Err(e) = queue.release(queue_name, receipt, after).await
        {
            tracing::warn!(message_id = %f.id, error = %e, "could not delay a message");
        }
        reported.push(f);
    }
    batch_response(reported)
}

/// The Lambda response reporting `failed` message ids.
pub fn batch_response(failed: Vec<Failure>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|f| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = f.id;
            failure
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(serde::Deserialize)]
    struct Job {
        n: u32,
    }

    fn ids(failed: Vec<Failure>) -> Vec<String> {
        failed.into_iter().map(|f| f.id).collect()
    }

    fn record(id: &str, body: &str, group: Option<&str>) -> Record {
        Record { id: id.into(), body: body.into(), group: group.map(Into::into) }
    }

    #[tokio::test]
    async fn only_failed_messages_are_reported() {
        let records = vec![
            record("1", r#"{"n":1}"#, None),
            record("2", r#"{"n":2}"#, None),
            record("3", r#"{"n":3}"#, None),
        ];
        let failed = run_batch(records, false, |job: Job| async move {
            if job.n == 2 { anyhow::bail!("boom") } else { Ok(()) }
        })
        .await;
        assert_eq!(ids(failed), vec!["2"]);
    }

    #[tokio::test]
    async fn on_fifo_a_failure_fails_the_rest_of_its_group_without_running_it() {
        let ran = Mutex::new(Vec::new());
        let records = vec![
            record("a1", r#"{"n":1}"#, Some("A")),
            record("b1", r#"{"n":10}"#, Some("B")),
            record("a2", r#"{"n":2}"#, Some("A")),
            record("b2", r#"{"n":11}"#, Some("B")),
            record("a3", r#"{"n":3}"#, Some("A")),
        ];
        let failed = run_batch(records, true, |job: Job| {
            ran.lock().unwrap().push(job.n);
            async move { if job.n == 1 { anyhow::bail!("boom") } else { Ok(()) } }
        })
        .await;
        assert_eq!(ids(failed), vec!["a1", "a2", "a3"]);
        let mut ran = ran.lock().unwrap().clone();
        ran.sort();
        assert_eq!(ran, vec![1, 10, 11], "a2 and a3 never ran");
    }

    #[tokio::test]
    async fn an_unparseable_body_fails_alone_and_never_its_neighbours() {
        let ran = Mutex::new(Vec::new());
        let records = vec![
            record("a1", "not json", Some("A")),
            record("a2", r#"{"n":2}"#, Some("A")),
            record("b1", r#"{"wrong":true}"#, Some("B")),
            record("b2", r#"{"n":4}"#, Some("B")),
        ];
        let failed = run_batch(records, true, |job: Job| {
            ran.lock().unwrap().push(job.n);
            async { Ok(()) }
        })
        .await;
        assert_eq!(ids(failed), vec!["a1", "b1"]);
        let mut ran = ran.lock().unwrap().clone();
        ran.sort();
        assert_eq!(ran, vec![2, 4]);
    }

    #[test]
    fn lambda_events_become_records_and_failures_a_batch_response() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({
            "Records": [{
                "messageId": "m-1",
                "receiptHandle": "r",
                "body": "{\"n\":1}",
                "attributes": {"MessageGroupId": "g-1", "ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:inbound.fifo",
                "awsRegion": "us-east-1"
            }]
        }))
        .unwrap();
        let records: Vec<Record> = records_of(event).into_iter().map(|(r, _)| r).collect();
        assert_eq!(records, vec![record("m-1", "{\"n\":1}", Some("g-1"))]);
        let response = serde_json::to_value(batch_response(vec![Failure {
            id: "m-1".into(),
            retry_after: None,
            poison: false,
        }]))
        .unwrap();
        assert_eq!(response["batchItemFailures"][0]["itemIdentifier"], "m-1");
    }
}
