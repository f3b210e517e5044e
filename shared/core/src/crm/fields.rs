//! Custom fields (*campos personalizados*): account-defined, typed contact attributes.
//! A field is known by its `key` (a slug, fixed at creation: integrators, imports and
//! template parameters name it); its label, required flag and options can change.
//! Contacts keep their values in `custom`, by key; every write goes through [`check`].
//!
//! Access patterns: a field by key (get `FIELD#<key>`); all fields (query prefix `FIELD#`).

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::{Condition, Index, Query, SortCondition, TableError};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Fields an account may define.
pub const MAX_FIELDS: usize = 50;
const MAX_TEXT: usize = 500;
const MAX_OPTIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    Boolean,
    /// One of `options`.
    Choice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomField {
    /// `a-z`, `0-9` and `_`, starting with a letter; fixed at creation.
    pub key: String,
    pub account_id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Every contact written through the API or an import must have a value.
    pub required: bool,
    /// `choice` only.
    #[serde(default)]
    pub options: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FieldPatch {
    pub label: Option<String>,
    pub required: Option<bool>,
    /// `choice` only; contacts keep values of removed options until they are next written.
    pub options: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldList {
    /// By key.
    pub items: Vec<CustomField>,
}

fn clean_key(key: &str) -> ServiceResult<String> {
    let key = key.trim();
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(ServiceError::invalid(
            "key: 1 to 40 of a-z, 0-9 and _, starting with a letter (e.g. cpf, data_nascimento)",
        ));
    }
    if crate::crm::placeholders::RESERVED.contains(&key) {
        return Err(ServiceError::invalid(format!("key: {key:?} is a built-in contact field")));
    }
    Ok(key.to_owned())
}

fn clean_label(label: &str) -> ServiceResult<String> {
    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    if label.is_empty() || label.chars().count() > 60 {
        return Err(ServiceError::invalid("label: 1 to 60 characters"));
    }
    Ok(label)
}

fn clean_options(field_type: FieldType, options: Vec<String>) -> ServiceResult<Vec<String>> {
    if field_type != FieldType::Choice {
        if !options.is_empty() {
            return Err(ServiceError::invalid("options: only a choice field has options"));
        }
        return Ok(options);
    }
    let mut out: Vec<String> = Vec::new();
    for o in options {
        let o = o.split_whitespace().collect::<Vec<_>>().join(" ");
        if o.is_empty() || o.chars().count() > 100 {
            return Err(ServiceError::invalid("options: each 1 to 100 characters"));
        }
        if !out.iter().any(|x| x.to_lowercase() == o.to_lowercase()) {
            out.push(o);
        }
    }
    if out.is_empty() || out.len() > MAX_OPTIONS {
        return Err(ServiceError::invalid(format!("options: a choice field has 1 to {MAX_OPTIONS} options")));
    }
    Ok(out)
}

pub async fn list_all(deps: &Deps, account: &str) -> ServiceResult<Vec<CustomField>> {
    let q = Query::partition(Index::Primary, keys::account_pk(account))
        .sort(SortCondition::BeginsWith(keys::FIELD_PREFIX.into()));
    query_all(deps, q).await
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<FieldList> {
    Ok(FieldList { items: list_all(deps, &caller.account_id).await? })
}

pub async fn load(deps: &Deps, account: &str, key: &str) -> ServiceResult<CustomField> {
    match deps.table.get(&keys::custom_field(account, key)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("custom field")),
    }
}

pub async fn get(deps: &Deps, caller: &Caller, key: &str) -> ServiceResult<CustomField> {
    load(deps, &caller.account_id, key).await
}

pub async fn create(deps: &Deps, caller: &Caller, input: NewField) -> ServiceResult<CustomField> {
    caller.require_admin()?;
    let field = CustomField {
        key: clean_key(&input.key)?,
        account_id: caller.account_id.clone(),
        label: clean_label(&input.label)?,
        field_type: input.field_type,
        required: input.required,
        options: clean_options(input.field_type, input.options)?,
        created_at: deps.clock.now(),
        version: 1,
    };
    if list_all(deps, &caller.account_id).await?.len() >= MAX_FIELDS {
        return Err(ServiceError::invalid(format!("an account has at most {MAX_FIELDS} custom fields")));
    }
    let item = to_item(&keys::custom_field(&field.account_id, &field.key), &field)?;
    deps.table.put(item, Some(Condition::NotExists)).await.map_err(|e| match e {
        TableError::ConditionFailed => ServiceError::conflict("a custom field with this key exists"),
        other => other.into(),
    })?;
    Ok(field)
}

pub async fn update(
    deps: &Deps,
    caller: &Caller,
    key: &str,
    patch: FieldPatch,
) -> ServiceResult<CustomField> {
    caller.require_admin()?;
    let mut field = load(deps, &caller.account_id, key).await?;
    if let Some(label) = &patch.label {
        field.label = clean_label(label)?;
    }
    if let Some(required) = patch.required {
        field.required = required;
    }
    if let Some(options) = patch.options {
        field.options = clean_options(field.field_type, options)?;
    }
    let read = field.version;
    field.version += 1;
    let item = to_item(&keys::custom_field(&field.account_id, &field.key), &field)?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)?;
    Ok(field)
}

