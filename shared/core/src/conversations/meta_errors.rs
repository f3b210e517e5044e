//! What a provider error means for a message: retry later, or fail now with a reason in
//! plain words for agents (PRODUCT.md §4).

use crate::ports::ProviderError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Try again with backoff.
    Retry,
    /// Fail the message now; `reason` is shown to agents.
    Fail { code: Option<i64>, reason: String },
}

pub fn judge(error: &ProviderError) -> Verdict {
    let fail = |code: i64, reason: &str| Verdict::Fail { code: Some(code), reason: reason.to_owned() };
    match error {
        ProviderError::Coded { code, title } => match *code {
            130429 | 131056 | 131000 | 2 | 1 => Verdict::Retry,
            131047 => {
                fail(*code, "More than 24 hours since the customer last wrote: send an approved template.")
            }
            131026 => fail(
                *code,
                "WhatsApp could not deliver this message to the number (not on WhatsApp or not reachable).",
            ),
            131049 | 130472 => {
                fail(*code, "Meta held this marketing template back for this customer; do not retry now.")
            }
            131048 => fail(*code, "The number is limited by Meta for spam; messages are being blocked."),
            132000 | 132001 | 132012 | 135000 => {
                fail(*code, "The template does not exist or its parameters do not match; check the template.")
            }
            131031 => fail(*code, "The WhatsApp Business account is locked by Meta."),
            131051 => fail(*code, "This message type is not supported."),
            131052 | 131053 => fail(*code, "The media could not be downloaded or sent; check the file."),
            100 => fail(*code, &format!("Meta refused the request: {title}")),
            other => fail(other, &format!("Meta refused the message: {title} (code {other})")),
        },
        ProviderError::Http(status) if *status >= 500 || *status == 429 => Verdict::Retry,
        ProviderError::Http(status) => {
            Verdict::Fail { code: None, reason: format!("The provider refused the message (HTTP {status}).") }
        }
        ProviderError::Timeout | ProviderError::Transport(_) | ProviderError::RateLimited { .. } => {
            Verdict::Retry
        }
        ProviderError::Refused(reason) => Verdict::Fail { code: None, reason: reason.clone() },
    }
}

/// Why a message failed, from a `failed` status Meta reported after the send (its error
/// code and title, when it gave them).
pub fn reason_of_failed_status(code: Option<i64>, title: Option<&str>) -> String {
    let error =
        ProviderError::Coded { code: code.unwrap_or(131000), title: title.unwrap_or_default().to_owned() };
    match judge(&error) {
        Verdict::Fail { reason, .. } => reason,
        Verdict::Retry => format!("WhatsApp reported a failure: {}", title.unwrap_or("unknown error")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(code: i64) -> ProviderError {
        ProviderError::Coded { code, title: "t".into() }
    }

    #[test]
    fn throughput_and_transient_errors_are_retried() {
        for e in
            [coded(130429), coded(131056), coded(131000), ProviderError::Http(500), ProviderError::Timeout]
        {
            assert_eq!(judge(&e), Verdict::Retry, "{e:?}");
        }
    }

    #[test]
    fn permanent_errors_fail_with_a_reason() {
        for code in [131047, 131026, 131049, 130472, 131048, 132000, 132001, 132012, 135000, 131031] {
            match judge(&coded(code)) {
                Verdict::Fail { code: Some(c), reason } => {
                    assert_eq!(c, code);
                    assert!(reason.len() > 20);
                }
                other => panic!("{code}: {other:?}"),
            }
        }
    }
}
