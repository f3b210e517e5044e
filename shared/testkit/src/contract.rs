//! The port contract: each behaviour once, run against both adapter sets by
//! [`contract_suite!`](crate::contract_suite). A behaviour takes fresh adapters and asserts.

use crate::harness::Adapters;
use atende_core::ports::table::{MAX_ITEM_BYTES, attr};
use atende_core::ports::{
    AttributeValue, Condition, Index, Item, Key, OutgoingMessage, Query, SortCondition, TableError,
    TransactItem, UpdateOp,
};
use std::time::Duration;

/// Generates one `#[tokio::test]` per behaviour, each on adapters from `$factory`.
#[macro_export]
macro_rules! contract_suite {
    ($factory:path) => {
        $crate::contract_suite!(@tests $factory;
            get_of_a_missing_key_is_none,
            put_if_not_exists_refuses_an_existing_key,
            put_with_a_version_check_succeeds_only_on_the_expected_version,
            delete_with_a_failing_condition_keeps_the_item,
            delete_if_exists_on_a_missing_key_fails,
            update_set_and_set_if_absent_write_as_asked,
            update_add_counts_from_zero_and_accumulates,
            update_remove_drops_the_attribute,
            update_creates_a_missing_item_unless_the_condition_forbids,
            and_or_and_not_equals_conditions_combine,
            comparison_conditions_compare_numbers_by_value_and_never_a_missing_attribute,
            sort_key_begins_with_selects_only_the_prefix,
            sort_key_begins_with_stops_at_the_prefix_even_with_wider_characters_after_it,
            sort_key_between_is_inclusive_at_both_ends,
            sort_key_comparisons_select_the_right_side,
            gsi1_is_sparse_and_ordered_by_its_sort_key,
            gsi2_is_sparse_and_ordered_by_its_sort_key,
            pagination_forward_loses_and_repeats_nothing,
            pagination_backward_loses_and_repeats_nothing,
            a_cursor_the_table_never_returned_is_invalid,
            transaction_is_all_or_nothing_and_names_the_failing_item,
            transaction_applies_puts_updates_deletes_and_checks,
            item_over_400_kb_is_refused,
            transaction_over_100_items_is_refused,
            transaction_writing_one_key_twice_is_refused,
            expired_items_are_absent_from_get_and_query,
            fifo_group_is_handed_out_in_order_one_delivery_at_a_time,
            fifo_deduplication_drops_repeats_for_five_minutes,
            a_delayed_message_appears_only_after_its_delay,
            fifo_queue_refuses_a_per_message_delay,
            an_unacked_message_is_redelivered_after_its_visibility_timeout,
            a_released_message_is_redelivered_at_once,
            a_message_moves_to_the_dlq_after_max_receives,
            batch_send_beyond_ten_delivers_every_message,
            an_unknown_queue_is_an_error,
            blob_put_get_delete_round_trip,
            a_presigned_url_serves_the_object,
            a_presigned_put_stores_the_object_and_head_reads_its_size_and_type,
            a_request_bucket_in_the_table_admits_exactly_its_burst_to_racing_takers,
            absent_at_replaces_an_expired_item_but_never_a_live_one,
            racing_version_checked_puts_lose_no_update,
        );
    };
    (@tests $factory:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let adapters = $factory().await;
                $crate::contract::$name(&adapters).await;
            }
        )*
    };
}

fn item(pk: &str, sk: &str, extra: &[(&str, AttributeValue)]) -> Item {
    let mut item = Item::from([("pk".to_owned(), attr::s(pk)), ("sk".to_owned(), attr::s(sk))]);
    for (k, v) in extra {
        item.insert((*k).to_owned(), v.clone());
    }
    item
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| attr::get_s(i, "sk").unwrap_or_default().to_owned()).collect()
}

async fn seed(a: &Adapters, pk: &str, sks: &[&str]) {
    for sk in sks {
        a.table.put(item(pk, sk, &[]), None).await.expect("seed put");
    }
}

async fn query_sks(a: &Adapters, query: Query) -> Vec<String> {
    sks(&a.table.query(query).await.expect("query").items)
}

pub async fn get_of_a_missing_key_is_none(a: &Adapters) {
    assert_eq!(a.table.get(&Key::new("p", "nothing")).await.unwrap(), None);
}

