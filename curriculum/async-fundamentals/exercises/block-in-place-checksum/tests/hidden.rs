use block_in_place_checksum::*;
use std::time::{Duration, Instant};

use crate::visible::{SlowVendor, sum, two_uploads_in_progress};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_upload_is_rejected() {
    let (vendor, _) = SlowVendor::new(1, Duration::ZERO);
    let verifier = Verifier::new(vendor);
    assert!(!verifier.verify(b"tampered", sum(b"original")).await);
}

/// Timers need a worker to drive them: a 50 ms sleep started while both
/// uploads are being checked must not last the whole second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_keep_firing_while_two_uploads_are_checked() {
    let uploads = two_uploads_in_progress(Duration::from_millis(1000));
    let started = Instant::now();
    tokio::spawn(tokio::time::sleep(Duration::from_millis(50))).await.unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(400),
        "a 50 ms sleep took {took:?}: no worker was free to run the timer"
    );
    for upload in uploads {
        assert!(upload.await.unwrap());
    }
}
