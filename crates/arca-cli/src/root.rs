//! The root of trust a data directory uses, as `[root_key] provider` says: `file` (`DIR/root.key`),
//! `pkcs11` (a master KEK and an HMAC key inside an HSM token, `arca_backends::Pkcs11RootKey`), `shamir`
//! (`DIR/root.sealed`, opened sealed), and the
//! custody modes of issue 7 as they arrive. Every command that opens a data directory goes through here.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use arca_backends::{Pkcs11Config, Pkcs11RootKey, WrapMechanism};
use arca_core::{FileRootKey, RootKeyProvider, ShamirRoot, root_key_path, root_sealed_path};

use crate::config::{ArcaConfig, RootKeySection};

/// The variable that may carry the HSM PIN.
const PIN_ENV: &str = "ARCA_ROOT_KEY_PIN";

/// Opens the root of trust of `data_dir`.
pub fn open_root(config: &ArcaConfig, data_dir: &Path) -> anyhow::Result<Arc<dyn RootKeyProvider>> {
    match config.root_key.provider.as_str() {
        "file" => Ok(Arc::new(FileRootKey::open(&root_key_path(data_dir))?)),
        "pkcs11" => {
            let cfg = pkcs11_config(&config.root_key)?;
            let token = cfg.token_label.clone();
            Ok(Arc::new(Pkcs11RootKey::open(cfg).with_context(|| {
                format!("cannot open the PKCS#11 root of trust (token {token:?})")
            })?))
        }
        // Opens sealed: `arca unseal --share FILE` against the running server unseals it.
        "shamir" => Ok(Arc::new(
            ShamirRoot::open(&root_sealed_path(data_dir)).map_err(anyhow::Error::msg)?,
        )),
        other => bail!(
            "[root_key] provider {other:?} is not known: use \"file\", \"pkcs11\" or \"shamir\""
        ),
    }
}

/// The provider's settings from `[root_key]`, refusing a PIN written in the file.
pub fn pkcs11_config(section: &RootKeySection) -> anyhow::Result<Pkcs11Config> {
    if let Some(pin) = &section.pin
        && std::env::var(PIN_ENV).ok().as_deref() != Some(pin.as_str())
    {
        bail!(
            "[root_key] pin is not accepted: the HSM PIN never sits in arca.toml in clear; put it in a file of mode 0400 named by pin_file, or in {PIN_ENV}"
        );
    }
    let library_path = section.library_path.clone().context(
        "[root_key] provider = \"pkcs11\" needs library_path (the vendor's PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so)",
    )?;
    let token_label = section.token_label.clone().context(
        "[root_key] provider = \"pkcs11\" needs token_label (the token holding the keys)",
    )?;
    if section.hmac_mechanism != "CKM_SHA256_HMAC" {
        bail!(
            "[root_key] hmac_mechanism {:?} is not supported: use \"CKM_SHA256_HMAC\"",
            section.hmac_mechanism
        );
    }
    let mut cfg = Pkcs11Config::new(library_path, token_label, section.pin_file.clone());
    cfg.mkek_label = section.mkek_label.clone();
    cfg.hmac_label = section.hmac_label.clone();
    cfg.wrap_mechanism = WrapMechanism::parse(&section.wrap_mechanism)?;
    cfg.pool_size = section.pool_size;
    cfg.validate()?;
    Ok(cfg)
}
