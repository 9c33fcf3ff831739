//! Errors of the Vault store at construction (`VaultError`): a wrong setting, an unusable secret-id or CA file.
//! Each names the setting or the file and the fix. Run-time failures are `arca_core::ExternalStoreError`,
//! made in `http`. No message carries the token, the secret id or a payload.

use std::path::PathBuf;

/// Why a `VaultStore` could not be built.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// A setting is wrong (the URL, the mount point, the role id, the timeout); the message names it.
    #[error("{0}")]
    Config(String),
    /// The AppRole secret-id file is missing, empty, unreadable or readable by group or others.
    #[error("the Vault AppRole secret-id file {}: {detail}", path.display())]
    SecretIdFile {
        /// The file named by `approle_secret_id_file`.
        path: PathBuf,
        /// What is wrong with it and how to fix it.
        detail: String,
    },
    /// The CA certificate file (`ssl_ca_crt_file`) cannot be read or holds no usable certificate.
    #[error("the Vault CA certificate file {}: {detail}", path.display())]
    CaFile {
        /// The file named by `ssl_ca_crt_file`.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
}
