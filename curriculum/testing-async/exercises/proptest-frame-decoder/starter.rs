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

proptest! {
    // TODO: for any list of payloads, and any way of cutting their encoding
    // into chunks, decoding the chunks in order yields exactly the payloads.
    #[test]
    fn any_payload_round_trips_in_one_chunk(payload in prop::collection::vec(any::<u8>(), 1..64)) {
        let mut d = Decoder::new();
        prop_assert_eq!(d.push(&encode(&payload)).unwrap(), vec![payload]);
    }
}

// TODO: the limits: exactly MAX_FRAME is accepted, MAX_FRAME + 1 is refused.
