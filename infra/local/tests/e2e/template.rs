//! The SAM template and the function registry agree: every registered function is in
//! `infra/template.yaml` with its trigger (queue and batch size, HTTP paths, schedule), and
//! the template has no function or event source that is not registered.

use atende_local::registry;
use atende_runtime::function::{FunctionSpec, Trigger};
use yaml_serde::Value;

fn template() -> Value {
    let path = atende_testkit::fixtures::repo_root().join("infra/template.yaml");
    yaml_serde::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `!GetAtt InboundQueue.Arn` → `inbound`.
fn queue_of(reference: &Value) -> String {
    let Value::Tagged(tagged) = reference else {
        panic!("a queue reference is !GetAtt <Name>Queue.Arn: {reference:?}")
    };
    let target = tagged.value.as_str().unwrap();
    let logical = target.strip_suffix(".Arn").unwrap_or_else(|| panic!("{target} is not an ARN"));
    logical.strip_suffix("Queue").unwrap_or_else(|| panic!("{logical} is not a queue")).to_lowercase()
}

/// The `prefix` of a stream event's filter on `pk` (the records the function takes).
fn stream_prefix(props: &Value) -> String {
    let filters = props["FilterCriteria"]["Filters"].as_sequence().expect("a stream event is filtered");
    assert_eq!(filters.len(), 1, "one filter");
    let pattern: serde_json::Value = serde_json::from_str(filters[0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]), "new items only");
    pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"].as_str().expect("a pk prefix").to_owned()
}

/// The WebSocket API routes whose integration invokes `function` (its logical id).
fn socket_routes(template: &Value, function: &str) -> Vec<String> {
    let resources = template["Resources"].as_mapping().unwrap();
    let sub = |v: &Value| match v {
        Value::Tagged(tagged) => tagged.value.as_str().unwrap_or_default().to_owned(),
        other => other.as_str().unwrap_or_default().to_owned(),
    };
    let mut routes = Vec::new();
    for (_, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::ApiGatewayV2::Route") {
            continue;
        }
        let target = sub(&resource["Properties"]["Target"]);
        let integration = target.strip_prefix("integrations/${").and_then(|t| t.strip_suffix('}')).unwrap();
        let uri = sub(&template["Resources"][integration]["Properties"]["IntegrationUri"]);
        if uri.contains(&format!("${{{function}.Arn}}")) {
            routes.push(resource["Properties"]["RouteKey"].as_str().unwrap().to_owned());
        }
    }
    routes
}

/// The functions as the template declares them: (name, trigger), sorted by name.
fn declared(template: &Value) -> Vec<(String, Trigger)> {
    let mut out = Vec::new();
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap();
        let name = id
            .strip_suffix("Function")
            .unwrap_or_else(|| panic!("{id} is named <Name>Function"))
            .to_lowercase();
        assert_eq!(
            resource["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(name.as_str()),
            "{id}'s binary"
        );
        let mut paths = Vec::new();
        let mut triggers = Vec::new();
        for (event_id, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            let props = &event["Properties"];
            match event["Type"].as_str().unwrap() {
                "SQS" => {
                    let types = props["FunctionResponseTypes"].as_sequence().unwrap();
                    assert!(
                        types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")),
                        "{id}.{event_id:?} reports partial batch failures"
                    );
                    triggers.push(Trigger::Queue {
                        queue: queue_of(&props["Queue"]),
                        batch_size: props["BatchSize"].as_u64().unwrap() as u32,
                    });
                }
                "HttpApi" => paths.push(props["Path"].as_str().unwrap().to_owned()),
                "DynamoDB" => {
                    let types = props["FunctionResponseTypes"].as_sequence().unwrap();
                    assert!(
                        types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")),
                        "{id}.{event_id:?} reports partial batch failures"
                    );
                    triggers.push(Trigger::TableStream { pk_prefix: stream_prefix(props) });
                }
                "ScheduleV2" | "Schedule" => {
                    let expression = props["ScheduleExpression"].as_str().unwrap().to_owned();
                    triggers.push(Trigger::Schedule { expression });
                }
                other => {
                    panic!("{id} has an event source of type {other} that no registered function declares")
                }
            }
        }
        if !paths.is_empty() {
            paths.sort();
            triggers.push(Trigger::Http { paths });
        }
        let mut routes = socket_routes(template, id);
        if !routes.is_empty() {
            routes.sort();
            triggers.push(Trigger::WebSocket { routes });
        }
        assert_eq!(triggers.len(), 1, "{id} has one trigger, found {triggers:?}");
        out.push((name, triggers.remove(0)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The registry in the same form.
fn registered() -> Vec<(String, Trigger)> {
    let mut out: Vec<(String, Trigger)> = registry::all()
        .into_iter()
        .map(|FunctionSpec { name, mut trigger }| {
            if let Trigger::Http { paths } | Trigger::WebSocket { routes: paths } = &mut trigger {
                paths.sort();
            }
            (name.to_owned(), trigger)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn the_sam_template_declares_exactly_the_registered_functions_and_their_triggers() {
    assert_eq!(declared(&template()), registered());
}

#[test]
fn every_queue_of_the_product_is_in_the_sam_template_with_its_fifo_flag() {
    let template = template();
    for spec in atende_core::queues::all() {
        let mut id: Vec<char> = spec.name.chars().collect();
        id[0] = id[0].to_ascii_uppercase();
        let id = format!("{}Queue", id.into_iter().collect::<String>());
        let queue = &template["Resources"][id.as_str()];
        assert_eq!(queue["Type"].as_str(), Some("AWS::SQS::Queue"), "{id}");
        assert_eq!(queue["Properties"]["FifoQueue"].as_bool().unwrap_or(false), spec.fifo, "{id} FIFO");
    }
}

#[test]
fn a_template_missing_a_registered_function_fails_the_check() {
    let mut template = template();
    template["Resources"].as_mapping_mut().unwrap().remove("SendFunction");
    assert_ne!(declared(&template), registered());
}

#[test]
fn only_the_functions_that_use_secrets_may_decrypt_the_data_key() {
    let template = template();
    let mut allowed = Vec::new();
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let policies = resource["Properties"]["Policies"].as_sequence().cloned().unwrap_or_default();
        let decrypts = policies.iter().any(|p| match p {
            Value::Tagged(tagged) => tagged.value.as_str() == Some("SecretsKeyPolicy"),
            _ => false,
        });
        if decrypts {
            allowed.push(id.as_str().unwrap().strip_suffix("Function").unwrap().to_lowercase());
        }
    }
    allowed.sort();
    assert_eq!(allowed, registry::USES_SECRETS);
}

#[test]
fn a_template_missing_a_websocket_route_or_the_stream_filter_fails_the_check() {
    let mut template = template();
    template["Resources"].as_mapping_mut().unwrap().remove("LiveSocketDisconnectRoute");
    assert_ne!(declared(&template), registered());
    let mut template = self::template();
    template["Resources"]["PushFunction"]["Properties"]["Events"]["LiveEvents"]["Properties"]["FilterCriteria"]
        ["Filters"][0]["Pattern"] = Value::String(
        r#"{"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "A#"}]}}}}"#.into(),
    );
    assert_ne!(declared(&template), registered());
}
