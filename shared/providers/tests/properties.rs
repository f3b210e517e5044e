//! Property tests of what faces the internet: the webhook parser and the signature check.

use atende_providers::whatsapp::signature;
use atende_providers::whatsapp::webhook::{Route, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture_texts() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(load_fixtures)
}

fn load_fixtures() -> Vec<String> {
    // The package directory at run time (cargo sets it), not the one compiled in: a build
    // cache shared by two clones would otherwise read the other clone's files.
    let package = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let dir = std::path::PathBuf::from(package).join("../testkit/fixtures/whatsapp");
    let mut out = Vec::new();
    for file in [
        "message.json",
        "message_status.json",
        "callback_button.json",
        "callback_selection.json",
        "system.json",
    ] {
        let all: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        for (_, payload) in all.as_object().unwrap() {
            out.push(payload.to_string());
        }
    }
    out
}

/// Arbitrary JSON values, with the webhook's own keys likely.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("entry".to_owned()),
                    Just("changes".to_owned()),
                    Just("value".to_owned()),
                    Just("messages".to_owned()),
                    Just("statuses".to_owned()),
                    Just("field".to_owned()),
                    Just("type".to_owned()),
                    Just("id".to_owned()),
                    Just("from".to_owned()),
                    Just("metadata".to_owned()),
                    Just("timestamp".to_owned()),
                    ".{0,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes, &Route::ByProviderId);
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_json_shapes(value in any_json()) {
        let _ = parse(value.to_string().as_bytes(), &Route::ByProviderId);
        let wrapped = json!({"object": "whatsapp_business_account", "entry": [value]}).to_string();
        let _ = parse(wrapped.as_bytes(), &Route::Channel("c".into()));
    }

    #[test]
    fn the_parser_survives_any_mutation_of_real_payloads(index in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), junk in ".{0,8}") {
        let texts = fixture_texts();
        let text = index.get(texts);
        let at = cut.index(text.len().max(1)).min(text.len());
        let mut mutated = text.as_bytes()[..at].to_vec();
        mutated.extend_from_slice(junk.as_bytes());
        mutated.extend_from_slice(&text.as_bytes()[at..]);
        let _ = parse(&mutated, &Route::ByProviderId);
    }

    #[test]
    fn only_the_right_secret_and_body_verify(
        secret in prop::collection::vec(any::<u8>(), 1..64),
        body in prop::collection::vec(any::<u8>(), 0..256),
        other in prop::collection::vec(any::<u8>(), 1..64),
        header in ".{0,80}",
    ) {
        let signed = signature::sign(&secret, &body);
        prop_assert!(signature::verify(&secret, &body, Some(&signed)));
        if other != secret {
            prop_assert!(!signature::verify(&other, &body, Some(&signed)));
        }
        let mut tampered = body.clone();
        tampered.push(b'x');
        prop_assert!(!signature::verify(&secret, &tampered, Some(&signed)));
        prop_assert!(!signature::verify(&secret, &body, Some(&header)) || header.trim() == signed);
    }
}

#[test]
fn every_real_fixture_parses_into_events() {
    for text in fixture_texts() {
        let events = parse(text.as_bytes(), &Route::ByProviderId).unwrap();
        assert!(!events.is_empty(), "{text}");
    }
}
