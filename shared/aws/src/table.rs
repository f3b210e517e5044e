//! The table port on DynamoDB.

use crate::convert::{item_from_sdk, item_to_sdk};
use crate::expr::Expr;
use async_trait::async_trait;
use atende_core::ports::table::{self, Condition, Index, Item, Key, Page, Query, TransactItem, UpdateOp};
use atende_core::ports::{Clock, TableError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self { client, table: table.into(), clock }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> TableError {
    TableError::Backend(Box::new(e))
}

/// Maps an SDK error: a failed condition is the port's `ConditionFailed`, the rest backend.
fn map_err<E, R>(e: SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if e.code() == Some("ConditionalCheckFailedException") {
        return TableError::ConditionFailed;
    }
    if e.code() == Some("ValidationException") {
        return TableError::Invalid(e.message().unwrap_or("rejected by DynamoDB").to_owned());
    }
    TableError::Backend(Box::new(std::io::Error::other(
        aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
    )))
}

fn key_map(key: &Key) -> HashMap<String, Av> {
    HashMap::from([
        (table::PK.to_owned(), Av::S(key.pk.clone())),
        (table::SK.to_owned(), Av::S(key.sk.clone())),
    ])
}

fn encode_cursor(last: HashMap<String, Av>) -> String {
    let plain: HashMap<String, String> = last
        .into_iter()
        .filter_map(|(k, v)| match v {
            Av::S(s) => Some((k, s)),
            _ => None,
        })
        .collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&plain).unwrap_or_default())
}

fn decode_cursor(raw: &str) -> Result<HashMap<String, Av>, TableError> {
    let plain: HashMap<String, String> = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TableError::BadCursor)?;
    Ok(plain.into_iter().map(|(k, v)| (k, Av::S(v))).collect())
}

/// Which transaction item failed, from the cancellation reasons (or, when a server leaves
/// them out, from the message, which lists them in order).
fn failed_index(
    reasons: &[aws_sdk_dynamodb::types::CancellationReason],
    message: Option<&str>,
) -> Option<usize> {
    if let Some(i) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
        return Some(i);
    }
    let message = message?;
    let list = &message[message.find('[')? + 1..message.rfind(']')?];
    list.split(',').position(|part| part.trim() == "ConditionalCheckFailed")
}

#[async_trait]
impl atende_core::ports::Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_err)?;
        let now = self.now();
        Ok(out.item.map(item_from_sdk).filter(|item| !table::is_expired(item, now)))
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        table::validate_item(&item)?;
        let mut expr = Expr::default();
        let rendered = condition.as_ref().map(|c| expr.condition(c));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_to_sdk(item)))
            .set_condition_expression(rendered)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        ops: Vec<UpdateOp>,
        condition: Option<Condition>,
    ) -> Result<Item, TableError> {
        table::validate_ops(&ops)?;
        let mut expr = Expr::default();
        let update = expr.update(&ops);
        let rendered = condition.as_ref().map(|c| expr.condition(c));
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(update)
            .set_condition_expression(rendered)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out.attributes.map(item_from_sdk).unwrap_or_default())
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), TableError> {
        let mut expr = Expr::default();
        let rendered = condition.as_ref().map(|c| expr.condition(c));
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(rendered)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        let (pk_name, sk_name) = query.index.key_names();
        let mut expr = Expr::default();
        let key_condition = expr.key_condition(pk_name, &query.partition, sk_name, query.sort.as_ref());
        let start = query.cursor.as_deref().map(decode_cursor).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.name().map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(query.forward)
            .set_limit(query.limit.map(|l| l.max(1) as i32))
            .set_exclusive_start_key(start)
            .consistent_read(query.index == Index::Primary)
            .send()
            .await
            .map_err(map_err)?;
        let now = self.now();
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(item_from_sdk)
            .filter(|item| !table::is_expired(item, now))
            .collect();
        let cursor = out.last_evaluated_key.filter(|k| !k.is_empty()).map(encode_cursor);
        Ok(Page { items, cursor })
    }

    async fn transact(&self, items: Vec<TransactItem>) -> Result<(), TableError> {
        table::validate_transaction(&items)?;
        let mut actions = Vec::with_capacity(items.len());
        for action in items {
            let mut expr = Expr::default();
            let built = match action {
                TransactItem::Put { item, condition } => {
                    let rendered = condition.as_ref().map(|c| expr.condition(c));
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item_to_sdk(item)))
                        .set_condition_expression(rendered)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(backend)?;
                    TransactWriteItem::builder().put(put).build()
                }
                TransactItem::Update { key, ops, condition } => {
                    let update_expr = expr.update(&ops);
                    let rendered = condition.as_ref().map(|c| expr.condition(c));
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(&key)))
                        .update_expression(update_expr)
                        .set_condition_expression(rendered)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(backend)?;
                    TransactWriteItem::builder().update(update).build()
                }
                TransactItem::Delete { key, condition } => {
                    let rendered = condition.as_ref().map(|c| expr.condition(c));
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(&key)))
                        .set_condition_expression(rendered)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(backend)?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                TransactItem::ConditionCheck { key, condition } => {
                    let rendered = expr.condition(&condition);
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(&key)))
                        .condition_expression(rendered)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(backend)?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            actions.push(built);
        }
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancel)) =
                    e.as_service_error()
                    && let Some(index) = failed_index(cancel.cancellation_reasons(), cancel.message())
                {
                    return Err(TableError::TransactionConditionFailed { index });
                }
                Err(map_err(e))
            }
        }
    }
}
