//! `X-Hub-Signature-256`: `sha256=<hex HMAC-SHA256 of the raw body with the app secret>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` signs `body` with `secret` (constant-time comparison).
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(expected) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The header value for `body` (what Meta sends; used by `atende simulate` and tests).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_its_body_and_secret() {
        let header = sign(b"secret", b"{\"a\":1}");
        assert!(verify(b"secret", b"{\"a\":1}", Some(&header)));
        assert!(!verify(b"secret", b"{\"a\":2}", Some(&header)));
        assert!(!verify(b"other", b"{\"a\":1}", Some(&header)));
        assert!(!verify(b"secret", b"{\"a\":1}", None));
        assert!(!verify(b"secret", b"{\"a\":1}", Some("sha256=zz")));
        assert!(!verify(b"secret", b"{\"a\":1}", Some(header.trim_start_matches("sha256="))));
    }
}
