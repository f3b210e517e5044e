//! Where a request came from: the peer's address on the local server (axum's
//! `ConnectInfo`), the client's address API Gateway saw in a Lambda (`sourceIp` of the HTTP
//! API's request context). What login throttling and the audit log record.

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use std::net::{IpAddr, SocketAddr};

/// The extractor: the client's address, when known (never a rejection).
pub struct Source(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Source(of(&parts.extensions)))
    }
}

/// The client's address, when the runtime knows it.
pub fn of(extensions: &Extensions) -> Option<IpAddr> {
    if let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() {
        return Some(peer.ip());
    }
    match extensions.get::<lambda_http::request::RequestContext>()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => {
            context.http.source_ip.as_deref()?.parse().ok()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_address_of_a_local_connection_is_the_source() {
        let mut extensions = Extensions::new();
        assert_eq!(of(&extensions), None);
        extensions.insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 7], 5000))));
        assert_eq!(of(&extensions), Some(IpAddr::from([192, 0, 2, 7])));
    }

    #[test]
    fn the_source_ip_of_an_http_api_request_is_the_source() {
        let mut context = lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some("198.51.100.4".into());
        let mut extensions = Extensions::new();
        extensions.insert(lambda_http::request::RequestContext::ApiGatewayV2(context));
        assert_eq!(of(&extensions), Some(IpAddr::from([198, 51, 100, 4])));
    }
}
