use semver_send_regression::*;

use crate::is_send;
use crate::visible::ledger;

#[tokio::test]
async fn the_new_balances_future_is_send_too() {
    let client = ledger();
    assert!(
        is_send!(client.balances(&["alice", "bob"])),
        "`client.balances(..)` is not Send: a new method should follow the crate's conventions"
    );
}

#[tokio::test(start_paused = true)]
async fn balances_are_in_order_and_cached() {
    let client = ledger();
    assert_eq!(client.balances(&["bob", "alice", "bob"]).await, Ok(vec![35_50, 120_00, 35_50]));
    assert_eq!(client.fetches(), 2);
    assert_eq!(
        client.balances(&["alice", "nobody"]).await,
        Err(Error::NotFound("nobody".into()))
    );
}

#[test]
fn the_whole_review_follows_the_cargo_guide() {
    use Change::*;
    let expected = [
        (NewErrorVariant, Level::Minor),
        (NewPrivateFields, Level::Minor),
        (NewInherentMethods, Level::PossiblyBreaking),
        (BalanceFutureNotSend, Level::Major),
        (NewCargoFeature, Level::Minor),
        (RaisedRustVersion, Level::PossiblyBreaking),
    ];
    for (change, level) in expected {
        assert_eq!(review(change), level, "{change:?}");
    }
}
