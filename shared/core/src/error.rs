//! The error every use case returns: the cases a caller (the HTTP layer, a job) branches on.

use crate::ports::TableError;

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
    #[error("storage failed: {0}")]
    Storage(#[from] TableError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

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
}
