//! What the Vault store needs to reach its server: the URL, an optional CA certificate for https, the AppRole
//! role id and the file holding its secret id (mode 0400 or 0600, never arca.toml), the KV v2 mount point and
//! the timeout of every request. Checks that need no network (URL shape, mount point, file mode) run here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::errors::VaultError;

/// The KV v2 mount point when none is configured (OpenBao's and Vault's dev servers mount KV v2 there).
pub const DEFAULT_KV_MOUNTPOINT: &str = "secret";
/// The timeout of each request when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings of the `vault` secret store (Barbican's `[vault_plugin]`, with the secret id in a file).
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// The server, e.g. `https://vault.example:8200` (a path prefix is kept; no query, no user info).
    pub vault_url: String,
    /// A PEM file of CA certificates trusted for an https `vault_url` (Mozilla's roots when `None`).
    pub ssl_ca_crt_file: Option<PathBuf>,
    /// The AppRole role id.
    pub approle_role_id: String,
    /// A file holding the AppRole secret id (mode 0400 or 0600; group and others have no access).
    pub approle_secret_id_file: PathBuf,
    /// The KV v2 mount point (default `secret`).
    pub kv_mountpoint: String,
    /// The timeout of each request, connecting included (default 5 s).
    pub timeout: Duration,
}

impl VaultConfig {
    /// A configuration with the default mount point (`secret`), timeout (5 s) and trusted roots.
    pub fn new(
        vault_url: impl Into<String>,
        approle_role_id: impl Into<String>,
        approle_secret_id_file: impl Into<PathBuf>,
    ) -> Self {
        Self {
            vault_url: vault_url.into(),
            ssl_ca_crt_file: None,
            approle_role_id: approle_role_id.into(),
            approle_secret_id_file: approle_secret_id_file.into(),
            kv_mountpoint: DEFAULT_KV_MOUNTPOINT.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The server's base URL without a trailing slash, checked: http or https, a host, no user info, no
    /// query or fragment.
    pub(super) fn base_url(&self) -> Result<String, VaultError> {
        let raw = self.vault_url.trim();
        let parsed = Url::parse(raw);
        // Messages never repeat user info (a password in the URL).
        let shown = match &parsed {
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                let mut clean = url.clone();
                let _ = clean.set_username("");
                let _ = clean.set_password(None);
                clean.to_string()
            }
            Ok(_) => raw.to_owned(),
            Err(_) if raw.contains('@') => "(not shown: it contains '@')".to_owned(),
            Err(_) => raw.to_owned(),
        };
        let bad = |why: &str| {
            VaultError::Config(format!(
                "vault_url {shown:?} {why}: use e.g. \"https://vault.example:8200\""
            ))
        };
        let url = parsed.map_err(|e| bad(&format!("is not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(&format!(
                "has scheme {:?}; only http and https are supported",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "carries user info; credentials belong in the AppRole settings",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("has a query or a fragment"));
        }
        Ok(url.as_str().trim_end_matches('/').to_owned())
    }

    /// The mount point without surrounding slashes, checked: segments of letters, digits, `-`, `_`, `.`,
    /// none of them `.` or `..`.
    pub(super) fn mount(&self) -> Result<String, VaultError> {
        let mount = self.kv_mountpoint.trim().trim_matches('/');
        let ok = !mount.is_empty()
            && mount.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        if ok {
            Ok(mount.to_owned())
        } else {
            Err(VaultError::Config(format!(
                "kv_mountpoint {:?} is not a KV v2 mount path: use e.g. \"secret\" (letters, digits, '-', '_', '.', '/')",
                self.kv_mountpoint
            )))
        }
    }

    /// The role id, checked to be non-empty.
    pub(super) fn role_id(&self) -> Result<String, VaultError> {
        let role_id = self.approle_role_id.trim();
        if role_id.is_empty() {
            return Err(VaultError::Config(
                "approle_role_id is empty: set it to the role id of Arca's AppRole (`bao read auth/approle/role/<role>/role-id`)"
                    .into(),
            ));
        }
        Ok(role_id.to_owned())
    }

    /// The timeout, checked to be non-zero.
    pub(super) fn checked_timeout(&self) -> Result<Duration, VaultError> {
        if self.timeout.is_zero() {
            return Err(VaultError::Config(
                "the Vault timeout is zero: give it a few seconds (default 5 s)".into(),
            ));
        }
        Ok(self.timeout)
    }

    /// The AppRole secret id, read from `approle_secret_id_file`.
    pub(super) fn load_secret_id(&self) -> Result<SecretString, VaultError> {
        read_secret_id_file(&self.approle_secret_id_file)
    }
}

pub(super) fn read_secret_id_file(path: &Path) -> Result<SecretString, VaultError> {
    let err = |detail: String| VaultError::SecretIdFile {
        path: path.to_owned(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot be read ({e})")))?;
    if !meta.is_file() {
        return Err(err("is not a regular file".into()));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(err(format!(
            "has mode {mode:04o}: group or others can read the secret id; fix it with `chmod 0400 {}`",
            path.display()
        )));
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| err(format!("cannot be read ({e})")))?,
    );
    let secret_id = text.trim();
    if secret_id.is_empty() {
        return Err(err(
            "is empty: write the secret id of Arca's AppRole into it".into(),
        ));
    }
    Ok(SecretString::from(secret_id.to_owned()))
}
