use feature_unification::*;
use std::collections::BTreeSet;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn graph() -> Graph {
    Graph::new()
        .krate("tokio", &[("rt", &[]), ("net", &[]), ("tracing", &["dep-tracing/log"])], vec![dep("dep-tracing", false, &[])])
        .krate("dep-tracing", &[("default", &["std"]), ("std", &[]), ("log", &[])], vec![])
        .krate(
            "client",
            &[("default", &["json"]), ("json", &[]), ("tracing", &["tokio/tracing"]), ("cycle-a", &["cycle-b"]), ("cycle-b", &["cycle-a"])],
            vec![dep("tokio", false, &["net"])],
        )
        .krate("app", &[("observability", &["client/tracing"])], vec![dep("client", false, &[]), dep("tokio", false, &["rt"])])
        .krate("unrelated", &[], vec![dep("tokio", false, &["net"])])
}

#[test]
fn dep_slash_feature_propagates_transitively() {
    let r = graph().unify("app", &["observability"], true).unwrap();
    assert_eq!(r["app"], set(&["observability"]));
    assert_eq!(r["client"], set(&["tracing"]), "client's defaults were turned off by app; only `tracing` via app/observability");
    assert_eq!(r["tokio"], set(&["net", "rt", "tracing"]));
    assert_eq!(r["dep-tracing"], set(&["log"]), "tokio/tracing enables dep-tracing/log; nobody asked for its defaults");
    assert!(!r.contains_key("unrelated"), "crates that are not reachable from the root are not built");
}

#[test]
fn without_the_feature_nothing_extra_is_enabled() {
    let r = graph().unify("app", &[], true).unwrap();
    assert_eq!(r["client"], set(&[]), "reachable crates appear with an empty set");
    assert_eq!(r["tokio"], set(&["net", "rt"]));
    assert_eq!(r["dep-tracing"], set(&[]));
}

#[test]
fn cyclic_features_terminate() {
    let g = graph().krate("top", &[], vec![dep("client", false, &["cycle-a"])]);
    let r = g.unify("top", &[], true).unwrap();
    assert_eq!(r["client"], set(&["cycle-a", "cycle-b"]));
}

#[test]
fn root_defaults_follow_the_flag() {
    let r = graph().unify("client", &[], true).unwrap();
    assert_eq!(r["client"], set(&["default", "json"]));
    let r = graph().unify("client", &[], false).unwrap();
    assert_eq!(r["client"], set(&[]), "--no-default-features on the root");
}

#[test]
fn unknown_features_are_errors() {
    let err = graph().unify("app", &["nope"], true);
    assert!(err.is_err(), "asking for a feature that does not exist must fail, like `cargo build -F nope`");
    let g = graph().krate("bad", &[], vec![dep("tokio", false, &["fs"])]);
    assert!(g.unify("bad", &[], true).is_err(), "a dependency requesting tokio/fs, which tokio does not define, must fail");
}
