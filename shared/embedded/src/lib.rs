//! Embedded adapters: the table and the queue on SQLite (WAL), blobs on the filesystem, all
//! under one data directory. They hold no business rule; they mimic DynamoDB, SQS and S3
//! closely enough that the same contract suite passes against both adapter sets.

pub mod blob;
mod condition;
pub mod queue;
mod sqlite;
pub mod table;

pub use blob::{FsBlob, SignedUpload};
pub use queue::SqliteQueue;
pub use table::SqliteTable;
