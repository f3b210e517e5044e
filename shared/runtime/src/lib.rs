//! What every function shares at its edges: settings, telemetry, the [`AppContext`] wiring
//! (AWS or embedded), HTTP errors and authentication, the SQS batch runner and the local
//! queue consumer loop.

pub mod auth;
pub mod batch;
#[cfg(feature = "embedded")]
pub mod blobs;
pub mod consumer;
pub mod context;
pub mod extract;
pub mod function;
pub mod http;
pub mod http_error;
pub mod jwt;
pub mod lambda;
pub mod limits;
pub mod seal;
pub mod settings;
pub mod source;
pub mod telemetry;

pub use context::AppContext;
pub use http_error::ApiError;
