//! returns only the first frame a chunk completes; the rest wait for the next push

/// Longest payload a frame may carry.
pub const MAX_FRAME: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The header announced more than `MAX_FRAME` bytes.
    TooLong(usize),
}

/// One frame on the wire: a 2-byte big-endian length, then the payload.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= MAX_FRAME, "payload too long");
    let mut out = (payload.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// Decodes frames from a byte stream that arrives in arbitrary chunks.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `chunk` and returns every frame completed by it, in order. Bytes of
    /// an incomplete frame are kept for the next call.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        self.buf.extend_from_slice(chunk);
        let mut frames = Vec::new();
        loop {
            if self.buf.len() < 2 {
                return Ok(frames);
            }
            let len = u16::from_be_bytes([self.buf[0], self.buf[1]]) as usize;
            if len > MAX_FRAME {
                return Err(FrameError::TooLong(len));
            }
            if self.buf.len() < 2 + len {
                return Ok(frames);
            }
            frames.push(self.buf[2..2 + len].to_vec());
            self.buf.drain(..2 + len);
            return Ok(frames);
        }
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}
