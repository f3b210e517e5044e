//! The test fixtures kept in the repository (`shared/testkit/fixtures`).

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `shared/testkit/fixtures/<name>`, e.g. `whatsapp/message.json` (pywa's payloads, MIT).
pub fn shared_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}
