//! The root of trust a data directory uses, as `[root_key] provider` says: `file` (`DIR/root.key`), `shamir` (`DIR/root.sealed`,
//! opened sealed), and the
//! custody modes of issue 7 as they arrive. Every command that opens a data directory goes through here.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use arca_core::{FileRootKey, RootKeyProvider, ShamirRoot, root_key_path, root_sealed_path};

use crate::config::ArcaConfig;

/// Opens the root of trust of `data_dir`.
pub fn open_root(config: &ArcaConfig, data_dir: &Path) -> anyhow::Result<Arc<dyn RootKeyProvider>> {
    match config.root_key.provider.as_str() {
        "file" => Ok(Arc::new(FileRootKey::open(&root_key_path(data_dir))?)),
        // Opens sealed: `arca unseal --share FILE` against the running server unseals it.
        "shamir" => Ok(Arc::new(
            ShamirRoot::open(&root_sealed_path(data_dir)).map_err(anyhow::Error::msg)?,
        )),
        other => bail!("[root_key] provider {other:?} is not known: use \"file\" or \"shamir\""),
    }
}
