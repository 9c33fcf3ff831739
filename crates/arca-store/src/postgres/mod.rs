//! `PostgresStore`: the `Store` on PostgreSQL 15 for several stateless Arca nodes sharing one database. Every
//! method runs on a pooled connection (sqlx); multi-statement writes run in one transaction, and quota-checked
//! inserts lock the project's row in `project_locks` before counting, so limits hold across connections and
//! nodes. Nothing is cached in the store: all shared state is in the database. Connecting applies the migrations
//! of `migrations-postgres/` (see `schema`). The trait methods delegate to one file per area.

#[allow(dead_code)] // Until the Store impl delegates to it.
mod access_keys;
#[allow(dead_code)] // Until the Store impl delegates to it.
mod audit;
#[allow(dead_code)] // Until every area uses its helpers.
mod error;
#[allow(dead_code)] // Until the Store impl delegates to it.
mod kms;
#[allow(dead_code)] // Until the Store impl delegates to it.
mod rotation;
mod schema;
pub mod testing;

use std::time::Duration;

use arca_core::StoreError;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Connection settings of a [`PostgresStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Connections in the pool (per node).
    pub max_connections: u32,
    /// How long a request waits for a pooled connection (including opening one) before failing as
    /// "database unavailable".
    pub acquire_timeout: Duration,
    /// How long [`PostgresStore::connect`] waits for the first connection.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL `Store`.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?sslmode=…`), applies the
    /// migrations (serialised between nodes by an advisory lock) and returns the store.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<PostgresStore, StoreError> {
        let connect: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError(format!("PostgreSQL store: invalid database URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            // A connection that broke (server restarted) is found out before use rather than failing a request.
            .test_before_acquire(true)
            .connect_lazy_with(connect);
        let store = PostgresStore { pool };
        match tokio::time::timeout(options.connect_timeout, schema::migrate(&store.pool)).await {
            Ok(migrated) => migrated?,
            Err(_) => {
                return Err(StoreError::unavailable(format!(
                    "PostgreSQL store: no connection within {:?}",
                    options.connect_timeout
                )));
            }
        }
        Ok(store)
    }

    /// The connection pool (for tests and tools that need raw SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool: waits for connections in use to be returned, then closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
