use feature_unification::*;
use std::collections::BTreeSet;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn tokio_like() -> Graph {
    Graph::new().krate(
        "tokio",
        &[
            ("default", &[]),
            ("rt", &[]),
            ("rt-multi-thread", &["rt"]),
            ("net", &[]),
            ("time", &[]),
            ("macros", &[]),
            ("full", &["rt-multi-thread", "net", "time", "macros"]),
        ],
        vec![],
    )
}

#[test]
fn features_requested_by_two_dependents_are_unified() {
    let g = tokio_like()
        .krate("client", &[], vec![dep("tokio", true, &["time"])])
        .krate("app", &[], vec![dep("tokio", false, &["rt", "net"]), dep("client", true, &[])]);
    let r = g.unify("app", &[], true).unwrap();
    assert_eq!(
        r["tokio"],
        set(&["default", "net", "rt", "time"]),
        "tokio is built once with the union of what app and client asked for (and client kept the defaults)"
    );
    assert_eq!(r.keys().cloned().collect::<Vec<_>>(), vec!["app", "client", "tokio"]);
}

#[test]
fn a_feature_enables_the_features_it_lists() {
    let g = tokio_like().krate("app", &[], vec![dep("tokio", false, &["full"])]);
    let r = g.unify("app", &[], true).unwrap();
    assert_eq!(
        r["tokio"],
        set(&["full", "macros", "net", "rt", "rt-multi-thread", "time"]),
        "`full` enables rt-multi-thread, which in turn enables rt"
    );
}

#[test]
fn default_features_false_only_opts_this_dependent_out() {
    let g = Graph::new()
        .krate("serde", &[("default", &["std"]), ("std", &[]), ("derive", &[])], vec![])
        .krate("lean", &[], vec![dep("serde", false, &["derive"])])
        .krate("app", &[], vec![dep("lean", true, &[]), dep("serde", true, &[])]);
    let r = g.unify("app", &[], true).unwrap();
    assert_eq!(
        r["serde"],
        set(&["default", "derive", "std"]),
        "`lean` turned serde's defaults off, but `app` keeps them on, so std is enabled for everyone"
    );
    let lean_alone = g.unify("lean", &[], true).unwrap();
    assert_eq!(lean_alone["serde"], set(&["derive"]), "building `lean` on its own: no defaults for serde");
}
