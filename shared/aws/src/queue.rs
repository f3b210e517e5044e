//! The queue port on SQS.

use async_trait::async_trait;
use atende_core::ports::QueueError;
use atende_core::ports::queue::{self, OutgoingMessage, QueueSpec, ReceivedMessage, SQS_BATCH};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    /// Logical name → (queue URL, spec). Dead-letter queues are listed as `<name>-dlq`.
    queues: Arc<HashMap<String, (String, QueueSpec)>>,
}

fn backend<E>(e: aws_sdk_sqs::error::SdkError<E, aws_sdk_sqs::config::http::HttpResponse>) -> QueueError
where
    E: std::error::Error + Send + Sync + 'static,
{
    QueueError::Backend(Box::new(std::io::Error::other(DisplayErrorContext(&e).to_string())))
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i32::MAX)
}

impl SqsQueue {
    /// `queues`: logical name → (URL, spec), dead-letter queues included.
    pub fn new(client: Client, queues: HashMap<String, (String, QueueSpec)>) -> Self {
        Self { client, queues: Arc::new(queues) }
    }

    fn lookup(&self, queue: &str) -> Result<&(String, QueueSpec), QueueError> {
        self.queues.get(queue).ok_or_else(|| QueueError::UnknownQueue(queue.to_owned()))
    }
}

#[async_trait]
impl atende_core::ports::Queue for SqsQueue {
    async fn send(&self, queue: &str, message: OutgoingMessage) -> Result<(), QueueError> {
        self.send_batch(queue, vec![message]).await
    }

    async fn send_batch(&self, queue: &str, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        let (url, spec) = self.lookup(queue)?;
        for m in &messages {
            queue::validate_message(spec, m)?;
        }
        for chunk in messages.chunks(SQS_BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, m) in chunk.iter().enumerate() {
                let mut entry =
                    SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(&m.body);
                if spec.fifo {
                    entry = entry
                        .set_message_group_id(m.group.clone())
                        .message_deduplication_id(queue::effective_dedup_id(m));
                } else if !m.delay.is_zero() {
                    entry = entry.delay_seconds(secs(m.delay));
                }
                entries.push(entry.build().map_err(|e| QueueError::Invalid(e.to_string()))?);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(backend)?;
            if let Some(failed) = out.failed.first() {
                return Err(QueueError::Backend(Box::new(std::io::Error::other(format!(
                    "SQS refused a message: {} {}",
                    failed.code,
                    failed.message.as_deref().unwrap_or("")
                )))));
            }
        }
        Ok(())
    }

    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let (url, _) = self.lookup(queue)?;
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, SQS_BATCH as u32) as i32)
            .visibility_timeout(secs(visibility))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(backend)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let attrs = m.attributes.unwrap_or_default();
                ReceivedMessage {
                    id: m.message_id.unwrap_or_default(),
                    receipt: m.receipt_handle.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    group: attrs.get(&MessageSystemAttributeName::MessageGroupId).cloned(),
                    receive_count: attrs
                        .get(&MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                }
            })
            .collect())
    }

    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        let (url, _) = self.lookup(queue)?;
        self.client.delete_message().queue_url(url).receipt_handle(receipt).send().await.map_err(backend)?;
        Ok(())
    }

    async fn release(&self, queue: &str, receipt: &str, after: Duration) -> Result<(), QueueError> {
        let (url, _) = self.lookup(queue)?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(secs(after))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
