use msrv_aware_pick::*;

fn req(s: &str) -> VersionReq {
    VersionReq::parse(s).unwrap()
}
fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn every_requirement_must_match() {
    let rs = vec![
        Release::new("0.4.20", None, false),
        Release::new("0.4.14", None, false),
        Release::new("0.4.25", None, false),
        Release::new("0.5.0", None, false),
    ];
    let got = pick(&rs, &[req("0.4.14"), req(">=0.4.18, <0.4.22")], None);
    assert_eq!(got, Some(Pick::Compatible(v("0.4.20"))), "two dependents: ^0.4.14 and >=0.4.18,<0.4.22; only 0.4.20 satisfies both");
    assert_eq!(pick(&rs, &[req("0.4"), req("0.5")], None), None, "^0.4 and ^0.5 can never be satisfied by one version");
}

#[test]
fn yanked_releases_are_never_picked() {
    let rs = vec![
        Release::new("1.2.0", Some("1.70"), false),
        Release::new("1.3.0", Some("1.70"), true),
        Release::new("1.4.0", Some("1.90"), true),
    ];
    assert_eq!(pick(&rs, &[req("1")], Some(&v("1.80.0"))), Some(Pick::Compatible(v("1.2.0"))), "1.3.0 is yanked");
    let only_yanked = vec![Release::new("1.3.0", None, true)];
    assert_eq!(pick(&only_yanked, &[req("1")], None), None, "a yanked release is not even a fallback");
}

#[test]
fn missing_rust_version_counts_as_compatible_and_none_msrv_ignores_it() {
    let rs = vec![
        Release::new("2.1.0", None, false),
        Release::new("2.2.0", Some("1.90"), false),
        Release::new("2.0.0", Some("1.60"), false),
    ];
    assert_eq!(pick(&rs, &[req("2")], Some(&v("1.70.0"))), Some(Pick::Compatible(v("2.1.0"))),
        "2.1.0 declares no rust-version, which Cargo treats as compatible");
    assert_eq!(pick(&rs, &[req("2")], None), Some(Pick::Compatible(v("2.2.0"))), "no MSRV: newest wins");
    assert_eq!(pick(&rs, &[req("2")], Some(&v("1.90.0"))), Some(Pick::Compatible(v("2.2.0"))), "rust-version equal to the MSRV is fine");
}

#[test]
fn pre_releases_follow_the_requirement() {
    let rs = vec![Release::new("1.0.0", None, false), Release::new("1.1.0-rc.1", None, false)];
    assert_eq!(pick(&rs, &[req("1")], None), Some(Pick::Compatible(v("1.0.0"))), "^1 does not match 1.1.0-rc.1");
    assert_eq!(pick(&rs, &[req("1.1.0-rc.1")], None), Some(Pick::Compatible(v("1.1.0-rc.1"))));
}
