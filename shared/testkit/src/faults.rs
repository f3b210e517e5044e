//! Ports that fail: a queue and a blob store whose backend is down, for tests of how
//! infrastructure failures reach callers.

use async_trait::async_trait;
use atende_core::ports::{Blob, BlobError, OutgoingMessage, Queue, QueueError, ReceivedMessage, StoredBlob};
use std::time::Duration;

/// What the failing backends say; a test asserts it never reaches a client.
pub const BACKEND_TEXT: &str = "connection refused by the backend at 10.1.2.3:4566";

fn down() -> Box<dyn std::error::Error + Send + Sync> {
    BACKEND_TEXT.into()
}

/// A queue whose every call fails as an unreachable SQS would.
pub struct DownQueue;

#[async_trait]
impl Queue for DownQueue {
    async fn send(&self, _: &str, _: OutgoingMessage) -> Result<(), QueueError> {
        Err(QueueError::Backend(down()))
    }
    async fn send_batch(&self, _: &str, _: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        Err(QueueError::Backend(down()))
    }
    async fn receive(&self, _: &str, _: u32, _: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        Err(QueueError::Backend(down()))
    }
    async fn ack(&self, _: &str, _: &str) -> Result<(), QueueError> {
        Err(QueueError::Backend(down()))
    }
    async fn release(&self, _: &str, _: &str, _: Duration) -> Result<(), QueueError> {
        Err(QueueError::Backend(down()))
    }
}

/// A blob store whose every call fails as an unreachable S3 would.
pub struct DownBlob;

#[async_trait]
impl Blob for DownBlob {
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), BlobError> {
        Err(BlobError::Backend(down()))
    }
    async fn get(&self, _: &str) -> Result<Option<StoredBlob>, BlobError> {
        Err(BlobError::Backend(down()))
    }
    async fn delete(&self, _: &str) -> Result<(), BlobError> {
        Err(BlobError::Backend(down()))
    }
    async fn presigned_get_url(&self, _: &str, _: Duration) -> Result<String, BlobError> {
        Err(BlobError::Backend(down()))
    }
}
