//! Between the port's attribute values and the SDK's. Written by hand: serde_dynamo's SDK
//! conversions are tied to exact SDK releases, and this is a dozen lines.

use atende_core::ports::{AttributeValue, Item};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use std::collections::HashMap;

pub(crate) fn to_sdk(value: AttributeValue) -> Av {
    match value {
        AttributeValue::S(s) => Av::S(s),
        AttributeValue::N(n) => Av::N(n),
        AttributeValue::B(b) => Av::B(Blob::new(b)),
        AttributeValue::Bool(b) => Av::Bool(b),
        AttributeValue::Null(b) => Av::Null(b),
        AttributeValue::L(l) => Av::L(l.into_iter().map(to_sdk).collect()),
        AttributeValue::M(m) => Av::M(m.into_iter().map(|(k, v)| (k, to_sdk(v))).collect()),
        AttributeValue::Ss(s) => Av::Ss(s),
        AttributeValue::Ns(n) => Av::Ns(n),
        AttributeValue::Bs(b) => Av::Bs(b.into_iter().map(Blob::new).collect()),
    }
}

pub(crate) fn from_sdk(value: Av) -> AttributeValue {
    match value {
        Av::S(s) => AttributeValue::S(s),
        Av::N(n) => AttributeValue::N(n),
        Av::B(b) => AttributeValue::B(b.into_inner()),
        Av::Bool(b) => AttributeValue::Bool(b),
        Av::Null(b) => AttributeValue::Null(b),
        Av::L(l) => AttributeValue::L(l.into_iter().map(from_sdk).collect()),
        Av::M(m) => AttributeValue::M(m.into_iter().map(|(k, v)| (k, from_sdk(v))).collect()),
        Av::Ss(s) => AttributeValue::Ss(s),
        Av::Ns(n) => AttributeValue::Ns(n),
        Av::Bs(b) => AttributeValue::Bs(b.into_iter().map(|x| x.into_inner()).collect()),
        _ => AttributeValue::Null(true),
    }
}

pub(crate) fn item_to_sdk(item: Item) -> HashMap<String, Av> {
    item.into_iter().map(|(k, v)| (k, to_sdk(v))).collect()
}

pub(crate) fn item_from_sdk(item: HashMap<String, Av>) -> Item {
    item.into_iter().map(|(k, v)| (k, from_sdk(v))).collect()
}
