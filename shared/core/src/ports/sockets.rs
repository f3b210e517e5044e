//! Messages to connected WebSocket clients (API Gateway's connections on AWS).

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The client is no longer connected (API Gateway answers 410): forget the connection.
    #[error("the connection is gone")]
    Gone,
    #[error("posting to the connection failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[async_trait]
pub trait Sockets: Send + Sync {
    /// Sends `data` (one text frame) to the connection.
    async fn post(&self, connection_id: &str, data: &[u8]) -> Result<(), SocketError>;
}
