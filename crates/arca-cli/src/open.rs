//! Opening a data directory: its configuration, root key (refused if too open), database and the domain
//! services over them. Shared by `server` and the offline admin commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arca_core::{CacheLimits, Services, SystemClock};
use arca_store::SqliteStore;

use crate::config::{self, ArcaConfig};

/// An opened data directory.
pub struct DataDir {
    pub config: ArcaConfig,
    pub services: Services,
}

/// The configuration file of a data directory.
pub fn config_path(data_dir: &Path) -> PathBuf {
    data_dir.join("arca.toml")
}

/// Opens `data_dir` with the configuration in `config_file`.
pub async fn open(data_dir: &Path, config_file: &Path) -> anyhow::Result<DataDir> {
    let config = config::load(config_file)?;
    let root = crate::root::open_root(&config, data_dir)?;
    let db = config.database_path(data_dir);
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    let limits = CacheLimits {
        ttl: Duration::from_secs(config.keys.pkek_cache_ttl),
        limit: config.keys.pkek_cache_limit.max(1),
        token_ttl: Duration::from_secs(config.auth.token_cache_ttl),
    };
    let services = Services::start(Arc::new(store), root, Arc::new(SystemClock), limits)
        .await
        .context("cannot start the key hierarchy")?
        .with_quota_defaults(config.quotas.defaults());
    let services = crate::audit::with_sinks(services, &config, data_dir)?;
    Ok(DataDir { config, services })
}
