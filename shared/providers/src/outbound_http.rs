//! Calls to URLs users give, guarded: the target's addresses (after DNS resolution, and an
//! IP literal as written) must be public — no loopback, private (RFC 1918, unique local),
//! link-local (cloud metadata at 169.254.169.254), CGNAT, multicast or unspecified ones —
//! no redirect is followed (a 3xx is the answer), 15 s at most, 256 KiB at most.
//!
//! Written here because reqwest checks none of this itself; its resolver hook lets the
//! check run on the very addresses the connection uses, so a name re-resolving to an
//! internal address between a check and the call (DNS rebinding) cannot slip through.

use async_trait::async_trait;
use atende_core::ports::{HttpCalls, HttpError, HttpRequest, HttpResponse};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How long a call may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The largest answer read.
pub const MAX_BODY: usize = 256 * 1024;

/// Whether `ip` is a public address a user-given URL may reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 onto any v4
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64.0.0/10
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || o[0] >= 240)
}

/// Resolves names and refuses any that has a non-public address.
struct PublicOnly {
    allow: Arc<Vec<SocketAddr>>,
    /// Names answered without DNS (as `/etc/hosts` would; tests name internal targets).
    hosts: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow = self.allow.clone();
        let fixed = self.hosts.get(&host).cloned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match fixed {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if let Some(bad) =
                addrs.iter().find(|a| !is_public(a.ip()) && !allow.iter().any(|x| x.ip() == a.ip()))
            {
                return Err(format!("{host} resolves to a non-public address ({})", bad.ip()).into());
            }
            let out: Addrs = Box::new(addrs.into_iter());
            Ok(out)
        })
    }
}

/// The guarded client.
pub struct GuardedHttp {
    client: reqwest::Client,
    allow: Arc<Vec<SocketAddr>>,
}

impl GuardedHttp {
    /// `allow`: internal addresses let through anyway (a local integrator during
    /// development and tests; `ATENDE_HTTP_ALLOW`), each exactly as `ip:port`.
    pub fn new(allow: Vec<SocketAddr>) -> Self {
        Self::with_hosts(allow, HashMap::new())
    }

    /// [`GuardedHttp::new`], with `hosts` answering some names without DNS (their
    /// addresses are checked like any other).
    pub fn with_hosts(allow: Vec<SocketAddr>, hosts: HashMap<String, Vec<IpAddr>>) -> Self {
        let allow = Arc::new(allow);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent("atende/1")
            .dns_resolver(Arc::new(PublicOnly { allow: allow.clone(), hosts: Arc::new(hosts) }))
            .build()
            .unwrap_or_default();
        Self { client, allow }
    }

    /// Whether `url` may be called, as far as can be told without DNS: http(s), and no
    /// internal address written in it (unless allowed).
    pub fn check_url(&self, url: &str) -> Result<(), HttpError> {
        let url = reqwest::Url::parse(url).map_err(|e| HttpError::Refused(format!("bad URL: {e}")))?;
        self.check(&url)
    }

    fn check(&self, url: &reqwest::Url) -> Result<(), HttpError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HttpError::Refused("only http and https URLs".into()));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(HttpError::Refused("the URL has no host".into())),
        };
        if let Some(ip) = literal
            && !is_public(ip)
            && !self.allow.contains(&SocketAddr::new(ip, port))
        {
            return Err(HttpError::Refused(format!("{ip} is not a public address")));
        }
        Ok(())
    }
}

#[async_trait]
impl HttpCalls for GuardedHttp {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url =
            reqwest::Url::parse(&request.url).map_err(|e| HttpError::Refused(format!("bad URL: {e}")))?;
        self.check(&url)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::Refused("bad method".into()))?;
        let mut builder = self.client.request(method, url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = crate::retry_after(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge(MAX_BODY));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, body, retry_after })
    }
}

fn transport(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return HttpError::Timeout;
    }
    // The resolver's refusal comes back as a connect error: keep its words.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    if text.contains("non-public address") { HttpError::Refused(text) } else { HttpError::Transport(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public_and_internet_ones_are() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "200.147.67.142"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    fn get(url: &str) -> HttpRequest {
        HttpRequest { method: "GET".into(), url: url.into(), headers: vec![], body: None }
    }

    /// A one-shot HTTP server on loopback answering `response` to every request.
    async fn serve(response: &'static str) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn loopback_private_link_local_and_names_resolving_to_them_are_refused() {
        let open = serve("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
        let http = GuardedHttp::new(vec![]);
        for url in [
            format!("http://127.0.0.1:{}/", open.port()),
            "http://10.0.0.1/".to_owned(),
            "http://10.255.1.2:8080/x".to_owned(),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            format!("http://[::1]:{}/", open.port()),
            format!("http://localhost:{}/", open.port()),
            "http://0x7f000001/".to_owned(),
            "file:///etc/passwd".to_owned(),
        ] {
            match http.call(get(&url)).await {
                Err(HttpError::Refused(_)) => {}
                other => panic!("{url}: {other:?}"),
            }
        }
        let allowed = GuardedHttp::new(vec![open]);
        let ok = allowed.call(get(&format!("http://{open}/"))).await.unwrap();
        assert_eq!((ok.status, ok.body.as_slice()), (200, &b"ok"[..]), "an allowed internal target answers");
    }

    #[tokio::test]
    async fn a_redirect_is_the_answer_never_followed_and_a_large_answer_is_refused() {
        let redirect =
            serve("HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n")
                .await;
        let http = GuardedHttp::new(vec![redirect]);
        assert_eq!(http.call(get(&format!("http://{redirect}/"))).await.unwrap().status, 302);
        let big: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{}",
                MAX_BODY + 1,
                "x".repeat(MAX_BODY + 1)
            )
            .into_boxed_str(),
        );
        let large = serve(big).await;
        let http = GuardedHttp::new(vec![large]);
        assert_eq!(http.call(get(&format!("http://{large}/"))).await, Err(HttpError::TooLarge(MAX_BODY)));
    }
}
