use semver_send_regression::*;

/// `is_send!(value)`: whether the value's type implements `Send`, as a bool.
/// Unlike `assert_send`, it compiles either way, so a test can *report* a
/// future that is not `Send` instead of stopping the whole build. It works
/// by autoref-based method resolution: the first `is_send` applies only when
/// the type is `Send`; otherwise the compiler falls back to the second.
#[macro_export]
macro_rules! is_send {
    ($value:expr) => {{
        struct Probe<'a, T>(&'a T);
        trait IsSend {
            fn is_send(&self) -> bool {
                true
            }
        }
        impl<T: Send> IsSend for Probe<'_, T> {}
        trait NotSend {
            fn is_send(&self) -> bool {
                false
            }
        }
        impl<T> NotSend for &Probe<'_, T> {}
        let value = $value;
        (&Probe(&value)).is_send()
    }};
}

/// The compile-time check, for what must hold in every version.
fn assert_send<T: Send>(_: &T) {}
fn assert_sync<T: Sync>(_: &T) {}

pub fn ledger() -> Client {
    Client::new(|account| match account {
        "alice" => Some(120_00),
        "bob" => Some(35_50),
        _ => None,
    })
}

/// How 1.0's users wrote it, and still must be able to.
#[tokio::test(start_paused = true)]
async fn code_written_for_1_0_still_works() {
    let client = ledger();
    assert_send(&client);
    assert_sync(&client);
    assert_eq!(client.balance("alice").await, Ok(120_00));
    match client.balance("carol").await {
        Err(Error::NotFound(account)) => assert_eq!(account, "carol"),
        // Error is #[non_exhaustive]: 1.0's users had to write this arm.
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// 1.0's users spawn `balance` on the multi-threaded runtime, which needs
/// a `Send` future: `tokio::spawn(async move { client.balance("alice").await })`.
#[tokio::test]
async fn the_balance_future_is_still_send() {
    let client = ledger();
    assert!(
        is_send!(client.balance("alice")),
        "`client.balance(..)` is no longer Send, so every `tokio::spawn` of it in code written for 1.0 stops compiling: \
         a breaking change in a minor release. Something held across an `.await` inside it is not Send."
    );
}

#[tokio::test(start_paused = true)]
async fn the_cache_saves_round_trips() {
    let client = ledger();
    assert_eq!(client.balance("bob").await, Ok(35_50));
    assert_eq!(client.balance("bob").await, Ok(35_50));
    assert_eq!(client.fetches(), 1, "the second lookup comes from the cache");
}

#[test]
fn the_review_gets_the_send_regression_and_the_new_variant_right() {
    assert_eq!(
        review(Change::BalanceFutureNotSend),
        Level::Major,
        "the future's type is unnameable, but whether it is Send is visible to every caller"
    );
    assert_eq!(
        review(Change::NewErrorVariant),
        Level::Minor,
        "Error is #[non_exhaustive]: callers already have a wildcard arm"
    );
}
