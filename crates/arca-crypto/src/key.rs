//! `Key256`: a 256-bit key that is zeroized on drop and can be neither printed nor serialised.

use zeroize::Zeroizing;

use crate::{CryptoError, random_array};

/// A 256-bit symmetric key. No `Debug`, `Display`, `Clone` or `Serialize`: copies are explicit
/// (`duplicate`) and every copy is zeroized on drop.
pub struct Key256(Zeroizing<[u8; 32]>);

impl Key256 {
    /// A fresh random key from the system generator.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(Zeroizing::new(random_array::<32>()?)))
    }

    /// Takes ownership of key bytes; the caller's array is moved in, not copied.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies a 32-byte slice into a key.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::KeyLength)?;
        Ok(Self::from_bytes(array))
    }

    /// The raw key bytes, for the primitives in this crate and for wrapping.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// An explicit second copy (for caches); zeroized on drop like the first.
    pub fn duplicate(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }
}
