//! End-to-end tests: the `atende` binary as a user runs it, and whole conversations through
//! the same routers and consumers, in-process, on the injected clock.

mod binary;
mod binary_kills;
mod cache;
mod campaigns;
mod catalog;
mod channels;
mod console;
mod conversations;
mod csat;
mod flows;
mod hooks;
mod live;
mod payments;
mod privacy;
mod properties;
mod reactions;
mod reports;
mod routing;
mod stack;
mod template;
mod transcription;
