//! The outbound HTTP port: calls to URLs users give (a flow's HTTP node, later outbound
//! webhooks). The adapter refuses private, loopback and link-local targets (checked after
//! DNS resolution), follows no redirect, bounds the time and the answer's size.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// The answer's `Retry-After`, in seconds, when it gave one.
    pub retry_after: Option<std::time::Duration>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    /// The target is not allowed (a private, loopback or link-local address; not http(s)).
    #[error("refused: {0}")]
    Refused(String),
    #[error("no answer in time")]
    Timeout,
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("could not call: {0}")]
    Transport(String),
}

#[async_trait]
pub trait HttpCalls: Send + Sync {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
}
