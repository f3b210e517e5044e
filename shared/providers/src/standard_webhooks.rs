//! Outbound webhooks on the wire, as the Standard Webhooks specification (v1) defines
//! them: `POST` of the JSON body with `webhook-id` (the event's id, the same on every
//! attempt), `webhook-timestamp` (seconds since the epoch) and `webhook-signature`, one
//! `v1,<base64 HMAC-SHA256>` per valid secret, space-separated, each over
//! `<id>.<timestamp>.<body>` keyed by the secret's base64 part after `whsec_`. The call
//! goes through [`GuardedHttp`]: no internal target (checked after DNS), no redirect, 15 s.
//!
//! Written by hand: the HMAC is two lines with the `hmac` crate, and the `standardwebhooks`
//! crate would bring its own HTTP-free verifier only (the tests use it, from PyPI, to check
//! ours).

use crate::outbound_http::GuardedHttp;
use async_trait::async_trait;
use atende_core::ports::{HttpCalls, HttpError, HttpRequest, WebhookAnswer, WebhookMessage, WebhookSender};
use atende_core::secret::Secret;
use base64::Engine;
use hmac::{Hmac, Mac};

/// The answer's bytes kept for the delivery log.
const EXCERPT: usize = 512;

/// The signature of one secret: `v1,<base64>`. A secret that is not `whsec_<base64>` signs
/// with its raw bytes (never the case for secrets atende makes).
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &str) -> String {
    let raw = secret.expose();
    let key = raw
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| raw.as_bytes().to_vec());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// The sender: Standard Webhooks over the guarded client.
pub struct StandardWebhooks {
    http: GuardedHttp,
}

impl StandardWebhooks {
    pub fn new(http: GuardedHttp) -> Self {
        Self { http }
    }
}

#[async_trait]
impl WebhookSender for StandardWebhooks {
    fn check(&self, url: &str) -> Result<(), HttpError> {
        self.http.check_url(url)
    }

    async fn send(&self, m: &WebhookMessage) -> Result<WebhookAnswer, HttpError> {
        let signatures: Vec<String> =
            m.secrets.iter().map(|s| sign(s, &m.id, m.timestamp, &m.body)).collect();
        let request = HttpRequest {
            method: "POST".into(),
            url: m.url.clone(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("webhook-id".into(), m.id.clone()),
                ("webhook-timestamp".into(), m.timestamp.to_string()),
                ("webhook-signature".into(), signatures.join(" ")),
            ],
            body: Some(m.body.clone()),
        };
        let answer = self.http.call(request).await?;
        let cut = &answer.body[..answer.body.len().min(EXCERPT)];
        Ok(WebhookAnswer {
            status: answer.status,
            retry_after: answer.retry_after,
            excerpt: String::from_utf8_lossy(cut).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks specification (its test vectors).
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
