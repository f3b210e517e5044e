//! WhatsApp Cloud API: webhook signatures and payloads, the Graph API client, and the
//! template catalogue.

pub mod client;
pub mod components;
pub mod signature;
pub mod templates;
pub mod webhook;

pub use client::CloudApi;
