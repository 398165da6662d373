use std::collections::BTreeMap;
use update_bot_compat_fix::*;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn agrees_with_cargo_caret_semantics() {
    let grid = ["0.0.1", "0.0.2", "0.1.0", "0.1.4", "0.2.0", "0.2.5", "1.0.0", "1.4.0", "2.0.0"];
    for a in grid {
        let req = semver::VersionReq::parse(&format!("^{a}")).unwrap();
        for b in grid {
            let want = req.matches(&v(b));
            assert_eq!(is_compatible(&v(a), &v(b)), want, "is_compatible({a}, {b}) should be {want} (`^{a}`)");
        }
    }
}

#[test]
fn zero_zero_x_and_pre_releases() {
    let reg: BTreeMap<String, Vec<Version>> = [
        ("tiny".to_string(), vec![v("0.0.3"), v("0.0.4"), v("0.0.5")]),
        ("beta".to_string(), vec![v("1.0.0"), v("1.1.0-rc.1"), v("2.0.0-alpha.1")]),
    ]
    .into_iter()
    .collect();
    let p = plan(&[("tiny", v("0.0.3")), ("beta", v("1.0.0"))], &reg);
    assert!(p.automatic.is_empty(), "0.0.x releases are each breaking, and pre-releases are ignored: {:?}", p.automatic);
    assert_eq!(p.manual, vec![Update { name: "tiny".into(), from: v("0.0.3"), to: v("0.0.5") }]);
}
