//! Opening a data directory: its configuration, root key (refused if too open), database and the domain
//! services over them. Shared by `server` and the offline admin commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arca_core::Store;
use arca_core::{CacheLimits, Services, SystemClock};
use arca_store::{PostgresOptions, PostgresStore, SqliteStore};

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
    open_with(data_dir, config, root).await
}

/// Opens `data_dir` over a root of trust already in hand (`arca init` holds a just-created, unsealed one).
pub async fn open_with_root(
    data_dir: &Path,
    config_file: &Path,
    root: Arc<dyn arca_core::RootKeyProvider>,
) -> anyhow::Result<DataDir> {
    open_with(data_dir, config::load(config_file)?, root).await
}

async fn open_with(
    data_dir: &Path,
    config: ArcaConfig,
    root: Arc<dyn arca_core::RootKeyProvider>,
) -> anyhow::Result<DataDir> {
    let store = open_store(&config, data_dir).await?;
    let limits = CacheLimits {
        ttl: Duration::from_secs(config.keys.pkek_cache_ttl),
        limit: config.keys.pkek_cache_limit.max(1),
        token_ttl: Duration::from_secs(config.auth.token_cache_ttl),
        // Set from the store by `Services::start`: a PostgreSQL store turns the caches of mutable state off.
        shared: false,
    };
    let services = Services::start(store, root, Arc::new(SystemClock), limits)
        .await
        .context("cannot start the key hierarchy")?
        .with_quota_defaults(config.quotas.defaults());
    let stores = crate::secret_stores::build(&config, data_dir)?;
    let services = services
        .with_secret_stores(stores)
        .await
        .context("cannot configure the secret stores")?;
    let services = crate::audit::with_sinks(services, &config, data_dir)?;
    Ok(DataDir { config, services })
}

/// The configured store: PostgreSQL when `[database] url` (or `ARCA_DATABASE_URL`) names one, else the SQLite
/// file of the data directory.
pub async fn open_store(config: &ArcaConfig, data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = config.database.postgres_url() {
        let options = PostgresOptions {
            max_connections: config.database.max_connections.max(1),
            acquire_timeout: Duration::from_secs(config.database.acquire_timeout.max(1)),
            ..PostgresOptions::default()
        };
        let store = PostgresStore::connect(url, options)
            .await
            .with_context(|| {
                format!(
                    "cannot open the PostgreSQL database {}",
                    config::redact_url(url)
                )
            })?;
        return Ok(Arc::new(store));
    }
    let db = config.database_path(data_dir);
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    Ok(Arc::new(store))
}
