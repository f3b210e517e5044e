//! Paths to the shared fixtures (`../shared` beside the repository root).

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/fixtures/<name>` beside the repository.
pub fn shared_fixture(name: &str) -> PathBuf {
    repo_root().join("../shared/fixtures").join(name)
}
