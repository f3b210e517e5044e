//! atende's domain: types, rules and use cases, and the ports (traits) they need.
//!
//! Nothing here sees an AWS SDK type, SQL or an HTTP framework type. Adapters live in
//! `atende-embedded` and `atende-aws`; HTTP lives in `atende-runtime` and the functions.

pub mod accounts;
pub mod audit;
pub mod cache;
pub mod campaigns;
pub mod chat;
pub mod conversations;
pub mod crm;
pub mod csat;
pub mod deps;
pub mod error;
pub mod events;
pub mod features;
pub mod flows;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod live;
pub mod outbox;
pub mod payments;
pub mod ports;
pub mod privacy;
pub mod queues;
pub(crate) mod record;
pub mod reports;
pub mod routing;
pub mod secret;
pub mod time;
pub mod transcription;
pub mod webhooks;

pub use deps::Deps;
pub use error::{ServiceError, ServiceResult};
