//! The contact search index: small items `CIDX#<facet>#<value>#<contact>` in the account's
//! partition, written and deleted in the same transaction as the contact (so a search never
//! sees a half-written state), and read with one `begins_with` query per page on DynamoDB
//! and embedded alike. Tags use the `CTAG#<tag>#<contact>` items of `crm::tags`.
//!
//! Facets and their access patterns:
//! - `name`: the folded name (lowercase, accents off: "João da Silva" → `joao da silva`)
//!   and each later word onwards (`da silva`, `silva`), so a prefix of the name or of a
//!   surname finds it: query prefix `CIDX#name#<folded query>`.
//! - `email`, `wallet`, `origin`, `status`: equality, query prefix `CIDX#<facet>#<value>#`.
//! - `cf.<key>`: a custom field's value (folded display text, at most 100 characters).
//! - phone: no index item; the `CWA#<number>` pointer every contact already has is read
//!   with one get (any spelling of the number is normalised first).

use super::model::{Contact, ContactStatus};
use crate::crm::fields;
use crate::crm::tags::Tagged;
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Item, Key, TransactItem};
use std::collections::BTreeSet;

/// Words of a name that get their own entry (beyond the first, which the full name covers).
const MAX_NAME_ENTRIES: usize = 4;
const MAX_VALUE: usize = 100;

/// Lowercase, accents off, anything but letters and digits one space: the form names and
/// text values are indexed and searched by.
pub fn fold(text: &str) -> String {
    let plain = deunicode::deunicode(text).to_lowercase();
    let words: Vec<&str> = plain
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '@' && c != '.')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = words.join(" ");
    out.truncate(MAX_VALUE);
    out
}

/// `status` as it is indexed.
pub fn status_value(status: ContactStatus) -> &'static str {
    match status {
        ContactStatus::Active => "active",
        ContactStatus::Archived => "archived",
        ContactStatus::Blocked => "blocked",
        ContactStatus::Erased => "erased",
    }
}

/// The facet of a custom field.
pub fn field_facet(key: &str) -> String {
    format!("cf.{key}")
}

/// Every index key `contact` should have now.
pub fn keys_of(c: &Contact) -> BTreeSet<Key> {
    let a = &c.account_id;
    let mut out = BTreeSet::new();
    let mut add = |facet: &str, value: &str| {
        if !value.is_empty() {
            out.insert(keys::contact_index(a, facet, value, &c.id));
        }
    };
    if let Some(name) = &c.name {
        let folded = fold(name);
        let words: Vec<&str> = folded.split(' ').collect();
        for start in 0..words.len().min(MAX_NAME_ENTRIES) {
            add("name", &words[start..].join(" "));
        }
    }
    if let Some(email) = &c.email {
        add("email", email);
    }
    if let Some(wallet) = &c.wallet_id {
        add("wallet", wallet);
    }
    if let Some(origin) = &c.origin {
        add("origin", origin);
    }
    add("status", status_value(c.status));
    for (key, value) in &c.custom {
        add(&field_facet(key), &fold(&fields::display(value)));
    }
    for tag in &c.tags {
        out.insert(Tagged::Contact.key(a, tag, &c.id));
    }
    out
}

/// The writes that take a contact's index from `before` to `after`.
pub fn changes(contact_id: &str, before: &BTreeSet<Key>, after: &BTreeSet<Key>) -> Vec<TransactItem> {
    let added = after.difference(before).map(|key| TransactItem::Put {
        item: Item::from([
            ("pk".to_owned(), attr::s(&key.pk)),
            ("sk".to_owned(), attr::s(&key.sk)),
            ("id".to_owned(), attr::s(contact_id)),
        ]),
        condition: None,
    });
    let removed =
        before.difference(after).map(|key| TransactItem::Delete { key: key.clone(), condition: None });
    added.chain(removed).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_accents_and_punctuation() {
        assert_eq!(fold("  João  da SILVA-Araújo "), "joao da silva araujo");
        assert_eq!(fold("Conceição"), "conceicao");
        assert_eq!(fold("ana@Example.com"), "ana@example.com");
    }
}