pub async fn put_if_not_exists_refuses_an_existing_key(a: &Adapters) {
    let first = item("p", "k", &[("v", attr::n(1))]);
    a.table.put(first.clone(), Some(Condition::NotExists)).await.unwrap();
    let second = item("p", "k", &[("v", attr::n(2))]);
    let err = a.table.put(second, Some(Condition::NotExists)).await.unwrap_err();
    assert!(matches!(err, TableError::ConditionFailed), "{err:?}");
    assert_eq!(a.table.get(&Key::new("p", "k")).await.unwrap(), Some(first));
}

pub async fn put_with_a_version_check_succeeds_only_on_the_expected_version(a: &Adapters) {
    a.table.put(item("p", "k", &[("version", attr::n(1))]), None).await.unwrap();
    let stale = a.table.put(item("p", "k", &[("version", attr::n(3))]), Some(Condition::version_is(2))).await;
    assert!(matches!(stale, Err(TableError::ConditionFailed)));
    a.table.put(item("p", "k", &[("version", attr::n(2))]), Some(Condition::version_is(1))).await.unwrap();
    let got = a.table.get(&Key::new("p", "k")).await.unwrap().unwrap();
    assert_eq!(attr::get_n(&got, "version"), Some(2));
}

pub async fn delete_with_a_failing_condition_keeps_the_item(a: &Adapters) {
    a.table.put(item("p", "k", &[("state", attr::s("open"))]), None).await.unwrap();
    let err = a.table.delete(&Key::new("p", "k"), Some(Condition::equals("state", attr::s("closed")))).await;
    assert!(matches!(err, Err(TableError::ConditionFailed)));
    assert!(a.table.get(&Key::new("p", "k")).await.unwrap().is_some());
    a.table.delete(&Key::new("p", "k"), Some(Condition::equals("state", attr::s("open")))).await.unwrap();
    assert!(a.table.get(&Key::new("p", "k")).await.unwrap().is_none());
}

pub async fn delete_if_exists_on_a_missing_key_fails(a: &Adapters) {
    let err = a.table.delete(&Key::new("p", "ghost"), Some(Condition::Exists)).await;
    assert!(matches!(err, Err(TableError::ConditionFailed)));
    a.table.delete(&Key::new("p", "ghost"), None).await.expect("an unconditional delete of nothing is fine");
}

