//! The server's part of the configuration (`[auth]`, `[limits]` of `arca.toml`). The CLI reads the file and
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
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::default(),
            trusted_default_roles: vec!["admin".to_owned()],
            trusted_headers_remote: false,
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

/// Everything the HTTP server needs to know beyond its listener and services.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Authentication.
    pub auth: AuthConfig,
    /// Size limits.
    pub limits: LimitsConfig,
}
