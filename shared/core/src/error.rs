//! The error every use case returns: the cases a caller (the HTTP layer, a job) branches on.
//!
//! Two families: the caller's mistakes (`NotFound`, `Forbidden`, `Conflict`, `Invalid`,
//! `Unauthenticated`, `BadCursor`), answered 4xx with their message; and our own failures
//! (`Storage`, `Queue`, `Blob`, `Internal`), answered 503 (a backend is unavailable: retry)
//! or 500 with an opaque body, their cause logged. A backend's text never reaches a client.

use crate::ports::{BlobError, QueueError, TableError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing does not exist in the caller's account (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request clashes with the current state (taken email, concurrent change, ...).
    #[error("{0}")]
    Conflict(String),
    /// The request itself is wrong.
    #[error("{0}")]
    Invalid(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many attempts: the caller may try again after `retry_after` (login throttling).
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after: std::time::Duration },
    /// A listing's cursor is not one it returned.
    #[error("the cursor is not one this listing returned")]
    BadCursor,
    /// The table failed.
    #[error("storage failed: {0}")]
    Storage(TableError),
    /// A queue failed.
    #[error("queue failed: {0}")]
    Queue(#[from] QueueError),
    /// The blob store failed.
    #[error("blob store failed: {0}")]
    Blob(#[from] BlobError),
    /// The provider (Meta) did not answer, or answered with a failure of its own: the
    /// same request may succeed later.
    #[error("the provider failed: {0}")]
    Provider(crate::ports::ProviderError),
    /// Posting to a live WebSocket connection failed (other than the client being gone).
    #[error("a live connection failed: {0}")]
    Socket(#[from] crate::ports::SocketError),
    /// A failure of ours that no retry mends (a record or job that does not encode).
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<TableError> for ServiceError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::BadCursor => ServiceError::BadCursor,
            other => ServiceError::Storage(other),
        }
    }
}

impl From<crate::ports::SealError> for ServiceError {
    fn from(e: crate::ports::SealError) -> Self {
        ServiceError::Internal(format!("a stored secret: {e}"))
    }
}

impl From<serde_json::Error> for ServiceError {
    fn from(e: serde_json::Error) -> Self {
        ServiceError::Internal(format!("cannot encode or decode JSON: {e}"))
    }
}

impl From<serde_dynamo::Error> for ServiceError {
    fn from(e: serde_dynamo::Error) -> Self {
        ServiceError::Internal(format!("cannot encode or decode a table attribute: {e}"))
    }
}

impl ServiceError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ServiceError::Invalid(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ServiceError::Conflict(message.into())
    }

    /// True when a backend was unavailable (the same request may succeed later).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ServiceError::Storage(TableError::Backend(_))
                | ServiceError::Queue(QueueError::Backend(_))
                | ServiceError::Blob(BlobError::Backend(_))
                | ServiceError::Socket(crate::ports::SocketError::Backend(_))
        )
    }
}
