use upgrade_classifier::*;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn expect(from: &str, to: &str, want: Upgrade) {
    let got = classify(&v(from), &v(to));
    assert_eq!(got, want, "{from} -> {to}: expected {want:?}, got {got:?}");
}

#[test]
fn one_point_x_upgrades() {
    expect("1.2.3", "1.2.9", Upgrade::Patch);
    expect("1.2.3", "1.4.0", Upgrade::Minor);
    expect("1.2.3", "2.0.0", Upgrade::Breaking);
    expect("1.2.3", "1.2.3", Upgrade::Unchanged);
    expect("1.2.3", "1.2.2", Upgrade::Downgrade);
}

#[test]
fn zero_point_x_minor_bumps_are_breaking() {
    expect("0.2.3", "0.2.4", Upgrade::Patch);
    expect("0.2.3", "0.3.0", Upgrade::Breaking);
    expect("0.9.1", "1.0.0", Upgrade::Breaking);
    expect("0.0.3", "0.0.4", Upgrade::Breaking);
}

#[test]
fn upper_bounds_follow_the_leftmost_nonzero_rule() {
    for (from, bound) in [("1.2.3", "2.0.0"), ("0.2.3", "0.3.0"), ("0.0.3", "0.0.4"), ("3.0.0", "4.0.0")] {
        let got = caret_upper_bound(&v(from));
        assert_eq!(got, v(bound), "compatibility range of {from} ends at {bound}, you said {got}");
    }
}
