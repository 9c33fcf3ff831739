//! `arca.toml` and its `ARCA_*` environment overrides, read once into one typed struct. Environment names are
//! `ARCA_<SECTION>_<KEY>` (for example `ARCA_API_LISTEN`, `ARCA_AUTH_MODE`); list values are comma-separated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use arca_server::{AuthConfig, LimitsConfig, QuotasConfig, ServerConfig, TlsConfig};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

/// The file `arca init` writes.
pub const DEFAULT_CONFIG: &str = r#"# Arca configuration. Every key can be overridden by ARCA_<SECTION>_<KEY>, e.g. ARCA_API_LISTEN.

[api]
# Barbican v1 API. A non-loopback address over plain HTTP needs `arca server --insecure-http`.
listen = "127.0.0.1:9311"

[auth]
# "token" (Arca API tokens) or "trusted-headers" (X-Project-Id / X-User-Id / X-Roles from a trusted proxy).
mode = "token"
# Seconds a validated token is trusted before the database is asked again; a revocation bites within it.
token_cache_ttl = 5
# Authentication failures allowed per source address per minute; beyond it failures get 429 + Retry-After
# (0: off). Only failures are throttled: a good token always works.
failure_limit = 10

[root_key]
# The root of trust: "file" keeps the versioned root key in DIR/root.key (mode 0400); "shamir" keeps the
# versions wrapped under an unseal key in DIR/root.sealed, rebuilt from M of N shares (`arca unseal`).
provider = "file"

[storage]
# SQLite database, relative to the data directory.
database = "arca.db"

[keys]
# Unwrapped project KEKs are cached this long (seconds) and at most this many at once.
pkek_cache_ttl = 900
pkek_cache_limit = 1000

[quotas]
# Default quotas per project (Barbican's options): -1 unlimited, 0 disabled, N at most N. A project's own
# quotas, set through /v1/project-quotas by key-manager:service-admin, override these.
quota_secrets = -1
quota_orders = -1
quota_containers = -1
quota_consumers = -1
quota_cas = -1

[metrics]
# Prometheus /metrics, /healthz and /readyz on their own listener (never the API port).
listen = "127.0.0.1:9646"

[expiry]
# Expired secrets are no longer served; the sweeper destroys them this long after expiring (s, m, h, d),
# checking every sweep_interval.
grace = "7d"
sweep_interval = "1h"

[audit]
# Every audit record is also written as one JSON line (with its seq and mac) for a SIEM: to this file
# (relative to the data directory; "" for none) and/or to standard output.
file = "audit.jsonl"
stdout = false

[tls]
# TLS on the API listener (rustls; TLS 1.3 only unless min_version = "1.2"). Set both files to turn it on;
# the key file must be mode 0400 or 0600. `kill -HUP <pid>` re-reads them (certificate rotation).
# cert_file = "/etc/arca/tls/cert.pem"
# key_file = "/etc/arca/tls/key.pem"
# min_version = "1.3"
# Client certificates (mTLS): verified against this CA; client_auth = "required" (default) or "optional".
# client_ca_file = "/etc/arca/tls/client-ca.pem"
# client_auth = "required"
# A verified client certificate with this subject CN acts as this principal (no token needed):
# [[tls.client_principals]]
# subject_cn = "svc-a"
# project = "p"
# user = "svc-a"
# roles = ["creator"]
"#;

/// `[api]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSection {
    pub listen: SocketAddr,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9311)),
        }
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSection {
    pub database: PathBuf,
}

impl Default for StorageSection {
    fn default() -> Self {
        Self {
            database: PathBuf::from("arca.db"),
        }
    }
}

/// `[root_key]`: the root of trust.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RootKeySection {
    /// `file` (`DIR/root.key`, mode 0400).
    pub provider: String,
}

impl Default for RootKeySection {
    fn default() -> Self {
        Self {
            provider: "file".into(),
        }
    }
}

/// `[keys]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysSection {
    pub pkek_cache_ttl: u64,
    pub pkek_cache_limit: usize,
}

