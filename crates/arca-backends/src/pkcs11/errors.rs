//! Errors of the PKCS#11 provider. Start-up problems (`Pkcs11Error`) name the setting or the fix; at run time
//! device, session, token and login failures become `CryptoError::Unavailable` ("the HSM (token …) is
//! unavailable: …", HTTP 503) so the pool reconnects on the next call. Messages never carry key bytes or the PIN.

use arca_crypto::CryptoError;
use cryptoki::error::{Error as CkError, RvError};

/// Why the PKCS#11 root of trust could not be opened or set up.
#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    /// A setting is wrong or missing; the message names it and the fix.
    #[error("{0}")]
    Config(String),
    /// The token refused the PIN.
    #[error(
        "the HSM token {token:?} refused the PIN ({detail}): check [root_key] pin_file or ARCA_ROOT_KEY_PIN"
    )]
    Login {
        /// The token label.
        token: String,
        /// The PKCS#11 return value.
        detail: String,
    },
    /// The keys in the token are not what the configuration expects.
    #[error("{0}")]
    Keys(String),
    /// The library, slot or token cannot be used.
    #[error("the HSM (token {token:?}) is unavailable: {detail}")]
    Unavailable {
        /// The token label.
        token: String,
        /// What failed.
        detail: String,
    },
}

impl Pkcs11Error {
    /// The run-time form of this error.
    pub fn into_crypto(self) -> CryptoError {
        match self {
            Self::Unavailable { .. } | Self::Login { .. } => {
                CryptoError::Unavailable(self.to_string())
            }
            Self::Config(m) | Self::Keys(m) => CryptoError::Unavailable(m),
        }
    }
}

/// A short description of a cryptoki error: the function and the return value's name, no key material.
pub fn describe(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, function) => format!("C_{function:?} returned {rv:?}"),
        other => other.to_string(),
    }
}

/// Whether `e` means the token, the session or the login is gone (reconnect), rather than bad input.
pub fn is_connection_error(e: &CkError) -> bool {
    match e {
        CkError::Pkcs11(rv, _) => matches!(
            rv,
            RvError::DeviceError
                | RvError::DeviceRemoved
                | RvError::DeviceMemory
                | RvError::GeneralError
                | RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::SessionCount
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::SlotIdInvalid
                | RvError::UserNotLoggedIn
                | RvError::CryptokiNotInitialized
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid
                | RvError::WrappingKeyHandleInvalid
                | RvError::UnwrappingKeyHandleInvalid
        ),
        CkError::LibraryLoading(_) | CkError::NullFunctionPointer | CkError::MissingSymbol(_) => {
            true
        }
        _ => false,
    }
}

/// The 503 error for token `token`.
pub fn unavailable(token: &str, detail: impl std::fmt::Display) -> CryptoError {
    CryptoError::Unavailable(format!(
        "the HSM (token {token:?}) is unavailable: {detail}"
    ))
}
