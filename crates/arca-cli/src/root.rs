//! The root of trust a data directory uses, as `[root_key] provider` says: `file` (`DIR/root.key`), and the
//! custody modes of issue 7 as they arrive. Every command that opens a data directory goes through here.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use arca_core::{FileRootKey, RootKeyProvider, root_key_path};

use crate::config::ArcaConfig;

/// Opens the root of trust of `data_dir`.
pub fn open_root(config: &ArcaConfig, data_dir: &Path) -> anyhow::Result<Arc<dyn RootKeyProvider>> {
    match config.root_key.provider.as_str() {
        "file" => Ok(Arc::new(FileRootKey::open(&root_key_path(data_dir))?)),
        other => bail!("[root_key] provider {other:?} is not known: use \"file\""),
    }
}
