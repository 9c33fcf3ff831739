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
# On PostgreSQL (several nodes) tokens are never cached: a revocation bites on every node at once.
token_cache_ttl = 5
# Authentication failures allowed per source address per minute; beyond it failures get 429 + Retry-After
# (0: off). Only failures are throttled: a good token always works.
failure_limit = 10

[root_key]
# The root of trust: "file" keeps the versioned root key in DIR/root.key (mode 0400); "pkcs11" keeps a
# master KEK and an HMAC key inside an HSM token (`arca init --root pkcs11`, docs/custody-pkcs11.md); "shamir"
# keeps the versions wrapped under an unseal key in DIR/root.sealed, rebuilt from M of N shares (`arca unseal`).
provider = "file"
# library_path = "/usr/lib/softhsm/libsofthsm2.so"   # the vendor's PKCS#11 module
# token_label = "arca"
# pin_file = "/etc/arca/hsm.pin"   # mode 0400 or 0600; or ARCA_ROOT_KEY_PIN. Never the PIN itself here.
# mkek_label = "arca-mkek"         # objects are <label>-v1, -v2, ... (one match each)
# hmac_label = "arca-hmac"         # must differ from mkek_label
# wrap_mechanism = "CKM_AES_KEY_WRAP"   # or "CKM_AES_KEY_WRAP_PAD" (RFC 5649 known-answer test at start-up)
# hmac_mechanism = "CKM_SHA256_HMAC"
# pool_size = 8                    # HSM sessions open at most

[storage]
# SQLite database, relative to the data directory.
database = "arca.db"

[database]
# A PostgreSQL URL puts Arca on PostgreSQL instead of SQLite, so that several `arca server` nodes can share one
# database (docs/deployment.md). TLS through the URL: ?sslmode=verify-full&sslrootcert=/etc/arca/pg-ca.pem
# (sslcert/sslkey for client certificates). A password never goes here: give the whole URL in
# ARCA_DATABASE_URL, or use client certificates.
# url = "postgres://arca@db.example:5432/arca?sslmode=verify-full&sslrootcert=/etc/arca/pg-ca.pem"
# Connections this node keeps open at most, and seconds a request waits for one before answering 503.
max_connections = 16
acquire_timeout = 5

[keys]
# Unwrapped project KEKs are cached this long (seconds) and at most this many at once.
pkek_cache_ttl = 900
pkek_cache_limit = 1000
# Scheduled project KEK rotation: a running server rotates every project KEK older than this (e.g. "90d") and
# re-seals the project's objects in the background. "" or "0" turns it off (`arca project rotate-kek` still works).
pkek_rotation_period = ""

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

# Secret stores: where payloads live. Without a [secret_stores.<name>] section, one "software" store (payloads
# sealed under the key hierarchy, in the database) is the global default. Exactly one store has
# global_default = true; a project admin may prefer another (POST /v1/secret-stores/{id}/preferred), and
# `arca secret-store migrate --from A --to B` moves payloads between stores while the server runs.
# [secret_stores.software]
# plugin = "software"
# global_default = true
# [secret_stores.kmip]                  # payloads on a KMIP server over mutual TLS
# plugin = "kmip"
# host = "127.0.0.1"
# port = 5696
# certfile = "/etc/arca/kmip/client.crt"
# keyfile = "/etc/arca/kmip/client.key"
# ca_certs = "/etc/arca/kmip/ca.crt"
# [secret_stores.vault]                 # payloads in a Vault/OpenBao KV v2 mount, AppRole login
# plugin = "vault"
# vault_url = "https://vault.example:8200"
# ssl_ca_crt_file = "/etc/arca/vault-ca.crt"
# approle_role_id = "…"
# approle_secret_id_file = "/etc/arca/vault-secret-id"   # mode 0400; never the secret id here
# kv_mountpoint = "secret"
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

/// `[database]`: PostgreSQL instead of the embedded SQLite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSection {
    /// `postgres://…`; unset (or empty): SQLite at `[storage] database`.
    pub url: Option<String>,
    /// Connections kept open at most.
    pub max_connections: u32,
    /// Seconds a request waits for a connection before failing (503).
    pub acquire_timeout: u64,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 16,
            acquire_timeout: 5,
        }
    }
}

