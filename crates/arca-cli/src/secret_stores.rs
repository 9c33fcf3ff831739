//! `[secret_stores.<name>]` into `PayloadStores`: checks each section against its plugin (the keys it needs,
//! none it does not use, no secret in clear), builds the KMIP and Vault clients from `arca-backends`, and
//! refuses a configuration without exactly one global default, naming the stores.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use arca_core::{ConfiguredStore, PayloadBackend, PayloadStores, SecretStoreRecord};

use crate::config::{ArcaConfig, SecretStoreSection};

/// Seconds a call to an external store may take unless `timeout` says otherwise.
const DEFAULT_TIMEOUT_SECS: u64 = 5;

/// The configured stores (one `software` global default when there is no section).
pub fn build(config: &ArcaConfig, data_dir: &Path) -> anyhow::Result<PayloadStores> {
    if config.secret_stores.is_empty() {
        return Ok(PayloadStores::default());
    }
    let mut stores = Vec::with_capacity(config.secret_stores.len());
    for (name, section) in &config.secret_stores {
        let store = configured(config, data_dir, name, section)
            .with_context(|| format!("[secret_stores.{name}]"))?;
        stores.push(store);
    }
    PayloadStores::new(stores).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Barbican's plugin names and default display name for a plugin.
fn barbican_names(plugin: &str) -> Option<(&'static str, Option<&'static str>, &'static str)> {
    Some(match plugin {
        "software" => (
            "store_crypto",
            Some("simple_crypto"),
            "Software Only Crypto",
        ),
        "pkcs11" => ("store_crypto", Some("p11_crypto"), "PKCS11 HSM"),
        "kmip" => ("kmip_plugin", None, "KMIP HSM"),
        "vault" => ("vault_plugin", None, "Vault KV"),
        _ => return None,
    })
}

fn configured(
    config: &ArcaConfig,
    data_dir: &Path,
    name: &str,
    s: &SecretStoreSection,
) -> anyhow::Result<ConfiguredStore> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("a secret store name uses letters, digits, '-' and '_' only");
    }
    let Some((store_plugin, crypto_plugin, display)) = barbican_names(&s.plugin) else {
        if s.plugin == "dogtag" {
            bail!("plugin \"dogtag\" is not available in this build (no Dogtag KRA client)");
        }
        bail!(
            "plugin {:?} is not known: use \"software\", \"pkcs11\", \"kmip\" or \"vault\"",
            s.plugin
        );
    };
    if s.password.is_some() {
        bail!(
            "password must not be in arca.toml: put it in a file (mode 0400) named by password_file"
        );
    }
    if s.approle_secret_id.is_some() {
        bail!(
            "approle_secret_id must not be in arca.toml: put it in a file (mode 0400) named by approle_secret_id_file"
        );
    }
    let kmip_keys = [
        ("host", s.host.is_some()),
        ("port", s.port.is_some()),
        ("certfile", s.certfile.is_some()),
        ("keyfile", s.keyfile.is_some()),
        ("ca_certs", s.ca_certs.is_some()),
        ("username", s.username.is_some()),
        ("password_file", s.password_file.is_some()),
    ];
    let vault_keys = [
        ("vault_url", s.vault_url.is_some()),
        ("ssl_ca_crt_file", s.ssl_ca_crt_file.is_some()),
        ("approle_role_id", s.approle_role_id.is_some()),
        ("approle_secret_id_file", s.approle_secret_id_file.is_some()),
        ("kv_mountpoint", s.kv_mountpoint.is_some()),
    ];
    let foreign: Vec<&str> = match s.plugin.as_str() {
        "kmip" => vault_keys.iter().filter(|k| k.1).map(|k| k.0).collect(),
        "vault" => kmip_keys.iter().filter(|k| k.1).map(|k| k.0).collect(),
        _ => kmip_keys
            .iter()
            .chain(vault_keys.iter())
            .chain([("timeout", s.timeout.is_some())].iter())
            .filter(|k| k.1)
            .map(|k| k.0)
            .collect(),
    };
    if !foreign.is_empty() {
        bail!("plugin {:?} does not use {}", s.plugin, foreign.join(", "));
    }
    let timeout = Duration::from_secs(s.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1));
    let backend = match s.plugin.as_str() {
        "software" => PayloadBackend::Sealed,
        "pkcs11" => {
            if config.root_key.provider != "pkcs11" {
                bail!(
                    "plugin \"pkcs11\" seals payloads under the HSM root of trust: set [root_key] provider = \"pkcs11\" \
                     (docs/custody-pkcs11.md), or use plugin \"software\""
                );
            }
            PayloadBackend::Sealed
        }
        "kmip" => PayloadBackend::External(Arc::new(kmip(data_dir, s, timeout)?)),
        _ => PayloadBackend::External(Arc::new(vault(data_dir, s, timeout)?)),
    };
    let now = time::OffsetDateTime::now_utc();
    let record = SecretStoreRecord {
        id: arca_core::secret_store_id(name, &s.plugin),
        name: s.display_name.clone().unwrap_or_else(|| display.to_owned()),
        store_plugin: store_plugin.to_owned(),
        crypto_plugin: crypto_plugin.map(str::to_owned),
        global_default: s.global_default,
        created: now,
        updated: now,
        config_name: name.to_owned(),
        configured: true,
    };
    Ok(ConfiguredStore::new(record, &s.plugin, backend))
}

fn required<'a, T>(value: &'a Option<T>, key: &str) -> anyhow::Result<&'a T> {
    value.as_ref().with_context(|| format!("missing {key}"))
}

fn kmip(
    data_dir: &Path,
    s: &SecretStoreSection,
    timeout: Duration,
) -> anyhow::Result<arca_backends::KmipStore> {
    let password = match &s.password_file {
        Some(file) => {
            let text = crate::secure_file::read_secret_text(&data_dir.join(file))
                .context("password_file")?;
            Some(secrecy::SecretString::from(text.as_str().to_owned()))
        }
        None => None,
    };
    if password.is_some() && s.username.is_none() {
        bail!("password_file needs username");
    }
    let config = arca_backends::KmipConfig {
        host: required(&s.host, "host")?.clone(),
        port: s.port.unwrap_or(5696),
        certfile: data_dir.join(required(&s.certfile, "certfile")?),
        keyfile: data_dir.join(required(&s.keyfile, "keyfile")?),
        ca_certs: data_dir.join(required(&s.ca_certs, "ca_certs")?),
        username: s.username.clone(),
        password,
        timeout,
    };
    arca_backends::KmipStore::new(config).map_err(|e| anyhow::anyhow!("{e}"))
}

fn vault(
    data_dir: &Path,
    s: &SecretStoreSection,
    timeout: Duration,
) -> anyhow::Result<arca_backends::VaultStore> {
    let config = arca_backends::VaultConfig {
        vault_url: required(&s.vault_url, "vault_url")?.clone(),
        ssl_ca_crt_file: s.ssl_ca_crt_file.as_ref().map(|f| data_dir.join(f)),
        approle_role_id: required(&s.approle_role_id, "approle_role_id")?.clone(),
        approle_secret_id_file: data_dir.join(required(
            &s.approle_secret_id_file,
            "approle_secret_id_file",
        )?),
        kv_mountpoint: s.kv_mountpoint.clone().unwrap_or_else(|| "secret".into()),
        timeout,
    };
    arca_backends::VaultStore::new(config).map_err(|e| anyhow::anyhow!("{e}"))
}
