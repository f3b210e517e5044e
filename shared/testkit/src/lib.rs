//! What the tests share: the port contract suite (one definition, run against both adapter
//! sets), the harnesses that build each set, and fixtures.

pub mod contract;
pub mod fake_graph;
pub mod faults;
pub mod fixtures;
pub mod harness;
