//! The state every handler shares: the domain services and the server configuration. Cheap to clone.

use std::sync::Arc;

use crate::ServerConfig;

/// Shared handler state.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The domain.
    pub services: arca_core::Services,
    /// The server's configuration.
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub(crate) fn new(services: arca_core::Services, config: ServerConfig) -> Self {
        Self {
            services,
            config: Arc::new(config),
        }
    }
}
