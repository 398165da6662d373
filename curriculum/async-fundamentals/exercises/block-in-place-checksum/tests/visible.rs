use block_in_place_checksum::*;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The checksum every vendor in these tests computes.
pub fn sum(data: &[u8]) -> u64 {
    data.iter().map(|b| u64::from(*b)).sum()
}

/// A vendor library that blocks its thread: each call waits until `parties`
/// calls are inside at once (up to 2 s), reports that on `all_in`, then
/// blocks for `hold` (a real `std::thread::sleep`, as a synchronous library
/// does).
pub struct SlowVendor {
    parties: usize,
    hold: Duration,
    inside: Mutex<usize>,
    arrived: Condvar,
    all_in: Mutex<mpsc::Sender<()>>,
}

impl SlowVendor {
    pub fn new(parties: usize, hold: Duration) -> (Self, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let vendor = SlowVendor {
            parties,
            hold,
            inside: Mutex::new(0),
            arrived: Condvar::new(),
            all_in: Mutex::new(tx),
        };
        (vendor, rx)
    }
}

impl Checksummer for SlowVendor {
    fn checksum(&self, data: &[u8]) -> u64 {
        let mut inside = self.inside.lock().unwrap();
        *inside += 1;
        if *inside == self.parties {
            let _ = self.all_in.lock().unwrap().send(());
        }
        self.arrived.notify_all();
        let _ = self
            .arrived
            .wait_timeout_while(inside, Duration::from_secs(2), |inside| *inside < self.parties)
            .unwrap();
        std::thread::sleep(self.hold);
        sum(data)
    }
}

/// Starts two uploads being verified (two handler tasks), waits until both
/// are inside the vendor's call, and returns their handles.
pub fn two_uploads_in_progress(hold: Duration) -> Vec<tokio::task::JoinHandle<bool>> {
    let (vendor, all_in) = SlowVendor::new(2, hold);
    let verifier = Arc::new(Verifier::new(vendor));
    let uploads: Vec<_> = [b"first upload".as_slice(), b"second upload"]
        .into_iter()
        .map(|upload| {
            let verifier = verifier.clone();
            tokio::spawn(async move { verifier.verify(upload, sum(upload)).await })
        })
        .collect();
    // This blocks the test's own thread, which is not one of the runtime's
    // workers: the spawned tasks run on the workers meanwhile.
    all_in
        .recv_timeout(Duration::from_secs(5))
        .expect("both uploads reach the vendor's checksum call");
    uploads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_upload_is_accepted() {
    let (vendor, _) = SlowVendor::new(1, Duration::ZERO);
    let verifier = Verifier::new(vendor);
    let upload = b"hello".to_vec();
    assert!(verifier.verify(&upload, sum(&upload)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_get_their_own_verdicts() {
    let (vendor, _) = SlowVendor::new(2, Duration::from_millis(10));
    let verifier = Arc::new(Verifier::new(vendor));
    let good = tokio::spawn({
        let verifier = verifier.clone();
        async move { verifier.verify(b"abc", sum(b"abc")).await }
    });
    let bad = tokio::spawn({
        let verifier = verifier.clone();
        async move { verifier.verify(b"abd", sum(b"abc")).await }
    });
    assert!(good.await.unwrap(), "the intact upload is accepted");
    assert!(!bad.await.unwrap(), "the corrupted upload is rejected");
}

/// Two uploads keep both workers inside the vendor's call for a second.
/// Meanwhile a trivial request (here: a spawned task that does nothing)
/// must still be served promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_is_answered_while_two_uploads_are_checked() {
    let uploads = two_uploads_in_progress(Duration::from_millis(1000));
    let asked = Instant::now();
    tokio::spawn(async {}).await.unwrap();
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_millis(300),
        "a ping waited {waited:?} for a worker: both worker threads were blocked inside the vendor's checksum"
    );
    for upload in uploads {
        assert!(upload.await.unwrap());
    }
}
