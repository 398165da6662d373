//! Tests for the frame `Decoder`. They must pass against the correct
//! implementation and each buggy variant must fail at least one of them.

use proptest::prelude::*;
use proptest_frame_decoder::*;

#[test]
fn decodes_one_frame_in_one_chunk() {
    let mut d = Decoder::new();
    assert_eq!(d.push(&encode(b"hello")), Ok(vec![b"hello".to_vec()]));
    assert_eq!(d.pending(), 0);
}

/// Payloads (empty ones included) and the cut points at which the encoded
/// stream is split into chunks.
fn payloads_and_cuts() -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<usize>)> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..48), 0..8).prop_flat_map(|payloads| {
        let total: usize = payloads.iter().map(|p| 2 + p.len()).sum();
        // Cut positions anywhere in the stream, sorted; duplicates give empty chunks.
        let cuts = prop::collection::vec(0..=total, 0..12).prop_map(|mut c| {
            c.sort();
            c
        });
        (Just(payloads), cuts)
    })
}

fn chunks(stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        out.push(stream[start..cut].to_vec());
        start = cut;
    }
    out
}

proptest! {
    #[test]
    fn any_split_of_any_frames_decodes_to_the_same_frames((payloads, cuts) in payloads_and_cuts()) {
        let stream: Vec<u8> = payloads.iter().flat_map(|p| encode(p)).collect();
        let mut d = Decoder::new();
        let mut decoded = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            decoded.extend(d.push(&chunk).unwrap());
        }
        prop_assert_eq!(decoded, payloads);
        prop_assert_eq!(d.pending(), 0);
    }

    #[test]
    fn a_frame_is_returned_by_the_push_that_completes_it(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 1..6)) {
        let stream: Vec<u8> = payloads.iter().flat_map(|p| encode(p)).collect();
        let mut d = Decoder::new();
        prop_assert_eq!(d.push(&stream).unwrap(), payloads);
    }
}

#[test]
fn the_limits_are_inclusive() {
    let max = vec![7u8; MAX_FRAME];
    assert_eq!(Decoder::new().push(&encode(&max)), Ok(vec![max]));
    let too_long = ((MAX_FRAME + 1) as u16).to_be_bytes();
    assert_eq!(Decoder::new().push(&too_long), Err(FrameError::TooLong(MAX_FRAME + 1)));
}
