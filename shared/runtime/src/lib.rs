pub mod blobs;
pub mod http_error;
