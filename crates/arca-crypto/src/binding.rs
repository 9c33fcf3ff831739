//! `Binding`: the canonical encoding of the context a ciphertext or MAC is bound to. `lp(x)` is a big-endian
//! u32 length followed by x, so no two different contexts encode to the same bytes.

/// A builder for length-prefixed binding bytes (associated data and MAC inputs).
#[derive(Default)]
pub struct Binding(Vec<u8>);

impl Binding {
    /// An empty binding.
    pub fn new() -> Self {
        Self(Vec::with_capacity(96))
    }

    /// Appends raw bytes without a length (fixed-width labels).
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends `lp(bytes)`.
    pub fn lp(mut self, bytes: &[u8]) -> Self {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends one byte.
    pub fn u8(mut self, value: u8) -> Self {
        self.0.push(value);
        self
    }

    /// Appends a big-endian u32.
    pub fn u32(mut self, value: u32) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}