impl Default for KeysSection {
    fn default() -> Self {
        Self {
            pkek_cache_ttl: 900,
            pkek_cache_limit: 1000,
        }
    }
}

/// `[metrics]`: the Prometheus listener (`/metrics`, `/healthz`, `/readyz`), never the API port.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    pub listen: SocketAddr,
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9646)),
        }
    }
}

/// `[expiry]`: expired secrets are destroyed `grace` after their expiration, checked every `sweep_interval`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpirySection {
    pub grace: String,
    pub sweep_interval: String,
}

impl Default for ExpirySection {
    fn default() -> Self {
        Self {
            grace: "7d".to_owned(),
            sweep_interval: "1h".to_owned(),
        }
    }
}

/// `[audit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSection {
    /// The JSON-lines file, relative to the data directory; `None` or empty for none.
    pub file: Option<PathBuf>,
    /// Also write every record to standard output.
    pub stdout: bool,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            file: Some(PathBuf::from("audit.jsonl")),
            stdout: false,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArcaConfig {
    pub api: ApiSection,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub storage: StorageSection,
    pub keys: KeysSection,
    pub root_key: RootKeySection,
    pub quotas: QuotasConfig,
    pub tls: TlsConfig,
    pub audit: AuditSection,
    pub metrics: MetricsSection,
    pub expiry: ExpirySection,
}

impl ArcaConfig {
    /// The part the HTTP server needs.
    pub fn server(&self) -> ServerConfig {
        ServerConfig {
            auth: self.auth.clone(),
            limits: self.limits.clone(),
            tls: None,
        }
    }

    /// The database path, resolved against the data directory.
    pub fn database_path(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.storage.database)
    }
}

const SECTIONS: [&str; 10] = [
    "api", "auth", "limits", "storage", "keys", "quotas", "tls", "audit", "metrics", "expiry",
];
const LIST_KEYS: [&str; 1] = ["auth.trusted_default_roles"];

/// Maps `ARCA_API_LISTEN` to `api.listen`; `None` for variables that are not configuration (ARCA_URL, …).
fn env_key(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    SECTIONS.iter().find_map(|s| {
        lower
            .strip_prefix(&format!("{s}_"))
            .map(|k| format!("{s}.{k}"))
    })
}

/// Reads `file` (if it exists) and the environment.
pub fn load(file: &Path) -> anyhow::Result<ArcaConfig> {
    let mut figment = Figment::from(Serialized::defaults(serde_json::json!({})));
    if file.exists() {
        figment = figment.merge(Toml::file(file));
    }
    let scalars = Env::prefixed("ARCA_").filter_map(|k| {
        env_key(k.as_str())
            .filter(|k| !LIST_KEYS.contains(&k.as_str()))
            .map(Into::into)
    });
    figment = figment.merge(scalars);
    for (name, value) in std::env::vars() {
        if let Some(key) = name
            .strip_prefix("ARCA_")
            .and_then(env_key)
            .filter(|k| LIST_KEYS.contains(&k.as_str()))
        {
            let list: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            figment = figment.merge(Serialized::global(&key, list));
        }
    }
    figment.extract().with_context(|| {
        format!(
            "invalid configuration ({} and ARCA_* environment)",
            file.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_map_to_sections() {
        assert_eq!(env_key("API_LISTEN").as_deref(), Some("api.listen"));
        assert_eq!(
            env_key("AUTH_TRUSTED_DEFAULT_ROLES").as_deref(),
            Some("auth.trusted_default_roles")
        );
        assert_eq!(env_key("TLS_CERT_FILE").as_deref(), Some("tls.cert_file"));
        assert_eq!(env_key("URL"), None);
        assert_eq!(env_key("TOKEN"), None);
    }

    #[test]
    fn default_file_parses() {
        let cfg: ArcaConfig = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(cfg.api.listen.port(), 9311);
        assert_eq!(cfg.quotas.quota_secrets, -1);
        assert_eq!(
            env_key("QUOTAS_QUOTA_ORDERS").as_deref(),
            Some("quotas.quota_orders")
        );
    }
}
