//! The sockets port on API Gateway's WebSocket API: `PostToConnection` on the stage's
//! management endpoint (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`).

use async_trait::async_trait;
use atende_core::ports::{SocketError, Sockets};
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::DisplayErrorContext;
use aws_sdk_apigatewaymanagement::primitives::Blob;

#[derive(Clone)]
pub struct ApiGatewaySockets {
    client: Client,
}

impl ApiGatewaySockets {
    /// Posts through `endpoint`, the stage's management URL.
    pub fn new(config: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(config).endpoint_url(endpoint).build();
        Self { client: Client::from_conf(conf) }
    }
}

#[async_trait]
impl Sockets for ApiGatewaySockets {
    async fn post(&self, connection_id: &str, data: &[u8]) -> Result<(), SocketError> {
        match self.client.post_to_connection().connection_id(connection_id).data(Blob::new(data)).send().await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_gone_exception()) => Err(SocketError::Gone),
            Err(e) => {
                Err(SocketError::Backend(Box::new(std::io::Error::other(DisplayErrorContext(e).to_string()))))
            }
        }
    }
}
