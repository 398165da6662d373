use std::collections::BTreeMap;
use update_bot_compat_fix::*;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn registry(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<Version>> {
    entries.iter().map(|(n, vs)| (n.to_string(), vs.iter().map(|s| v(s)).collect())).collect()
}

fn upd(name: &str, from: &str, to: &str) -> Update {
    Update { name: name.into(), from: v(from), to: v(to) }
}

#[test]
fn one_point_x_crates_are_planned_correctly() {
    let reg = registry(&[("serde", &["1.0.190", "1.0.219", "1.0.200"]), ("http", &["0.2.12", "1.1.0", "1.3.1"])]);
    let p = plan(&[("serde", v("1.0.190")), ("http", v("1.1.0"))], &reg);
    assert_eq!(p.automatic, vec![upd("serde", "1.0.190", "1.0.219"), upd("http", "1.1.0", "1.3.1")]);
    assert!(p.manual.is_empty(), "nothing incompatible is newer: {:?}", p.manual);
}

#[test]
fn zero_point_minor_bump_needs_a_human() {
    let reg = registry(&[("tokio-util", &["0.7.10", "0.7.16", "0.8.0"])]);
    let p = plan(&[("tokio-util", v("0.7.10"))], &reg);
    assert_eq!(
        p.automatic,
        vec![upd("tokio-util", "0.7.10", "0.7.16")],
        "the automatic PR may only take tokio-util to the newest 0.7.x: 0.8.0 is a breaking release under Cargo's rules"
    );
    assert_eq!(p.manual, vec![upd("tokio-util", "0.7.10", "0.8.0")], "0.8.0 must be flagged for manual review");
}

#[test]
fn is_compatible_follows_the_leftmost_nonzero_rule() {
    let cases = [
        ("1.2.3", "1.9.0", true),
        ("1.2.3", "2.0.0", false),
        ("0.2.3", "0.2.9", true),
        ("0.2.3", "0.3.0", false),
        ("0.0.3", "0.0.4", false),
    ];
    for (a, b, want) in cases {
        assert_eq!(is_compatible(&v(a), &v(b)), want, "is_compatible({a}, {b}) should be {want}");
    }
}
