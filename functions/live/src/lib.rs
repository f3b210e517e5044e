//! Live updates on AWS, through API Gateway's WebSocket API (locally the `atende` process
//! streams the same events as Server-Sent Events):
//!
//! - `live`: the WebSocket routes. `$connect` spends the one-time ticket of
//!   `POST /v1/live/ticket` (`?ticket=`) and records the connection; `$disconnect` forgets
//!   it; `$default` takes the client's pings (API Gateway closes a connection idle for 10
//!   minutes).
//! - `push`: fed by the table's stream, filtered to the live stream's new events: posts
//!   each to the account's connections whose user may see it, forgets those API Gateway
//!   calls gone (410).
//!
//! What the client does with the two-hour and idle limits, and with gaps, is in the README
//! (live updates).

use atende_core::live::sockets;
use atende_core::ports::Sockets;
use atende_runtime::AppContext;
use atende_runtime::function::{FunctionSpec, Trigger};
use serde_json::{Value, json};

/// The WebSocket routes this function serves.
pub const ROUTES: [&str; 3] = ["$connect", "$disconnect", "$default"];
/// The table stream's records `push` takes: new items of the live stream.
pub const STREAM_PREFIX: &str = atende_core::keys::LIVE_PREFIX;

pub fn function() -> FunctionSpec {
    FunctionSpec { name: "live", trigger: Trigger::WebSocket { routes: ROUTES.map(String::from).to_vec() } }
}

pub fn push_function() -> FunctionSpec {
    FunctionSpec { name: "push", trigger: Trigger::TableStream { pk_prefix: STREAM_PREFIX.to_owned() } }
}

/// One WebSocket route event of API Gateway; the answer's `statusCode` accepts (2xx) or
/// refuses a connection.
pub async fn on_socket(ctx: &AppContext, event: &Value) -> Value {
    let context = &event["requestContext"];
    let connection = context["connectionId"].as_str().unwrap_or_default();
    let answer = match context["routeKey"].as_str().unwrap_or_default() {
        "$connect" => {
            let ticket = event["queryStringParameters"]["ticket"].as_str().unwrap_or_default();
            sockets::connect(&ctx.deps, connection, ticket).await
        }
        "$disconnect" => sockets::disconnect(&ctx.deps, connection).await,
        _ => Ok(()), // a ping: being received is what keeps the connection open
    };
    match answer {
        Ok(()) => json!({"statusCode": 200}),
        Err(e @ atende_core::ServiceError::Unauthenticated(_)) => {
            json!({"statusCode": 401, "body": json!({"error": "unauthenticated", "message": e.to_string()}).to_string()})
        }
        Err(e) => {
            tracing::error!(error = %e, "a live connection event failed");
            json!({"statusCode": 500, "body": json!({"error": "internal", "message": "internal error"}).to_string()})
        }
    }
}

/// A batch of the table stream's records: each new live event pushed, in order. The
/// answer names the first record that failed (and so every later one) for Lambda to retry.
pub async fn on_stream(ctx: &AppContext, sockets: &dyn Sockets, event: &Value) -> Value {
    for record in event["Records"].as_array().into_iter().flatten() {
        let keys = &record["dynamodb"]["Keys"];
        let (Some(pk), Some(sk)) = (keys["pk"]["S"].as_str(), keys["sk"]["S"].as_str()) else { continue };
        let Some((account, seq)) = atende_core::keys::parse_live_event(pk, sk) else { continue };
        if record["eventName"].as_str() != Some("INSERT") {
            continue;
        }
        if let Err(e) = sockets::push(&ctx.deps, sockets, &account, seq).await {
            tracing::warn!(error = %e, seq, "a live push failed; it is retried from this record");
            let id = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default();
            return json!({"batchItemFailures": [{"itemIdentifier": id}]});
        }
    }
    json!({"batchItemFailures": []})
}