impl DatabaseSection {
    /// The PostgreSQL URL, if one is configured.
    pub fn postgres_url(&self) -> Option<&str> {
        self.url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }
}

/// Whether a database URL carries a password (`scheme://user:password@host…`).
pub fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// A database URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    if !url_has_password(url) {
        return url.to_owned();
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = userinfo.split(':').next().unwrap_or("");
    format!("{scheme}://{user}:***@{host}{tail}")
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
    /// `file` (`DIR/root.key`, mode 0400) or `pkcs11` (an HSM token).
    pub provider: String,
    /// pkcs11: the vendor's PKCS#11 shared library.
    pub library_path: Option<PathBuf>,
    /// pkcs11: the label of the token holding the keys.
    pub token_label: Option<String>,
    /// pkcs11: a file (mode 0400/0600) holding the user PIN; without it, `ARCA_ROOT_KEY_PIN`.
    pub pin_file: Option<PathBuf>,
    /// Refused with a message: the PIN never sits in arca.toml in clear.
    pub pin: Option<String>,
    /// pkcs11: base label of the master KEK objects (`<label>-v<n>`).
    pub mkek_label: String,
    /// pkcs11: base label of the HMAC key objects (`<label>-v<n>`).
    pub hmac_label: String,
    /// pkcs11: `CKM_AES_KEY_WRAP` or `CKM_AES_KEY_WRAP_PAD`.
    pub wrap_mechanism: String,
    /// pkcs11: `CKM_SHA256_HMAC` (the only one).
    pub hmac_mechanism: String,
    /// pkcs11: at most this many sessions.
    pub pool_size: usize,
}

impl Default for RootKeySection {
    fn default() -> Self {
        Self {
            provider: "file".into(),
            library_path: None,
            token_label: None,
            pin_file: None,
            pin: None,
            mkek_label: "arca-mkek".into(),
            hmac_label: "arca-hmac".into(),
            wrap_mechanism: "CKM_AES_KEY_WRAP".into(),
            hmac_mechanism: "CKM_SHA256_HMAC".into(),
            pool_size: 8,
        }
    }
}

/// `[keys]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysSection {
    pub pkek_cache_ttl: u64,
    pub pkek_cache_limit: usize,
    #[serde(deserialize_with = "string_or_number")]
    pub pkek_rotation_period: String,
}

impl Default for KeysSection {
    fn default() -> Self {
        Self {
            pkek_cache_ttl: 900,
            pkek_cache_limit: 1000,
            pkek_rotation_period: String::new(),
        }
    }
}

impl KeysSection {
    /// `pkek_rotation_period` as a duration; `None` when off ("" or 0).
    pub fn pkek_rotation_period(&self) -> anyhow::Result<Option<std::time::Duration>> {
        let text = self.pkek_rotation_period.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let period = crate::duration::parse_duration(text)
            .context("[keys] pkek_rotation_period (e.g. \"90d\"; \"\" or 0 for off)")?;
        Ok((period.whole_seconds() > 0)
            .then(|| std::time::Duration::from_secs(period.whole_seconds().unsigned_abs())))
    }
}

/// A string setting that may also be written as a bare number (`0`, or a number from the environment).
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(u64),
    }
    Ok(match Either::deserialize(d)? {
        Either::Text(t) => t,
        Either::Number(n) => n.to_string(),
    })
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
    pub database: DatabaseSection,
    pub keys: KeysSection,
    pub root_key: RootKeySection,
    pub quotas: QuotasConfig,
    pub tls: TlsConfig,
    pub audit: AuditSection,
    pub metrics: MetricsSection,
    pub expiry: ExpirySection,
    /// `[secret_stores.<name>]`: where payloads live (none: one `software` store, the global default).
    pub secret_stores: std::collections::BTreeMap<String, SecretStoreSection>,
}

