//! AWS adapters: DynamoDB for the table, SQS for the queues, S3 for blobs, KMS for the
//! data key that seals stored secrets. The only crate
//! that sees the AWS SDK. Every client takes an endpoint override so the same code runs
//! against `moto_server` in tests.

pub mod blob;
pub mod config;
mod convert;
mod expr;
pub mod kms;
pub mod provision;
pub mod queue;
pub mod sockets;
pub mod table;

pub use blob::S3Blob;
pub use config::{AwsConnection, Clients};
pub use queue::SqsQueue;
pub use sockets::ApiGatewaySockets;
pub use table::DynamoTable;
