//! Three crates use `series_key` in one service. Cargo unifies features, so
//! all three get the union of what any of them asked for: this build is
//! compiled with `--cfg feature="preserve-order" --cfg feature="fast-fingerprint"`.
//! Each group of tests below is one crate's expectations; a group whose
//! crate needs a feature is compiled only when that feature is on.

use additive_series_features::*;

/// FNV-1a, 64 bit, written independently of the crate.
pub fn reference_fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

pub fn labels() -> Labels {
    Labels::new().with("region", "eu-west").with("host", "db-1")
}

#[test]
fn this_build_unifies_both_features() {
    assert!(cfg!(feature = "preserve-order") && cfg!(feature = "fast-fingerprint"));
}

// ---- the alerting crate: `series_key = "2"`, no features ----

#[test]
fn alerting_renders_the_canonical_sorted_form() {
    assert_eq!(
        labels().render(),
        "host=db-1,region=eu-west",
        "alerting never enabled preserve-order, yet render() changed because another crate in the build did"
    );
}

#[test]
fn alerting_fingerprints_are_stable_fnv1a() {
    assert_eq!(
        labels().fingerprint(),
        reference_fnv1a(b"host=db-1,region=eu-west"),
        "alerting persists fingerprints; fast-fingerprint, enabled by another crate, must not change them"
    );
}

// ---- the dashboard crate: `features = ["preserve-order"]` ----

#[cfg(feature = "preserve-order")]
#[test]
fn dashboard_shows_labels_in_the_order_it_added_them() {
    assert_eq!(labels().render_in_insertion_order(), "region=eu-west,host=db-1");
}
