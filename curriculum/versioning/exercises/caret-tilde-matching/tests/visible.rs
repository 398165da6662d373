use caret_tilde_matching::*;

fn check(req: &str, version: &str) {
    let expected = semver::VersionReq::parse(req)
        .unwrap()
        .matches(&semver::Version::parse(version).unwrap());
    let got = matches_req(req, version);
    assert_eq!(
        got, expected,
        "requirement `{req}` vs version {version}: Cargo (the semver crate) says {expected}, you said {got}"
    );
}

#[test]
fn caret_on_one_point_x_allows_minor_and_patch_upgrades() {
    for v in ["1.2.3", "1.2.9", "1.3.0", "1.99.0", "1.2.2", "2.0.0", "0.9.9"] {
        check("^1.2.3", v);
        check("1.2.3", v); // a bare version is a caret requirement
        check("1.2", v);
        check("^1", v);
    }
}

#[test]
fn caret_on_zero_point_x_treats_minor_as_breaking() {
    for v in ["0.2.3", "0.2.4", "0.2.99", "0.3.0", "0.2.2", "1.0.0", "0.0.3"] {
        check("^0.2.3", v);
        check("0.2", v);
    }
    for v in ["0.0.3", "0.0.4", "0.0.2", "0.1.0"] {
        check("^0.0.3", v);
    }
}

#[test]
fn tilde_allows_patch_upgrades_only() {
    for v in ["1.2.3", "1.2.4", "1.3.0", "1.2.2", "2.0.0", "1.9.9"] {
        check("~1.2.3", v);
        check("~1.2", v);
        check("~1", v);
    }
    for v in ["0.2.3", "0.2.9", "0.3.0"] {
        check("~0.2.3", v);
    }
}
