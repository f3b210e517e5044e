//! Handlers: parse, call the domain with the caller, answer. No rule lives here.

pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod chat;
pub mod contacts;
pub mod conversations;
pub mod crm;
pub mod flows;
pub mod live;
pub mod payments;
pub mod reports;
pub mod routing;
pub mod tags;
pub mod teams;
pub mod tokens;
pub mod users;
pub mod webhooks;
