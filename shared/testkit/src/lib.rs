//! What the tests share: the port contract suite (one definition, run against both adapter
//! sets), the harnesses that build each set, and fixtures.

pub mod audio;
pub mod contract;
pub mod fake_asaas;
pub mod fake_graph;
pub mod fake_stt;
pub mod faults;
pub mod fixtures;
pub mod harness;
