//! WhatsApp Cloud API: webhook signatures and payloads, and the Graph API client.

pub mod client;
pub mod signature;
pub mod webhook;

pub use client::CloudApi;
