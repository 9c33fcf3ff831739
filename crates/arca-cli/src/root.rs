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
        // Opens sealed: `arca unseal --share FILE` against the running server unseals it; an offline
        // command is unsealed in-process from the share files in `ARCA_UNSEAL_SHARES`.
        "shamir" => {
            let root = ShamirRoot::open(&root_sealed_path(data_dir)).map_err(anyhow::Error::msg)?;
            if let Some(files) = std::env::var_os(UNSEAL_SHARES_ENV) {
                unseal_from_files(&root, &files)?;
            }
            Ok(Arc::new(root))
        }
        other => bail!(
            "[root_key] provider {other:?} is not known: use \"file\", \"pkcs11\" or \"shamir\""
        ),
    }
}

/// The environment variable naming share files (comma-separated) that unseal an offline command in Shamir
/// custody (`arca token create`, `arca access-key create`, `arca audit verify`, `arca root rotate`, …). The
/// server refuses it: a server is unsealed through `arca unseal`.
pub const UNSEAL_SHARES_ENV: &str = "ARCA_UNSEAL_SHARES";

/// Unseals `root` in this process with the share files listed in `files`.
fn unseal_from_files(root: &ShamirRoot, files: &std::ffi::OsStr) -> anyhow::Result<()> {
    use arca_core::Sealable;
    let files = files.to_string_lossy();
    for file in files.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let text =
            zeroize::Zeroizing::new(std::fs::read_to_string(file).with_context(|| {
                format!("{UNSEAL_SHARES_ENV}: cannot read the share file {file}")
            })?);
        root.submit_share(&text).map_err(|e| {
            anyhow::anyhow!("{UNSEAL_SHARES_ENV}: the share in {file} is refused: {e}")
        })?;
    }
    let status = root.seal_status();
    if status.sealed {
        bail!(
            "{UNSEAL_SHARES_ENV} holds {} valid shares; {} of the {} are needed to unseal",
            status.progress,
            status.threshold,
            status.shares
        );
    }
    Ok(())
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
