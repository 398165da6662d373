use additive_series_features::*;

use crate::visible::{labels, reference_fnv1a};

#[test]
fn alerting_keys_do_not_depend_on_insertion_order() {
    let other = Labels::new().with("host", "db-1").with("region", "eu-west");
    assert_eq!(labels().render(), other.render());
    assert_eq!(labels().fingerprint(), other.fingerprint());
    assert_eq!(Labels::new().fingerprint(), reference_fnv1a(b""));
}

#[test]
fn a_later_value_replaces_the_earlier_one() {
    let l = labels().with("host", "db-2");
    assert_eq!(l.render(), "host=db-2,region=eu-west");
}

// ---- the ingest crate: `features = ["fast-fingerprint"]` ----

#[cfg(feature = "fast-fingerprint")]
#[test]
fn ingest_fast_fingerprints_ignore_order_and_tell_series_apart() {
    let other = Labels::new().with("host", "db-1").with("region", "eu-west");
    assert_eq!(labels().fingerprint_fast(), other.fingerprint_fast());
    assert_ne!(labels().fingerprint_fast(), labels().with("host", "db-2").fingerprint_fast());
}