/// Deletes a field's definition. Only `conversations::field_removal` calls it (it takes
/// the values off contacts: this module does not know them).
pub(crate) async fn delete(deps: &Deps, field: &CustomField) -> ServiceResult<()> {
    deps.table
        .delete(&keys::custom_field(&field.account_id, &field.key), Some(Condition::Exists))
        .await
        .map_err(concurrent)
}

/// Whether `check` also demands every required field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    Enforce,
    /// Contacts the system creates (a customer writing in) cannot be asked for values.
    Skip,
}

/// The contact's values after applying `changes` (a `null` removes one) to `current`,
/// each checked against its field: a clear 422 naming the first bad field.
pub fn check(
    fields: &[CustomField],
    current: &BTreeMap<String, Value>,
    changes: &BTreeMap<String, Value>,
    required: Required,
) -> ServiceResult<BTreeMap<String, Value>> {
    let mut out = current.clone();
    for (key, value) in changes {
        let Some(field) = fields.iter().find(|f| &f.key == key) else {
            return Err(ServiceError::invalid(format!("custom.{key}: no such custom field in this account")));
        };
        if value.is_null() {
            out.remove(key);
            continue;
        }
        let value =
            coerce(field, value).map_err(|why| ServiceError::invalid(format!("custom.{key}: {why}")))?;
        out.insert(key.clone(), value);
    }
    if required == Required::Enforce
        && let Some(f) = fields.iter().find(|f| f.required && !out.contains_key(&f.key))
    {
        return Err(ServiceError::invalid(format!("custom.{}: {} is required", f.key, f.label)));
    }
    Ok(out)
}

/// `value` as the field's canonical JSON value, or why it is not one. Strings are read
/// the way a Brazilian spreadsheet writes them (`1.234,56`, `31/12/2026`, `sim`).
pub fn coerce(field: &CustomField, value: &Value) -> Result<Value, String> {
    match (field.field_type, value) {
        (FieldType::Text, Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() || s.chars().count() > MAX_TEXT {
                return Err(format!("text of 1 to {MAX_TEXT} characters"));
            }
            Ok(Value::String(s.to_owned()))
        }
        (FieldType::Number, Value::Number(n)) => Ok(Value::Number(n.clone())),
        (FieldType::Number, Value::String(s)) => parse_number(s)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "a number, e.g. 1234.5 or 1.234,50".to_owned()),
        (FieldType::Date, Value::String(s)) => parse_date(s)
            .map(|d| Value::String(d.to_string()))
            .ok_or_else(|| "a date, YYYY-MM-DD or DD/MM/YYYY".into()),
        (FieldType::Boolean, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (FieldType::Boolean, Value::String(s)) => match s.trim().to_lowercase().as_str() {
            "true" | "sim" | "s" | "yes" | "1" | "x" | "verdadeiro" => Ok(Value::Bool(true)),
            "false" | "não" | "nao" | "n" | "no" | "0" | "falso" => Ok(Value::Bool(false)),
            _ => Err("true or false (sim or não)".into()),
        },
        (FieldType::Choice, Value::String(s)) => {
            let s = s.trim().to_lowercase();
            field
                .options
                .iter()
                .find(|o| o.to_lowercase() == s)
                .map(|o| Value::String(o.clone()))
                .ok_or_else(|| format!("one of {}", field.options.join(", ")))
        }
        (t, _) => Err(format!(
            "a {} value",
            serde_json::to_value(t).unwrap_or_default().as_str().unwrap_or("valid")
        )),
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim().replace(' ', "");
    if s.is_empty() {
        return None;
    }
    // `1.234,56` (Brazil) or `1234.56`: a comma is the decimal mark when present.
    let normal = if s.contains(',') { s.replace('.', "").replace(',', ".") } else { s };
    normal.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")).ok()
}

/// The text a value is searched and shown by (`true`, `1234.5`, `2026-12-31`, the text).
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: FieldType, options: &[&str]) -> CustomField {
        CustomField {
            key: "f".into(),
            account_id: "a".into(),
            label: "F".into(),
            field_type: t,
            required: false,
            options: options.iter().map(|s| s.to_string()).collect(),
            created_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn spreadsheet_spellings_become_canonical_values() {
        let n = field(FieldType::Number, &[]);
        assert_eq!(coerce(&n, &Value::from("1.234,50")).unwrap(), serde_json::json!(1234.5));
        assert_eq!(coerce(&n, &Value::from("12.5")).unwrap(), serde_json::json!(12.5));
        let d = field(FieldType::Date, &[]);
        assert_eq!(coerce(&d, &Value::from("31/12/2026")).unwrap(), Value::from("2026-12-31"));
        assert!(coerce(&d, &Value::from("31/13/2026")).is_err());
        let b = field(FieldType::Boolean, &[]);
        assert_eq!(coerce(&b, &Value::from("Sim")).unwrap(), Value::Bool(true));
        let c = field(FieldType::Choice, &["Ouro", "Prata"]);
        assert_eq!(coerce(&c, &Value::from("ouro")).unwrap(), Value::from("Ouro"));
        assert!(coerce(&c, &Value::from("bronze")).unwrap_err().contains("Ouro, Prata"));
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let mut f = field(FieldType::Text, &[]);
        f.required = true;
        f.key = "cpf".into();
        let err = check(&[f], &BTreeMap::new(), &BTreeMap::new(), Required::Enforce).unwrap_err();
        assert!(err.to_string().contains("custom.cpf"), "{err}");
    }
}
