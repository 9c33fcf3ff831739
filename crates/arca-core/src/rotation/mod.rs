//! Key rotation: root key rotation (`root`: a new root key version, every KEK and system key row rewrapped
//! under it, the old version retired once nothing references it) and project KEK rotation (`pkek`: a new KEK
//! version for new writes, then a background rewrap of the project's objects), plus the server's periodic
//! upkeep that drives both (`maintenance`). Everything is batched, compare-and-swap and resumable.

mod maintenance;
mod pkek;
mod root;

pub use maintenance::KeyMaintenance;
pub use pkek::PkekRotation;
pub use root::{RootRotation, RootRotationReport};

use std::sync::Arc;

use crate::{CoreError, RootKeyProvider};

/// Runs a root key provider call (file I/O, an HSM round trip) off the async runtime.
async fn blocking<T: Send + 'static>(
    root: &Arc<dyn RootKeyProvider>,
    call: impl FnOnce(&dyn RootKeyProvider) -> Result<T, arca_crypto::CryptoError> + Send + 'static,
) -> Result<T, CoreError> {
    let root = root.clone();
    tokio::task::spawn_blocking(move || call(root.as_ref()))
        .await
        .map_err(|e| CoreError::Unavailable(format!("a root key operation did not finish: {e}")))?
        .map_err(CoreError::from)
}
