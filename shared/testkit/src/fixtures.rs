//! The test fixtures kept in the repository (`shared/testkit/fixtures`).

use std::path::{Path, PathBuf};

/// The repository root, found from the running test's package directory (cargo sets
/// `CARGO_MANIFEST_DIR` when it runs a test) rather than from where this crate was compiled:
/// a build cache shared by two clones would otherwise point into the other clone.
pub fn repo_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    start
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file() && dir.join("shared/testkit").is_dir())
        .map_or(start.clone(), Path::to_path_buf)
}

/// `shared/testkit/fixtures/<name>`, e.g. `whatsapp/message.json` (pywa's payloads, MIT).
pub fn shared_fixture(name: &str) -> PathBuf {
    repo_root().join("shared/testkit/fixtures").join(name)
}
