//! Chatbot flows (PRODUCT.md §9), a feature: flows as versioned JSON graphs
//! ([`model`], checked by [`validate`], kept by [`store`]), a pure engine ([`engine`]),
//! runs that apply each input once ([`runs`]) and the triggers that start them
//! ([`triggers`]). The `flows` function consumes the `flows` queue.

pub mod engine;
pub mod model;
pub mod runs;
pub mod store;
pub mod triggers;
pub mod validate;
