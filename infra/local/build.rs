//! Builds the console (`console/`: Preact and TypeScript, bundled by Vite) into `OUT_DIR`,
//! where `src/console.rs` embeds it in the `atende` binary: running atende needs no Node,
//! building it does (Node.js 20+ with npm, packages from `console/package-lock.json`).
//! `ATENDE_CONSOLE_DIST=<dir>` embeds an already built console instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let console = manifest.join("../../console");
    for input in ["src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"]
    {
        println!("cargo:rerun-if-changed={}", console.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=ATENDE_CONSOLE_DIST");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("console");
    if let Ok(dist) = std::env::var("ATENDE_CONSOLE_DIST") {
        copy_dir(Path::new(&dist), &out);
        return;
    }
    if !console.join("node_modules/.package-lock.json").exists() {
        // The lockfile's versions, the lockfile left alone (see scripts/test on `npm ci`).
        run(
            Command::new("npm")
                .args(["install", "--no-save", "--no-audit", "--no-fund"])
                .current_dir(&console),
            "npm install",
        );
    }
    run(
        Command::new("node")
            .arg("node_modules/vite/bin/vite.js")
            .args(["build", "--logLevel", "warn"])
            .env("ATENDE_CONSOLE_OUT", &out)
            .current_dir(&console),
        "vite build",
    );
}

fn run(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|e| {
        panic!(
            "{what}: {e}. The console is built with Node.js 20+ and npm (Debian: apt-get install nodejs npm), \
             or set ATENDE_CONSOLE_DIST to a built console"
        )
    });
    assert!(status.success(), "{what} failed ({status}) in console/");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the console's output directory");
    for entry in
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("ATENDE_CONSOLE_DIST {}: {e}", from.display()))
    {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("a console file copied");
        }
    }
}
