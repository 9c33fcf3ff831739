//! The server's part of the configuration (`[auth]`, `[limits]`, `[quotas]` of `arca.toml`). The CLI reads the file and
//! the `ARCA_*` environment into these types once and passes them down; nothing here reads the environment.

use serde::Deserialize;

/// How callers are identified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Opaque Arca tokens in `X-Auth-Token` or `Authorization: Bearer` (the default).
    #[default]
    Token,
    /// Identity from `X-Project-Id`, `X-User-Id` and `X-Roles`, set by an authenticating proxy.
    TrustedHeaders,
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `token` or `trusted-headers`.
    pub mode: AuthMode,
    /// Roles assumed in trusted-headers mode when a request carries no `X-Roles` header. Defaults to
    /// `["admin"]`, as Barbican's `UnauthenticatedContextMiddleware` makes such callers admin (what
    /// `barbican --no-auth --os-project-id P` relies on).
    pub trusted_default_roles: Vec<String>,
    /// Whether trusted-headers mode may listen on a non-loopback address. Off: anyone who can reach the port
    /// could claim any identity, so only a proxy on the same host should be able to.
    pub trusted_headers_remote: bool,
    /// Seconds a validated token's row is reused before the database is asked again (0: every request). A
    /// revocation made elsewhere bites within this time.
    pub token_cache_ttl: u64,
    /// Authentication failures allowed per source address per minute before further failures are answered
    /// 429 with `Retry-After` (0: no throttling). Only failures count: a good token is never throttled.
    pub failure_limit: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::default(),
            trusted_default_roles: vec!["admin".to_owned()],
            trusted_headers_remote: false,
            token_cache_ttl: 5,
            failure_limit: 10,
        }
    }
}

/// `[limits]`: Barbican's size limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest decoded payload accepted (Barbican's `max_allowed_secret_in_bytes`).
    pub max_payload_bytes: usize,
    /// Largest request body accepted (Barbican's `max_allowed_request_size_in_bytes`).
    pub max_request_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_payload_bytes: 20_000,
            max_request_bytes: 25_000,
        }
    }
}

/// `[quotas]`: the deployment's default quota per resource, Barbican's `[quotas]` options with their names and
/// defaults (-1, unlimited, for all). A project's configured quotas (`/v1/project-quotas`) override them; 0
/// disables creating that resource.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotasConfig {
    /// Secrets per project.
    pub quota_secrets: i64,
    /// Orders per project.
    pub quota_orders: i64,
    /// Containers per project.
    pub quota_containers: i64,
    /// Container consumers per project.
    pub quota_consumers: i64,
    /// Certificate authorities per project (Arca has none).
    pub quota_cas: i64,
}

impl Default for QuotasConfig {
    fn default() -> Self {
        Self {
            quota_secrets: arca_core::UNLIMITED,
            quota_orders: arca_core::UNLIMITED,
            quota_containers: arca_core::UNLIMITED,
            quota_consumers: arca_core::UNLIMITED,
            quota_cas: arca_core::UNLIMITED,
        }
    }
}

impl QuotasConfig {
    /// The defaults as the domain takes them.
    pub fn defaults(&self) -> arca_core::QuotaDefaults {
        arca_core::Quotas {
            secrets: self.quota_secrets,
            orders: self.quota_orders,
            containers: self.quota_containers,
            consumers: self.quota_consumers,
            cas: self.quota_cas,
        }
    }
}

/// Everything the HTTP server needs to know beyond its listener and services.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Authentication.
    pub auth: AuthConfig,
    /// Size limits.
    pub limits: LimitsConfig,
    /// TLS, loaded from `[tls]` by `Tls::load` before serving; `None` serves plain HTTP.
    #[serde(skip)]
    pub tls: Option<crate::Tls>,
}
