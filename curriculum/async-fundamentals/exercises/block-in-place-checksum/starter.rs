//! Upload verification: every upload handler (a task on the multi-threaded
//! runtime) checksums the upload with a vendor's synchronous library before
//! storing it.

/// The vendor's checksum routine: synchronous and slow. It blocks its thread
/// for as long as it runs, up to a second on a large upload.
pub trait Checksummer: Send + Sync {
    fn checksum(&self, data: &[u8]) -> u64;
}

pub struct Verifier<C> {
    vendor: C,
}

impl<C: Checksummer> Verifier<C> {
    pub fn new(vendor: C) -> Self {
        Verifier { vendor }
    }

    /// Whether `upload` has the checksum `expected`. Called from handler
    /// tasks; `upload` is borrowed from the handler's request buffer.
    pub async fn verify(&self, upload: &[u8], expected: u64) -> bool {
        self.vendor.checksum(upload) == expected
    }
}
