use caret_tilde_matching::*;

const VERSIONS: &[&str] = &[
    "0.0.0", "0.0.1", "0.0.3", "0.0.4", "0.1.0", "0.1.7", "0.2.0", "0.2.3", "0.2.4", "0.3.0",
    "1.0.0", "1.2.0", "1.2.2", "1.2.3", "1.2.4", "1.3.0", "1.9.9", "2.0.0", "2.1.0", "10.0.0",
];

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
fn every_operator_agrees_with_the_semver_crate() {
    let bases = ["0", "0.0", "0.0.3", "0.2", "0.2.3", "1", "1.2", "1.2.3", "2.0.0"];
    let ops = ["", "^", "~", "=", ">", ">=", "<", "<="];
    for op in ops {
        for base in bases {
            let req = format!("{op}{base}");
            for v in VERSIONS {
                check(&req, v);
            }
        }
    }
}

#[test]
fn wildcards_and_comma_lists() {
    for req in ["*", "1.*", "1.2.*", "0.*", "0.2.*", ">=1.2, <1.5", ">0.1, <=0.2.4", ">=1, <1.0.0"] {
        for v in VERSIONS {
            check(req, v);
        }
    }
}

#[test]
fn garbage_never_matches() {
    assert!(!matches_req("^1.2.3", "not-a-version"), "an unparsable version must not match");
    assert!(!matches_req("^banana", "1.2.3"), "an unparsable requirement must not match");
}
