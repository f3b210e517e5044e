//! Tracing: JSON lines in Lambda (CloudWatch), readable lines locally. The filter comes from
//! `ATENDE_LOG` (e.g. `info,atende_api=debug`), default `info`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("ATENDE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = if in_lambda {
        builder.json().flatten_event(true).with_current_span(false).without_time().try_init()
    } else {
        builder.try_init()
    };
}
