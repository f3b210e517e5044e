//! Creating the resources the SAM template declares, for tests against moto and for a
//! quick local AWS-shaped setup. (In AWS, CloudFormation creates them.)

use anyhow::Context;
use atende_core::ports::QueueSpec;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;

/// What the resources of one deployment are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    pub table: String,
    pub bucket: String,
    /// Put before every queue's name (`atende-` → `atende-inbound.fifo`).
    pub queue_prefix: String,
}

/// The table, the bucket and every queue with its dead-letter queue, each created unless it
/// already exists (so a restart finds its data); returns what [`create_queues`] returns.
pub async fn ensure_all(
    clients: &crate::Clients,
    names: &ResourceNames,
    specs: &[QueueSpec],
) -> anyhow::Result<HashMap<String, (String, QueueSpec)>> {
    let exists = clients.dynamodb.describe_table().table_name(&names.table).send().await;
    match exists {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            create_table(&clients.dynamodb, &names.table).await?;
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("looking for table {}", names.table))),
    }
    if clients.s3.head_bucket().bucket(&names.bucket).send().await.is_err() {
        create_bucket(&clients.s3, &names.bucket).await?;
    }
    // SQS answers an existing queue's URL when the attributes match, as they do here.
    create_queues(&clients.sqs, &names.queue_prefix, specs).await
}

/// The single table: `pk`/`sk`, sparse GSIs `gsi1` and `gsi2`, on-demand.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    let attr = |n: &str| {
        AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build()
    };
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
    let gsi = |i: &str| -> anyhow::Result<GlobalSecondaryIndex> {
        Ok(GlobalSecondaryIndex::builder()
            .index_name(i)
            .key_schema(key(&format!("{i}pk"), KeyType::Hash)?)
            .key_schema(key(&format!("{i}sk"), KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()?)
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
                .into_iter()
                .map(attr)
                .collect::<Result<_, _>>()?,
        ))
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(gsi("gsi1")?)
        .global_secondary_indexes(gsi("gsi2")?)
        .send()
        .await
        .with_context(|| format!("creating table {name}"))?;
    Ok(())
}

/// Creates each queue and its dead-letter queue; returns logical name → (URL, spec), DLQs
/// included, ready for [`crate::SqsQueue::new`]. `prefix` keeps parallel tests apart.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    prefix: &str,
    specs: &[QueueSpec],
) -> anyhow::Result<HashMap<String, (String, QueueSpec)>> {
    let mut out = HashMap::new();
    for spec in specs {
        let suffix = if spec.fifo { ".fifo" } else { "" };
        let mut dlq_attrs = HashMap::new();
        if spec.fifo {
            dlq_attrs.insert(QueueAttributeName::FifoQueue, "true".to_owned());
        }
        let dlq_url = client
            .create_queue()
            .queue_name(format!("{prefix}{}-dlq{suffix}", spec.name))
            .set_attributes(Some(dlq_attrs.clone()))
            .send()
            .await
            .context("creating a dead-letter queue")?
            .queue_url
            .unwrap_or_default();
        let dlq_arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .context("the dead-letter queue has no ARN")?;
        let mut attrs = dlq_attrs;
        attrs.insert(QueueAttributeName::VisibilityTimeout, spec.visibility_timeout.as_secs().to_string());
        attrs.insert(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receives})
                .to_string(),
        );
        let url = client
            .create_queue()
            .queue_name(format!("{prefix}{}{suffix}", spec.name))
            .set_attributes(Some(attrs))
            .send()
            .await
            .context("creating a queue")?
            .queue_url
            .unwrap_or_default();
        let dlq_spec =
            QueueSpec { name: format!("{}-dlq", spec.name), max_receives: u32::MAX, ..spec.clone() };
        out.insert(dlq_spec.name.clone(), (dlq_url, dlq_spec));
        out.insert(spec.name.clone(), (url, spec.clone()));
    }
    Ok(out)
}

pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) -> anyhow::Result<()> {
    client.create_bucket().bucket(name).send().await.with_context(|| format!("creating bucket {name}"))?;
    Ok(())
}
