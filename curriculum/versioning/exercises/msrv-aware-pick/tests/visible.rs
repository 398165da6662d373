use msrv_aware_pick::*;

fn req(s: &str) -> VersionReq {
    VersionReq::parse(s).unwrap()
}
fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn releases() -> Vec<Release> {
    vec![
        Release::new("1.44.0", Some("1.70"), false),
        Release::new("1.38.0", Some("1.63"), false),
        Release::new("1.48.0", Some("1.83"), false),
        Release::new("1.39.0", Some("1.70"), false),
        Release::new("2.0.0", Some("1.85"), false),
    ]
}

#[test]
fn newest_matching_when_the_toolchain_is_new() {
    let got = pick(&releases(), &[req("1.38")], Some(&parse_rust_version("1.95")));
    assert_eq!(got, Some(Pick::Compatible(v("1.48.0"))), "1.95 can build everything; ^1.38 excludes 2.0.0");
}

#[test]
fn prefers_the_newest_release_the_msrv_can_build() {
    let got = pick(&releases(), &[req("1.38")], Some(&parse_rust_version("1.75")));
    assert_eq!(
        got,
        Some(Pick::Compatible(v("1.44.0"))),
        "with rust-version 1.75, 1.48.0 (needs 1.83) must be skipped in favour of 1.44.0 (needs 1.70)"
    );
}

#[test]
fn falls_back_to_newest_when_nothing_is_compatible() {
    let got = pick(&releases(), &[req("1.38")], Some(&parse_rust_version("1.60")));
    assert_eq!(
        got,
        Some(Pick::Fallback(v("1.48.0"))),
        "no release of ^1.38 supports 1.60: resolver 3 falls back to the newest matching one instead of failing"
    );
}
