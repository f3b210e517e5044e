//! Bad input at the HTTP edge: whatever arrives, the webhook answers 200 or a clear 4xx
//! with a JSON error, never a 5xx, and keeps serving.

use crate::stack::{Stack, sign};
use axum::http::StatusCode;
use proptest::prelude::*;

#[test]
fn any_webhook_body_gets_200_or_a_clear_4xx() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stack = runtime.block_on(Stack::new());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(10_000));
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        ".{0,200}".prop_map(String::into_bytes),
        "\\{\"entry\":\\[.{0,100}\\]\\}".prop_map(String::into_bytes),
    ];
    runner
        .run(&(bodies, any::<bool>()), |(body, signed)| {
            let signature = signed.then(|| sign(&body));
            let (status, answer) = runtime.block_on(stack.post_webhook(&body, signature));
            prop_assert!(status == StatusCode::OK || status.is_client_error(), "{status} for {body:?}");
            if status.is_client_error() {
                prop_assert!(answer["error"].is_string() && answer["message"].is_string(), "{answer}");
            }
            if !signed {
                prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
            }
            Ok(())
        })
        .unwrap();
}
