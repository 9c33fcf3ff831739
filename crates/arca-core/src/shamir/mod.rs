//! Shamir custody of the root of trust (CRYPTO.md "Shamir custody"), in two levels as in Vault: M of N shares
//! rebuild a random 256-bit unseal key, which unwraps the root key versions kept in `DIR/root.sealed`; root
//! rotation therefore needs no new shares. `share` is the share file, `split` the GF(2^8) arithmetic, `sealed`
//! the `root.sealed` file, `provider` the sealable `RootKeyProvider`.

mod provider;
mod sealed;
mod share;
mod split;

pub use provider::{PENDING_TIMEOUT, SEALED_MESSAGE, ShamirRoot, ShareRefused, sealed_message};
pub use sealed::{root_sealed_path, share_path};
pub use share::{ShareFormatError, UnsealShare};
pub use split::{MAX_SHARES, RawShare, check_threshold, combine, split};

/// Where a sealable root of trust stands, as `GET /v1/sys/seal-status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealStatus {
    /// True while the keys are not in memory.
    pub sealed: bool,
    /// Shares needed (M).
    pub threshold: u8,
    /// Shares made (N).
    pub shares: u8,
    /// Distinct valid shares received towards the next unseal.
    pub progress: u8,
}

/// A root of trust that can be sealed and unsealed at run time (the server's `/v1/sys/*`).
pub trait Sealable: Send + Sync {
    /// The current status.
    fn seal_status(&self) -> SealStatus;
    /// Takes one share file's text; unseals once the threshold is reached.
    fn submit_share(&self, text: &str) -> Result<SealStatus, ShareRefused>;
    /// Drops every key and pending share from memory.
    fn seal(&self);
}
