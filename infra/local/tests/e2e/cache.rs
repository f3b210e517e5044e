//! The configuration cache's rule (`atende_core::cache`): a change made by another process
//! takes effect within `CONFIG_TTL`; this process's own changes at once.

use crate::routing::{customer, system_texts};
use crate::stack::*;
use atende_core::accounts::Caller;
use atende_core::accounts::model::Profile;
use atende_core::cache::CONFIG_TTL;
use atende_core::time::keep_alive::{self, KeepAlive};
use chrono::Duration;

#[tokio::test]
async fn a_setting_changed_by_another_process_takes_effect_within_the_cache_bound() {
    let stack = Stack::new().await;
    let t = stack.tenant("Acme").await;
    let channel = stack.cloud_channel(&t, FIXTURE_PHONE_ID).await;
    let admin = Caller {
        account_id: t.account.clone(),
        user_id: t.admin.clone(),
        profile: Profile::Admin,
        source: None,
    };
    // Another instance of the functions: the same storage, its own cache.
    let other = atende_core::Deps { config: Default::default(), ..stack.ctx.deps.clone() };
    let here = &stack.ctx.deps;

    // A customer writes: applying the message reads the channel's keep-alive (none).
    stack.deliver(&customer(1, "oi", stack.now())).await;
    stack.settle().await;
    assert_eq!(keep_alive::config(here, &t.account, &channel).await.unwrap(), None);

    // The other instance enables it, and sees it at once.
    let enabled = KeepAlive {
        idle_minutes: 30,
        inactivity_message: "Ainda está aí?".into(),
        enabled: true,
        ..KeepAlive::disabled_default()
    };
    keep_alive::put(&other, &admin, &channel, enabled.clone()).await.unwrap();
    assert_eq!(keep_alive::config(&other, &t.account, &channel).await.unwrap(), Some(enabled.clone()));

    // This instance: its read may be CONFIG_TTL old, never older.
    stack.clock.advance(CONFIG_TTL - Duration::milliseconds(1));
    assert_eq!(keep_alive::config(here, &t.account, &channel).await.unwrap(), None, "still the cached read");
    stack.clock.advance(Duration::milliseconds(1));
    assert_eq!(keep_alive::config(here, &t.account, &channel).await.unwrap(), Some(enabled.clone()));

    // And the change acts: the next customer message arms the keep-alive.
    stack.deliver(&customer(1, "ainda preciso de ajuda", stack.now())).await;
    stack.settle().await;
    stack.pass(Duration::minutes(30)).await;
    assert_eq!(system_texts(&stack), vec!["Ainda está aí?"]);

    // This instance's own change is seen at once.
    let disabled = KeepAlive { enabled: false, ..enabled };
    keep_alive::put(here, &admin, &channel, disabled.clone()).await.unwrap();
    assert_eq!(keep_alive::config(here, &t.account, &channel).await.unwrap(), Some(disabled));
}