/// `[secret_stores.<name>]`: one secret store, in the vocabulary of Barbican's `[kmip_plugin]` and
/// `[vault_plugin]` sections. Which keys apply depends on `plugin` (crate::secret_stores checks them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretStoreSection {
    /// `software`, `pkcs11`, `kmip` or `vault`.
    pub plugin: String,
    /// Exactly one store is the global default.
    pub global_default: bool,
    /// The name the secret-stores API shows (default: Barbican's name for the plugin).
    pub display_name: Option<String>,
    /// Seconds each call to an external store may take (default 5).
    pub timeout: Option<u64>,
    /// kmip: the server's host name or address.
    pub host: Option<String>,
    /// kmip: its port (default 5696).
    pub port: Option<u16>,
    /// kmip: this client's certificate (PEM).
    pub certfile: Option<PathBuf>,
    /// kmip: this client's private key (PEM).
    pub keyfile: Option<PathBuf>,
    /// kmip: the CA certificates the server's certificate must chain to (PEM).
    pub ca_certs: Option<PathBuf>,
    /// kmip: an optional user name sent as a KMIP credential.
    pub username: Option<String>,
    /// kmip: a file (mode 0400/0600) holding the password for `username`.
    pub password_file: Option<PathBuf>,
    /// Refused with a message: a password never sits in arca.toml in clear.
    pub password: Option<String>,
    /// vault: the server's URL (`https://…`, or `http://` on loopback).
    pub vault_url: Option<String>,
    /// vault: a CA certificate file to trust for `vault_url`.
    pub ssl_ca_crt_file: Option<PathBuf>,
    /// vault: the AppRole role id.
    pub approle_role_id: Option<String>,
    /// vault: a file (mode 0400) holding the AppRole secret id.
    pub approle_secret_id_file: Option<PathBuf>,
    /// Refused with a message: the secret id never sits in arca.toml in clear.
    pub approle_secret_id: Option<String>,
    /// vault: the KV v2 mount (default `secret`).
    pub kv_mountpoint: Option<String>,
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

const SECTIONS: [&str; 11] = [
    "api", "auth", "limits", "storage", "database", "keys", "quotas", "tls", "audit", "metrics",
    "expiry",
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

/// Refuses a `[database] url` with a password written in the file itself (the environment may carry one).
fn refuse_password_in_file(file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(()); // figment reports the syntax error with its position
    };
    let url = table
        .get("database")
        .and_then(|d| d.get("url"))
        .and_then(|u| u.as_str());
    if url.is_some_and(url_has_password) {
        anyhow::bail!(
            "[database] url in {} carries a password: a password never sits in arca.toml; give the URL in \
             ARCA_DATABASE_URL instead, or authenticate with client certificates (sslcert/sslkey)",
            file.display()
        );
    }
    Ok(())
}

/// Reads `file` (if it exists) and the environment.
pub fn load(file: &Path) -> anyhow::Result<ArcaConfig> {
    let mut figment = Figment::from(Serialized::defaults(serde_json::json!({})));
    if file.exists() {
        refuse_password_in_file(file)?;
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
    fn pkek_rotation_period_is_off_by_default_and_parses() {
        let cfg: ArcaConfig = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(cfg.keys.pkek_rotation_period().unwrap(), None);
        let keys = |text: &str| -> KeysSection { toml::from_str(text).unwrap() };
        assert_eq!(
            keys("pkek_rotation_period = 0")
                .pkek_rotation_period()
                .unwrap(),
            None
        );
        assert_eq!(
            keys("pkek_rotation_period = \"90d\"")
                .pkek_rotation_period()
                .unwrap(),
            Some(std::time::Duration::from_secs(90 * 86_400))
        );
        let err = keys("pkek_rotation_period = \"soon\"").pkek_rotation_period();
        assert!(format!("{:#}", err.unwrap_err()).contains("pkek_rotation_period"));
    }

    #[test]
    fn database_urls_with_passwords_are_recognised_and_redacted() {
        assert!(!url_has_password("postgres://arca@db:5432/arca"));
        assert!(!url_has_password("postgres://db/arca?user=a"));
        assert!(url_has_password("postgres://arca:pw@db/arca"));
        assert!(url_has_password(
            "postgres://arca:p%40w@db:1/arca?sslmode=require"
        ));
        assert_eq!(
            redact_url("postgres://arca:hunter2@db:5432/arca?sslmode=require"),
            "postgres://arca:***@db:5432/arca?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://arca@db/arca"),
            "postgres://arca@db/arca"
        );
        assert_eq!(env_key("DATABASE_URL").as_deref(), Some("database.url"));
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