pub async fn update_set_and_set_if_absent_write_as_asked(a: &Adapters) {
    a.table.put(item("p", "k", &[("kept", attr::s("old"))]), None).await.unwrap();
    let new = a
        .table
        .update(
            &Key::new("p", "k"),
            vec![
                UpdateOp::Set("name".into(), attr::s("Ana")),
                UpdateOp::SetIfAbsent("kept".into(), attr::s("new")),
                UpdateOp::SetIfAbsent("fresh".into(), attr::s("first")),
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(attr::get_s(&new, "name"), Some("Ana"));
    assert_eq!(attr::get_s(&new, "kept"), Some("old"));
    assert_eq!(attr::get_s(&new, "fresh"), Some("first"));
    assert_eq!(a.table.get(&Key::new("p", "k")).await.unwrap(), Some(new));
}

pub async fn update_add_counts_from_zero_and_accumulates(a: &Adapters) {
    let key = Key::new("p", "counter");
    let first = a.table.update(&key, vec![UpdateOp::Add("n".into(), 5)], None).await.unwrap();
    assert_eq!(attr::get_n(&first, "n"), Some(5));
    let second = a.table.update(&key, vec![UpdateOp::Add("n".into(), -2)], None).await.unwrap();
    assert_eq!(attr::get_n(&second, "n"), Some(3));
}

pub async fn update_remove_drops_the_attribute(a: &Adapters) {
    a.table.put(item("p", "k", &[("gone", attr::s("x")), ("stays", attr::s("y"))]), None).await.unwrap();
    let new = a.table.update(&Key::new("p", "k"), vec![UpdateOp::Remove("gone".into())], None).await.unwrap();
    assert!(!new.contains_key("gone"));
    assert_eq!(attr::get_s(&new, "stays"), Some("y"));
}

pub async fn update_creates_a_missing_item_unless_the_condition_forbids(a: &Adapters) {
    let refused = a
        .table
        .update(
            &Key::new("p", "absent"),
            vec![UpdateOp::Set("a".into(), attr::n(1))],
            Some(Condition::Exists),
        )
        .await;
    assert!(matches!(refused, Err(TableError::ConditionFailed)));
    assert!(a.table.get(&Key::new("p", "absent")).await.unwrap().is_none());
    let created = a
        .table
        .update(&Key::new("p", "absent"), vec![UpdateOp::Set("a".into(), attr::n(1))], None)
        .await
        .unwrap();
    assert_eq!(attr::get_s(&created, "pk"), Some("p"));
    assert_eq!(attr::get_n(&created, "a"), Some(1));
}

pub async fn and_or_and_not_equals_conditions_combine(a: &Adapters) {
    a.table
        .put(item("p", "k", &[("state", attr::s("open")), ("owner", attr::s("ana"))]), None)
        .await
        .unwrap();
    let both = Condition::And(vec![
        Condition::equals("state", attr::s("open")),
        Condition::NotEquals("owner".into(), attr::s("bia")),
    ]);
    a.table
        .update(&Key::new("p", "k"), vec![UpdateOp::Set("x".into(), attr::n(1))], Some(both))
        .await
        .unwrap();
    let neither = Condition::Or(vec![
        Condition::equals("state", attr::s("closed")),
        Condition::AttributeExists("missing".into()),
    ]);
    let err =
        a.table.update(&Key::new("p", "k"), vec![UpdateOp::Set("x".into(), attr::n(2))], Some(neither)).await;
    assert!(matches!(err, Err(TableError::ConditionFailed)));
    let absent_differs = Condition::NotEquals("missing".into(), attr::s("v"));
    a.table
        .update(&Key::new("p", "k"), vec![UpdateOp::Set("x".into(), attr::n(3))], Some(absent_differs))
        .await
        .unwrap();
    assert_eq!(attr::get_n(&a.table.get(&Key::new("p", "k")).await.unwrap().unwrap(), "x"), Some(3));
}

pub async fn comparison_conditions_compare_numbers_by_value_and_never_a_missing_attribute(a: &Adapters) {
    use atende_core::ports::Cmp;
    a.table.put(item("p", "k", &[("rank", attr::n(9)), ("name", attr::s("b"))]), None).await.unwrap();
    let set = |v: i64| vec![UpdateOp::Set("touched".into(), attr::n(v))];
    let cases = [
        (Condition::Compare("rank".into(), Cmp::Lt, attr::n(10)), true),
        (Condition::Compare("rank".into(), Cmp::Lt, attr::n(9)), false),
        (Condition::Compare("rank".into(), Cmp::Le, attr::n(9)), true),
        (Condition::Compare("rank".into(), Cmp::Gt, attr::n(10)), false),
        (Condition::Compare("rank".into(), Cmp::Ge, attr::n(9)), true),
        (Condition::Compare("name".into(), Cmp::Gt, attr::s("a")), true),
        (Condition::Compare("missing".into(), Cmp::Lt, attr::n(100)), false),
    ];
    for (i, (condition, expected)) in cases.into_iter().enumerate() {
        let result = a.table.update(&Key::new("p", "k"), set(i as i64), Some(condition.clone())).await;
        assert_eq!(result.is_ok(), expected, "{condition:?}");
        if !expected {
            assert!(matches!(result, Err(TableError::ConditionFailed)));
        }
    }
}

pub async fn sort_key_begins_with_selects_only_the_prefix(a: &Adapters) {
    seed(a, "p", &["MSG#1", "MSG#2", "MSF#9", "NOTE#1", "MSG"]).await;
    let got =
        query_sks(a, Query::partition(Index::Primary, "p").sort(SortCondition::BeginsWith("MSG#".into())))
            .await;
    assert_eq!(got, vec!["MSG#1", "MSG#2"]);
}

pub async fn sort_key_begins_with_stops_at_the_prefix_even_with_wider_characters_after_it(a: &Adapters) {
    seed(a, "p", &["TEAM#1", "TEAM#\u{10FFFF}x", "TEAM$", "TEAMS", "João#1", "Joãp", "Joã", "Ȁ"]).await;
    let team = Query::partition(Index::Primary, "p").sort(SortCondition::BeginsWith("TEAM#".into()));
    assert_eq!(query_sks(a, team).await, vec!["TEAM#1", "TEAM#\u{10FFFF}x"]);
    let accented = Query::partition(Index::Primary, "p").sort(SortCondition::BeginsWith("João".into()));
    assert_eq!(query_sks(a, accented).await, vec!["João#1"]);
}

pub async fn sort_key_between_is_inclusive_at_both_ends(a: &Adapters) {
    seed(a, "p", &["2026-01", "2026-02", "2026-03", "2026-04"]).await;
    let q = Query::partition(Index::Primary, "p")
        .sort(SortCondition::Between("2026-02".into(), "2026-03".into()));
    assert_eq!(query_sks(a, q).await, vec!["2026-02", "2026-03"]);
}

pub async fn sort_key_comparisons_select_the_right_side(a: &Adapters) {
    seed(a, "p", &["a", "b", "c"]).await;
    let q = |c| Query::partition(Index::Primary, "p").sort(c);
    assert_eq!(query_sks(a, q(SortCondition::Lt("b".into()))).await, vec!["a"]);
    assert_eq!(query_sks(a, q(SortCondition::Le("b".into()))).await, vec!["a", "b"]);
    assert_eq!(query_sks(a, q(SortCondition::Gt("b".into()))).await, vec!["c"]);
    assert_eq!(query_sks(a, q(SortCondition::Ge("b".into()))).await, vec!["b", "c"]);
    assert_eq!(query_sks(a, q(SortCondition::Eq("b".into()))).await, vec!["b"]);
    assert_eq!(query_sks(a, Query::partition(Index::Primary, "p").backward()).await, vec!["c", "b", "a"]);
}

async fn sparse_index(a: &Adapters, index: Index) {
    let (ipk, isk) = index.key_names();
    a.table.put(item("p", "1", &[(ipk, attr::s("I")), (isk, attr::s("b"))]), None).await.unwrap();
    a.table.put(item("p", "2", &[(ipk, attr::s("I")), (isk, attr::s("a"))]), None).await.unwrap();
    a.table.put(item("p", "3", &[]), None).await.unwrap();
    a.table.put(item("p", "4", &[(ipk, attr::s("I"))]), None).await.unwrap();
    a.table.put(item("q", "5", &[(ipk, attr::s("I")), (isk, attr::s("c"))]), None).await.unwrap();
    let got = query_sks(a, Query::partition(index, "I")).await;
    assert_eq!(got, vec!["2", "1", "5"], "only items with both index keys, by index sort key");
    let prefix = query_sks(a, Query::partition(index, "I").sort(SortCondition::BeginsWith("c".into()))).await;
    assert_eq!(prefix, vec!["5"]);
    a.table.update(&Key::new("p", "1"), vec![UpdateOp::Remove(isk.into())], None).await.unwrap();
    assert_eq!(
        query_sks(a, Query::partition(index, "I")).await,
        vec!["2", "5"],
        "removing a key leaves the index"
    );
}

pub async fn gsi1_is_sparse_and_ordered_by_its_sort_key(a: &Adapters) {
    sparse_index(a, Index::Gsi1).await;
}

pub async fn gsi2_is_sparse_and_ordered_by_its_sort_key(a: &Adapters) {
    sparse_index(a, Index::Gsi2).await;
}

async fn paginate(a: &Adapters, forward: bool) {
    let all: Vec<String> = (0..23).map(|i| format!("item#{i:03}")).collect();
    for sk in &all {
        a.table
            .put(item("p", sk, &[("gsi1pk", attr::s("G")), ("gsi1sk", attr::s("same"))]), None)
            .await
            .unwrap();
    }
    for index in [Index::Primary, Index::Gsi1] {
        let base =
            if index == Index::Primary { Query::partition(index, "p") } else { Query::partition(index, "G") };
        let base = if forward { base } else { base.backward() };
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = a.table.query(base.clone().limit(5).after(cursor)).await.unwrap();
            assert!(page.items.len() <= 5);
            seen.extend(sks(&page.items));
            pages += 1;
            assert!(pages < 20, "pagination does not end");
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut expected = all.clone();
        if !forward && index == Index::Primary {
            expected.reverse();
        }
        if index == Index::Gsi1 {
            // Equal index sort keys: the order among them is the adapter's; the set is not.
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(sorted.len(), seen.len());
            seen = sorted;
            expected.sort();
        }
        assert_eq!(seen, expected, "{index:?}: every item exactly once, in order");
    }
}

pub async fn pagination_forward_loses_and_repeats_nothing(a: &Adapters) {
    paginate(a, true).await;
}

pub async fn pagination_backward_loses_and_repeats_nothing(a: &Adapters) {
    paginate(a, false).await;
}

pub async fn a_cursor_the_table_never_returned_is_invalid(a: &Adapters) {
    seed(a, "p", &["a"]).await;
    let err = a.table.query(Query::partition(Index::Primary, "p").after(Some("not a cursor!".into()))).await;
    assert!(matches!(err, Err(TableError::BadCursor)), "{err:?}");
}

pub async fn transaction_is_all_or_nothing_and_names_the_failing_item(a: &Adapters) {
    a.table.put(item("p", "taken", &[]), None).await.unwrap();
    let err = a
        .table
        .transact(vec![
            TransactItem::Put { item: item("p", "new1", &[]), condition: Some(Condition::NotExists) },
            TransactItem::Update {
                key: Key::new("p", "counter"),
                ops: vec![UpdateOp::Add("n".into(), 1)],
                condition: None,
            },
            TransactItem::Put {
                item: item("p", "taken", &[("x", attr::n(1))]),
                condition: Some(Condition::NotExists),
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, TableError::TransactionConditionFailed { index: 2 }), "{err:?}");
    assert!(a.table.get(&Key::new("p", "new1")).await.unwrap().is_none());
    assert!(a.table.get(&Key::new("p", "counter")).await.unwrap().is_none());
    assert!(!a.table.get(&Key::new("p", "taken")).await.unwrap().unwrap().contains_key("x"));
}

pub async fn transaction_applies_puts_updates_deletes_and_checks(a: &Adapters) {
    a.table.put(item("p", "doomed", &[]), None).await.unwrap();
    a.table.put(item("p", "guard", &[("version", attr::n(7))]), None).await.unwrap();
    a.table
        .transact(vec![
            TransactItem::Put {
                item: item("p", "new", &[("v", attr::s("x"))]),
                condition: Some(Condition::NotExists),
            },
            TransactItem::Update {
                key: Key::new("p", "count"),
                ops: vec![UpdateOp::Add("n".into(), 2)],
                condition: None,
            },
            TransactItem::Delete { key: Key::new("p", "doomed"), condition: Some(Condition::Exists) },
            TransactItem::ConditionCheck { key: Key::new("p", "guard"), condition: Condition::version_is(7) },
        ])
        .await
        .unwrap();
    assert!(a.table.get(&Key::new("p", "new")).await.unwrap().is_some());
    assert_eq!(attr::get_n(&a.table.get(&Key::new("p", "count")).await.unwrap().unwrap(), "n"), Some(2));
    assert!(a.table.get(&Key::new("p", "doomed")).await.unwrap().is_none());
}

pub async fn item_over_400_kb_is_refused(a: &Adapters) {
    let big = item("p", "big", &[("blob", attr::s("x".repeat(MAX_ITEM_BYTES)))]);
    assert!(matches!(a.table.put(big, None).await, Err(TableError::ItemTooLarge { .. })));
    assert!(a.table.get(&Key::new("p", "big")).await.unwrap().is_none());
    // Comfortably under: moto stops at 405,000 bytes, DynamoDB (and the port) at 409,600.
    let fits = item("p", "fits", &[("blob", attr::s("x".repeat(390 * 1024)))]);
    a.table.put(fits, None).await.expect("an item under 400 KB is stored");
}

pub async fn transaction_over_100_items_is_refused(a: &Adapters) {
    let writes = (0..101)
        .map(|i| TransactItem::Put { item: item("p", &format!("k{i}"), &[]), condition: None })
        .collect();
    let err = a.table.transact(writes).await.unwrap_err();
    assert!(matches!(err, TableError::TooManyTransactionItems { count: 101 }), "{err:?}");
    assert!(a.table.get(&Key::new("p", "k0")).await.unwrap().is_none());
    let hundred = (0..100)
        .map(|i| TransactItem::Put { item: item("p", &format!("k{i}"), &[]), condition: None })
        .collect();
    a.table.transact(hundred).await.expect("100 items is the limit, not over it");
}

pub async fn transaction_writing_one_key_twice_is_refused(a: &Adapters) {
    let err = a
        .table
        .transact(vec![
            TransactItem::Put { item: item("p", "k", &[]), condition: None },
            TransactItem::Update {
                key: Key::new("p", "k"),
                ops: vec![UpdateOp::Add("n".into(), 1)],
                condition: None,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, TableError::DuplicateTransactionKey), "{err:?}");
    assert!(a.table.get(&Key::new("p", "k")).await.unwrap().is_none());
}

pub async fn expired_items_are_absent_from_get_and_query(a: &Adapters) {
    let now = a.clock.now_secs();
    a.table.put(item("p", "old", &[("ttl", attr::n(now - 1))]), None).await.unwrap();
    a.table.put(item("p", "soon", &[("ttl", attr::n(now + 60))]), None).await.unwrap();
    a.table.put(item("p", "forever", &[]), None).await.unwrap();
    assert!(a.table.get(&Key::new("p", "old")).await.unwrap().is_none());
    assert!(a.table.get(&Key::new("p", "soon")).await.unwrap().is_some());
    assert_eq!(query_sks(a, Query::partition(Index::Primary, "p")).await, vec!["forever", "soon"]);
    a.time.advance(Duration::from_secs(61)).await;
    assert!(a.table.get(&Key::new("p", "soon")).await.unwrap().is_none());
    assert_eq!(query_sks(a, Query::partition(Index::Primary, "p")).await, vec!["forever"]);
}

const VIS: Duration = Duration::from_secs(30);

fn bodies(messages: &[atende_core::ports::ReceivedMessage]) -> Vec<String> {
    messages.iter().map(|m| m.body.clone()).collect()
}

pub async fn fifo_group_is_handed_out_in_order_one_delivery_at_a_time(a: &Adapters) {
    let q = &a.queue;
    for (body, group) in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A")] {
        q.send("fifo", OutgoingMessage::new(body).group(group).dedup(body)).await.unwrap();
    }
    let first = q.receive("fifo", 1, VIS).await.unwrap();
    assert_eq!(bodies(&first), vec!["a1"]);
    let next = q.receive("fifo", 10, VIS).await.unwrap();
    assert_eq!(bodies(&next), vec!["b1"], "group A is blocked while a1 is in flight");
    q.ack("fifo", &first[0].receipt).await.unwrap();
    let rest = q.receive("fifo", 10, VIS).await.unwrap();
    assert_eq!(bodies(&rest), vec!["a2", "a3"], "group A resumes in order");
    assert!(rest.iter().all(|m| m.group.as_deref() == Some("A")));
}

pub async fn fifo_deduplication_drops_repeats_for_five_minutes(a: &Adapters) {
    let q = &a.queue;
    q.send("fifo", OutgoingMessage::new("first").group("g").dedup("wamid.1")).await.unwrap();
    q.send("fifo", OutgoingMessage::new("again").group("g").dedup("wamid.1")).await.unwrap();
    let got = q.receive("fifo", 10, VIS).await.unwrap();
    assert_eq!(bodies(&got), vec!["first"]);
    q.ack("fifo", &got[0].receipt).await.unwrap();
    a.time.advance(Duration::from_secs(5 * 60 + 1)).await;
    q.send("fifo", OutgoingMessage::new("later").group("g").dedup("wamid.1")).await.unwrap();
    assert_eq!(bodies(&q.receive("fifo", 10, VIS).await.unwrap()), vec!["later"]);
}

pub async fn a_delayed_message_appears_only_after_its_delay(a: &Adapters) {
    let q = &a.queue;
    q.send("std", OutgoingMessage::new("later").delay(Duration::from_secs(60))).await.unwrap();
    q.send("std", OutgoingMessage::new("now")).await.unwrap();
    let got = q.receive("std", 10, VIS).await.unwrap();
    assert_eq!(bodies(&got), vec!["now"]);
    q.ack("std", &got[0].receipt).await.unwrap();
    a.time.advance(Duration::from_secs(61)).await;
    assert_eq!(bodies(&q.receive("std", 10, VIS).await.unwrap()), vec!["later"]);
}

pub async fn fifo_queue_refuses_a_per_message_delay(a: &Adapters) {
    let m = OutgoingMessage::new("x").group("g").delay(Duration::from_secs(5));
    assert!(matches!(a.queue.send("fifo", m).await, Err(atende_core::ports::QueueError::Invalid(_))));
    let too_long = OutgoingMessage::new("x").delay(Duration::from_secs(16 * 60));
    assert!(matches!(a.queue.send("std", too_long).await, Err(atende_core::ports::QueueError::Invalid(_))));
}

pub async fn an_unacked_message_is_redelivered_after_its_visibility_timeout(a: &Adapters) {
    let q = &a.queue;
    q.send("std", OutgoingMessage::new("job")).await.unwrap();
    let first = q.receive("std", 1, VIS).await.unwrap();
    assert_eq!(first[0].receive_count, 1);
    assert!(q.receive("std", 10, VIS).await.unwrap().is_empty(), "hidden while in flight");
    a.time.advance(VIS + Duration::from_secs(1)).await;
    let again = q.receive("std", 10, VIS).await.unwrap();
    assert_eq!(bodies(&again), vec!["job"]);
    assert_eq!(again[0].receive_count, 2);
    q.ack("std", &again[0].receipt).await.unwrap();
    a.time.advance(VIS + Duration::from_secs(1)).await;
    assert!(q.receive("std", 10, VIS).await.unwrap().is_empty(), "acked means gone");
}

pub async fn a_released_message_is_redelivered_at_once(a: &Adapters) {
    let q = &a.queue;
    q.send("fifo", OutgoingMessage::new("m1").group("g").dedup("1")).await.unwrap();
    q.send("fifo", OutgoingMessage::new("m2").group("g").dedup("2")).await.unwrap();
    let first = q.receive("fifo", 1, VIS).await.unwrap();
    q.release("fifo", &first[0].receipt, Duration::ZERO).await.unwrap();
    let again = q.receive("fifo", 1, VIS).await.unwrap();
    assert_eq!(bodies(&again), vec!["m1"], "a released message keeps its place in its group");
}

pub async fn a_message_moves_to_the_dlq_after_max_receives(a: &Adapters) {
    let q = &a.queue;
    q.send("std", OutgoingMessage::new("poison")).await.unwrap();
    for attempt in 1..=3 {
        let got = q.receive("std", 1, VIS).await.unwrap();
        assert_eq!(got.len(), 1, "receive {attempt}");
        q.release("std", &got[0].receipt, Duration::ZERO).await.unwrap();
    }
    assert!(q.receive("std", 10, VIS).await.unwrap().is_empty(), "after 3 receives it left the queue");
    assert_eq!(bodies(&q.receive("std-dlq", 10, VIS).await.unwrap()), vec!["poison"]);
}

pub async fn batch_send_beyond_ten_delivers_every_message(a: &Adapters) {
    let q = &a.queue;
    let messages =
        (0..25).map(|i| OutgoingMessage::new(format!("m{i:02}")).group("g").dedup(format!("d{i}"))).collect();
    q.send_batch("fifo", messages).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..10 {
        let batch = q.receive("fifo", 10, VIS).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for m in &batch {
            q.ack("fifo", &m.receipt).await.unwrap();
        }
        got.extend(bodies(&batch));
    }
    let expected: Vec<String> = (0..25).map(|i| format!("m{i:02}")).collect();
    assert_eq!(got, expected, "all 25, once each, in group order");
}

pub async fn an_unknown_queue_is_an_error(a: &Adapters) {
    let err = a.queue.send("nope", OutgoingMessage::new("x")).await;
    assert!(matches!(err, Err(atende_core::ports::QueueError::UnknownQueue(_))));
}

pub async fn blob_put_get_delete_round_trip(a: &Adapters) {
    let key = "media/acc1/msg1";
    a.blob.put(key, b"\x89PNG bytes".to_vec(), "image/png").await.unwrap();
    let got = a.blob.get(key).await.unwrap().unwrap();
    assert_eq!(got.bytes, b"\x89PNG bytes");
    assert_eq!(got.content_type, "image/png");
    a.blob.delete(key).await.unwrap();
    assert!(a.blob.get(key).await.unwrap().is_none());
    a.blob.delete(key).await.expect("deleting twice is fine");
    assert!(a.blob.put("../escape", vec![1], "x/y").await.is_err());
}

pub async fn a_presigned_url_serves_the_object(a: &Adapters) {
    let key = "exports/acc1/report.csv";
    a.blob.put(key, b"name,phone\n".to_vec(), "text/csv").await.unwrap();
    let url = a.blob.presigned_get_url(key, Duration::from_secs(300)).await.unwrap();
    let response = reqwest::get(&url).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"name,phone\n");
}

pub async fn a_presigned_put_stores_the_object_and_head_reads_its_size_and_type(a: &Adapters) {
    let key = "uploads/acc1/doc1";
    assert!(a.blob.head(key).await.unwrap().is_none(), "nothing there yet");
    let bytes = b"%PDF-1.4 a boleto".to_vec();
    let put = a
        .blob
        .presigned_put(key, "application/pdf", bytes.len() as u64, Duration::from_secs(300))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let mut request = client.put(&put.url).body(bytes.clone());
    for (name, value) in &put.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    assert_eq!(a.blob.head(key).await.unwrap(), Some((bytes.len() as u64, "application/pdf".to_owned())));
    let stored = a.blob.get(key).await.unwrap().unwrap();
    assert_eq!(stored.bytes, bytes);
}

/// Epoch seconds on the harness clock.
trait NowSecs {
    fn now_secs(&self) -> i64;
}

impl NowSecs for atende_core::ports::ManualClock {
    fn now_secs(&self) -> i64 {
        use atende_core::ports::Clock;
        self.now().timestamp()
    }
}

/// The API's limits shared by the instances of a deployment: takers racing on one bucket
/// in the table pass exactly its burst while the clock stands still, then its refill.
pub async fn a_request_bucket_in_the_table_admits_exactly_its_burst_to_racing_takers(a: &Adapters) {
    use atende_core::limits::Limit;
    use atende_core::ports::Clock;
    use atende_core::ports::RateLimiter;
    let limiter = std::sync::Arc::new(atende_runtime::limits::TableLimiter::new(a.table.clone()));
    let limit = Limit::per_minute(50, 600);
    let now = a.clock.now();
    let takers = (0..4).map(|_| {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            let mut allowed = 0;
            for _ in 0..30 {
                allowed +=
                    usize::from(limiter.take("account:racing", limit, now).await.expect("take").allowed);
            }
            allowed
        })
    });
    let mut allowed = 0;
    for taker in takers {
        allowed += taker.await.expect("taker");
    }
    assert_eq!(allowed, 50, "exactly the burst, however the takes interleave");
    let other = limiter.take("account:other", limit, now).await.expect("take");
    assert!(other.allowed && other.remaining == 49, "another bucket is untouched");
    // Ten a second grow back: one second later, ten more.
    let later = now + chrono::Duration::seconds(1);
    let mut again = 0;
    for _ in 0..15 {
        again += usize::from(limiter.take("account:racing", limit, later).await.expect("take").allowed);
    }
    assert_eq!(again, 10);
}

