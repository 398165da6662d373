use upgrade_classifier::*;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

const GRID: &[&str] = &[
    "0.0.1", "0.0.3", "0.0.4", "0.1.0", "0.1.5", "0.2.0", "0.2.3", "0.2.4", "0.3.0",
    "1.0.0", "1.0.1", "1.2.3", "1.3.0", "2.0.0", "2.0.1", "10.4.2",
];

#[test]
fn breaking_means_cargo_update_would_not_take_it() {
    for from in GRID {
        let req = semver::VersionReq::parse(&format!("^{from}")).unwrap();
        for to in GRID {
            let (f, t) = (v(from), v(to));
            if t <= f {
                continue;
            }
            let got = classify(&f, &t);
            let compatible = req.matches(&t);
            assert_eq!(
                got == Upgrade::Breaking,
                !compatible,
                "{from} -> {to}: `^{from}` {} {to}, but you classified it as {got:?}",
                if compatible { "accepts" } else { "rejects" }
            );
        }
    }
}

#[test]
fn pre_releases_are_never_automatic() {
    assert_eq!(classify(&v("1.2.3"), &v("1.3.0-beta.1")), Upgrade::PreRelease,
        "1.3.0-beta.1 is newer, but `cargo update` never moves to a pre-release you did not ask for");
    assert_eq!(classify(&v("1.2.3"), &v("2.0.0-rc.1")), Upgrade::PreRelease);
    assert_eq!(classify(&v("1.2.3"), &v("1.2.3-rc.1")), Upgrade::Downgrade,
        "1.2.3-rc.1 comes *before* 1.2.3 in SemVer precedence");
}

#[test]
fn patch_and_minor_in_zero_point_x() {
    assert_eq!(classify(&v("0.2.3"), &v("0.2.10")), Upgrade::Patch);
    assert_eq!(classify(&v("0.0.3"), &v("0.1.0")), Upgrade::Breaking);
    assert_eq!(classify(&v("1.0.0"), &v("1.10.0")), Upgrade::Minor, "1.10.0 is newer than 1.9.x: compare numbers, not strings");
}
