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

    async fn presigned_put(
        &self,
        _: &str,
        _: &str,
        _: u64,
        _: Duration,
    ) -> Result<atende_core::ports::blob::PresignedPut, BlobError> {
        Err(BlobError::Backend(down()))
    }

    async fn head(&self, _: &str) -> Result<Option<(u64, String)>, BlobError> {
        Err(BlobError::Backend(down()))
    }
}

/// A table that works for its first `writes` writes (puts, updates, deletes, transactions)
/// and then fails every write as a crashed process would stop writing: what a job left
/// half done looks like to the run that resumes it.
pub struct TableThatDies {
    inner: std::sync::Arc<dyn atende_core::ports::Table>,
    left: std::sync::atomic::AtomicI64,
}

impl TableThatDies {
    pub fn after(inner: std::sync::Arc<dyn atende_core::ports::Table>, writes: i64) -> Self {
        Self { inner, left: std::sync::atomic::AtomicI64::new(writes) }
    }

    fn write(&self) -> Result<(), atende_core::ports::TableError> {
        if self.left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) <= 0 {
            return Err(atende_core::ports::TableError::Backend(down()));
        }
        Ok(())
    }
}

#[async_trait]
impl atende_core::ports::Table for TableThatDies {
    async fn get(
        &self,
        key: &atende_core::ports::Key,
    ) -> Result<Option<atende_core::ports::Item>, atende_core::ports::TableError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: atende_core::ports::Item,
        condition: Option<atende_core::ports::Condition>,
    ) -> Result<(), atende_core::ports::TableError> {
        self.write()?;
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &atende_core::ports::Key,
        ops: Vec<atende_core::ports::UpdateOp>,
        condition: Option<atende_core::ports::Condition>,
    ) -> Result<atende_core::ports::Item, atende_core::ports::TableError> {
        self.write()?;
        self.inner.update(key, ops, condition).await
    }
    async fn delete(
        &self,
        key: &atende_core::ports::Key,
        condition: Option<atende_core::ports::Condition>,
    ) -> Result<(), atende_core::ports::TableError> {
        self.write()?;
        self.inner.delete(key, condition).await
    }
    async fn query(
        &self,
        query: atende_core::ports::Query,
    ) -> Result<atende_core::ports::Page, atende_core::ports::TableError> {
        self.inner.query(query).await
    }
    async fn transact(
        &self,
        items: Vec<atende_core::ports::TransactItem>,
    ) -> Result<(), atende_core::ports::TableError> {
        self.write()?;
        self.inner.transact(items).await
    }
}