/// `Condition::absent_at`: an item whose TTL has passed (still stored: DynamoDB deletes
/// late) may be replaced as if absent; a live one may not.
pub async fn absent_at_replaces_an_expired_item_but_never_a_live_one(a: &Adapters) {
    use atende_core::ports::Clock;
    let now = a.clock.now().timestamp();
    let with_ttl = |ttl: i64| item("absent-at", "x", &[("ttl", attr::n(ttl))]);
    a.table.put(with_ttl(now - 10), None).await.expect("seed an expired item");
    a.table
        .put(with_ttl(now + 60), Some(Condition::absent_at(now)))
        .await
        .expect("the expired item counts as absent");
    let again = a.table.put(with_ttl(now + 120), Some(Condition::absent_at(now))).await;
    assert!(matches!(again, Err(TableError::ConditionFailed)), "a live item is there: {again:?}");
    a.table.delete(&Key::new("absent-at", "x"), None).await.expect("delete");
    a.table.put(with_ttl(now + 60), Some(Condition::absent_at(now))).await.expect("no item at all");
}

/// Optimistic concurrency under a race: writers reading a counter and putting it back
/// conditional on the version they read never both win from one version.
pub async fn racing_version_checked_puts_lose_no_update(a: &Adapters) {
    use atende_core::ports::table::VERSION;
    let writers = (0..4).map(|_| {
        let table = a.table.clone();
        tokio::spawn(async move {
            let mut won = 0u64;
            for _ in 0..25 {
                let current = table.get(&Key::new("race", "counter")).await.expect("get");
                let version = current.as_ref().and_then(|i| attr::get_n(i, VERSION)).unwrap_or(0);
                let condition = if current.is_some() {
                    Condition::version_is(version as u64)
                } else {
                    Condition::NotExists
                };
                let next = item("race", "counter", &[(VERSION, attr::n(version + 1))]);
                if table.put(next, Some(condition)).await.is_ok() {
                    won += 1;
                }
            }
            won
        })
    });
    let mut won = 0;
    for w in writers {
        won += w.await.expect("writer");
    }
    let last = a.table.get(&Key::new("race", "counter")).await.expect("get").expect("the counter");
    assert_eq!(attr::get_n(&last, VERSION), Some(won as i64), "every winning put moved the version by one");
}
