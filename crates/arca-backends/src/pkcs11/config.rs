//! What the PKCS#11 provider needs to reach its token: the vendor library, the token label, the PIN (from a
//! file of mode 0400/0600 or `ARCA_ROOT_KEY_PIN`, never from arca.toml), the labels of the master KEK and
//! the HMAC key, and the mechanisms. Checks that need no token (labels differ, known mechanisms, PIN file
//! mode) run here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::errors::Pkcs11Error;

/// The environment variable that may carry the PIN instead of a PIN file.
pub const PIN_ENV: &str = "ARCA_ROOT_KEY_PIN";

/// How the master KEK wraps keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapMechanism {
    /// `CKM_AES_KEY_WRAP` (RFC 3394): unambiguous for 32-byte keys; the default.
    AesKeyWrap,
    /// `CKM_AES_KEY_WRAP_PAD` (0x210A), allowed only once an RFC 5649 known-answer test passed at start-up.
    AesKeyWrapPad,
}

impl WrapMechanism {
    /// Parses the configuration name.
    pub fn parse(name: &str) -> Result<Self, Pkcs11Error> {
        match name {
            "" | "CKM_AES_KEY_WRAP" => Ok(Self::AesKeyWrap),
            "CKM_AES_KEY_WRAP_PAD" => Ok(Self::AesKeyWrapPad),
            other => Err(Pkcs11Error::Config(format!(
                "[root_key] wrap_mechanism {other:?} is not supported: use \"CKM_AES_KEY_WRAP\" (default) or \"CKM_AES_KEY_WRAP_PAD\""
            ))),
        }
    }

    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Self::AesKeyWrap => "CKM_AES_KEY_WRAP",
            Self::AesKeyWrapPad => "CKM_AES_KEY_WRAP_PAD",
        }
    }
}

/// The `[root_key]` settings of `provider = "pkcs11"`.
#[derive(Debug, Clone)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 shared library.
    pub library_path: PathBuf,
    /// The label of the token holding the keys.
    pub token_label: String,
    /// A file holding the user PIN (mode 0400 or 0600); `None` to read `ARCA_ROOT_KEY_PIN`.
    pub pin_file: Option<PathBuf>,
    /// The base label of the master KEK objects (`<label>-v<n>`).
    pub mkek_label: String,
    /// The base label of the HMAC key objects (`<label>-v<n>`).
    pub hmac_label: String,
    /// How the master KEK wraps.
    pub wrap_mechanism: WrapMechanism,
    /// At most this many sessions are open at once.
    pub pool_size: usize,
}

impl Pkcs11Config {
    /// A configuration with the default labels, mechanism and pool size.
    pub fn new(library_path: PathBuf, token_label: String, pin_file: Option<PathBuf>) -> Self {
        Self {
            library_path,
            token_label,
            pin_file,
            mkek_label: "arca-mkek".into(),
            hmac_label: "arca-hmac".into(),
            wrap_mechanism: WrapMechanism::AesKeyWrap,
            pool_size: 8,
        }
    }

    /// Checks what can be checked without the token.
    pub fn validate(&self) -> Result<(), Pkcs11Error> {
        if self.token_label.is_empty() {
            return Err(Pkcs11Error::Config(
                "[root_key] token_label is empty: name the token holding the keys".into(),
            ));
        }
        for (name, label) in [
            ("mkek_label", &self.mkek_label),
            ("hmac_label", &self.hmac_label),
        ] {
            if label.is_empty() {
                return Err(Pkcs11Error::Config(format!("[root_key] {name} is empty")));
            }
        }
        if self.mkek_label == self.hmac_label {
            return Err(Pkcs11Error::Config(format!(
                "[root_key] mkek_label and hmac_label are both {:?}: the master KEK and the HMAC key must have different labels",
                self.mkek_label
            )));
        }
        if self.pool_size == 0 {
            return Err(Pkcs11Error::Config(
                "[root_key] pool_size must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The user PIN: from `pin_file` (refused when group or others can access it) or `ARCA_ROOT_KEY_PIN`.
    pub fn load_pin(&self) -> Result<SecretString, Pkcs11Error> {
        match &self.pin_file {
            Some(path) => read_pin_file(path),
            None => match std::env::var(PIN_ENV) {
                Ok(pin) if !pin.is_empty() => Ok(SecretString::from(pin)),
                _ => Err(Pkcs11Error::Config(format!(
                    "no PIN for the token {:?}: set [root_key] pin_file (a file of mode 0400 or 0600) or {PIN_ENV}",
                    self.token_label
                ))),
            },
        }
    }
}

fn read_pin_file(path: &Path) -> Result<SecretString, Pkcs11Error> {
    let shown = path.display().to_string();
    let io =
        |e: std::io::Error| Pkcs11Error::Config(format!("cannot read the PIN file {shown}: {e}"));
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Pkcs11Error::Config(format!(
            "the PIN file {shown} has mode {mode:04o}: group or others can read the HSM PIN; fix it with `chmod 0400 {shown}`"
        )));
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
    let pin = text.trim_end_matches(['\n', '\r']);
    if pin.is_empty() {
        return Err(Pkcs11Error::Config(format!(
            "the PIN file {shown} is empty"
        )));
    }
    Ok(SecretString::from(pin.to_owned()))
}
