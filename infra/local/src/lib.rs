//! The one-machine runtime as a library: the `atende` binary's commands, and `serve::start`
//! for whoever needs the whole product in-process (the benchmarks).

pub mod admin;
pub mod console;
pub mod registry;
pub mod serve;
pub mod simulate;
mod tick;
