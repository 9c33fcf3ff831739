//! The state every handler shares: the domain services and the server configuration, behind one `Arc` so that
//! axum's per-request clone of the state is a single reference-count increment.

use std::ops::Deref;
use std::sync::Arc;

use crate::ServerConfig;

/// What handlers share.
pub(crate) struct Shared {
    /// The domain.
    pub services: arca_core::Services,
    /// The server's configuration.
    pub config: ServerConfig,
    /// Authentication failures per source address (`[auth] failure_limit`).
    pub throttle: crate::throttle::Throttle,
    /// SigV4 signing keys derived for the KMS API (`kms::sigv4::SigningKeys`).
    pub signing_keys: crate::kms::sigv4::SigningKeys,
}

/// Shared handler state; clones share one `Shared`.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl AppState {
    pub(crate) fn new(services: arca_core::Services, config: ServerConfig) -> Self {
        let throttle = crate::throttle::Throttle::new(config.auth.failure_limit);
        Self(Arc::new(Shared {
            services,
            config,
            throttle,
            signing_keys: crate::kms::sigv4::SigningKeys::default(),
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
