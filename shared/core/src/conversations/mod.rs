//! Conversations (PRODUCT.md §2–§4, §12): channels, contacts, sessions, messages, the
//! application of provider events, and delivery.

pub mod cards;
pub mod channel_kind;
pub mod channels;
pub mod contact_index;
pub mod contacts;
pub mod delivery;
pub mod events;
pub mod field_removal;
pub mod imports;
pub mod inbound;
pub mod kinds;
pub mod lifecycle;
pub mod messages;
pub mod meta_errors;
pub mod model;
pub mod notes;
pub mod phone;
pub mod receipts;
pub mod sessions;
pub mod tagging;
pub mod template_model;
pub mod templates;
pub mod uploads;
pub mod variables;
pub mod wallets;

pub use model::*;
