//! Campaigns (*campanhas*) and sequences (*sequências*): a feature on top of conversations
//! (PRODUCT.md §7–§8).
//!
//! - [`store`]: campaigns as people edit them and their state machine (`draft →
//!   scheduled → running → collecting → completed`, plus `paused`, `cancelled`, `failed`).
//! - [`lifecycle`]: start, the scheduled start, pause, resume, cancel.
//! - [`fanout`]: the `campaigns` function's hops: audience → recipients once, recipients →
//!   `send`, paced and watched.
//! - [`bulk`]: one campaign recipient or sequence step message, delivered by `send` in the
//!   channel's bulk lane (agents first), exactly once, with the funnel counters.
//! - [`replies`]: reactions: replies attributed, opt-outs, statuses, templates held.
//! - [`report`]: funnel, recipients, CSV export, cost estimate.
//! - [`sequences`]: steps on the one timer mechanism, enrolments once at a time.
//! - [`window`]: allowed sending hours in the account's zone.

pub mod bulk;
pub mod fanout;
pub mod lifecycle;
pub mod model;
pub mod replies;
pub mod report;
pub mod sequences;
pub mod store;
pub mod window;

/// Contacts a campaign may list one by one (larger audiences come by tag or import).
pub const MAX_LISTED_CONTACTS: usize = 10_000;
