//! Evaluating typed conditions and applying typed updates, as DynamoDB does.

use atende_core::ports::table::{Cmp, Condition, Item, UpdateOp};
use atende_core::ports::{AttributeValue, TableError};
use std::cmp::Ordering;

/// Two values are equal as DynamoDB compares them: numbers by value, the rest exactly.
fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// DynamoDB's ordering of two values of the same scalar type; `None` across types.
fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => {
            x.parse::<f64>().ok()?.partial_cmp(&y.parse::<f64>().ok()?)
        }
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

pub(crate) fn holds(condition: &Condition, current: Option<&Item>) -> bool {
    let attribute = |name: &str| current.and_then(|item| item.get(name));
    match condition {
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::AttributeExists(name) => attribute(name).is_some(),
        Condition::AttributeNotExists(name) => attribute(name).is_none(),
        Condition::Equals(name, value) => attribute(name).is_some_and(|v| values_equal(v, value)),
        Condition::NotEquals(name, value) => !attribute(name).is_some_and(|v| values_equal(v, value)),
        Condition::Compare(name, cmp, value) => {
            attribute(name).and_then(|v| compare(v, value)).is_some_and(|o| match cmp {
                Cmp::Lt => o == Ordering::Less,
                Cmp::Le => o != Ordering::Greater,
                Cmp::Gt => o == Ordering::Greater,
                Cmp::Ge => o != Ordering::Less,
            })
        }
        Condition::And(all) => all.iter().all(|c| holds(c, current)),
        Condition::Or(any) => any.iter().any(|c| holds(c, current)),
    }
}

/// Applies `ops` to `item` in order.
pub(crate) fn apply(item: &mut Item, ops: &[UpdateOp]) -> Result<(), TableError> {
    for op in ops {
        match op {
            UpdateOp::Set(name, value) => {
                item.insert(name.clone(), value.clone());
            }
            UpdateOp::SetIfAbsent(name, value) => {
                item.entry(name.clone()).or_insert_with(|| value.clone());
            }
            UpdateOp::Add(name, delta) => {
                let current = match item.get(name) {
                    None => 0,
                    Some(AttributeValue::N(n)) => n.parse::<i64>().map_err(|_| {
                        TableError::Invalid(format!("ADD needs an integer attribute, {name} is not"))
                    })?,
                    Some(_) => {
                        return Err(TableError::Invalid(format!("ADD needs a number, {name} is not one")));
                    }
                };
                item.insert(name.clone(), AttributeValue::N((current + delta).to_string()));
            }
            UpdateOp::Remove(name) => {
                item.remove(name);
            }
        }
    }
    Ok(())
}
