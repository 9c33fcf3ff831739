//! The KMIP store's configuration (`KmipConfig`, Barbican's `[kmip_plugin]`: host, port, client certificate
//! and key, CA bundle, optional username/password, timeout), its construction errors (`KmipError`), and the
//! loading of the PEM files into a rustls client configuration (mutual TLS on the aws-lc-rs provider), with
//! errors that name the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use secrecy::SecretString;

/// The IANA port of KMIP over TLS.
pub const DEFAULT_PORT: u16 = 5696;
/// The default bound on connecting and on each request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the KMIP server is and how to authenticate to it.
#[derive(Clone)]
pub struct KmipConfig {
    /// Host name or IP address; also the name the server certificate must carry.
    pub host: String,
    /// TCP port (default 5696).
    pub port: u16,
    /// PEM client certificate (chain) presented to the server.
    pub certfile: PathBuf,
    /// PEM private key of the client certificate (PKCS#8, PKCS#1 or SEC1).
    pub keyfile: PathBuf,
    /// PEM CA certificates the server certificate must chain to.
    pub ca_certs: PathBuf,
    /// Sent as a Username and Password credential in every request header when set.
    pub username: Option<String>,
    /// The password of `username`.
    pub password: Option<SecretString>,
    /// Bound on connecting (TCP + TLS handshake) and on each request/response round trip (default 5 s).
    pub timeout: Duration,
}

impl KmipConfig {
    /// A configuration with the default port and timeout and no username/password.
    pub fn new(
        host: impl Into<String>,
        certfile: impl Into<PathBuf>,
        keyfile: impl Into<PathBuf>,
        ca_certs: impl Into<PathBuf>,
    ) -> Self {
        KmipConfig {
            host: host.into(),
            port: DEFAULT_PORT,
            certfile: certfile.into(),
            keyfile: keyfile.into(),
            ca_certs: ca_certs.into(),
            username: None,
            password: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for KmipConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmipConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("certfile", &self.certfile)
            .field("keyfile", &self.keyfile)
            .field("ca_certs", &self.ca_certs)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a `KmipStore` cannot be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum KmipError {
    /// A PEM file is missing, unreadable or holds nothing usable.
    #[error("KMIP {what} {}: {reason}", file.display())]
    Pem {
        what: &'static str,
        file: PathBuf,
        reason: String,
    },
    /// The host is not a valid DNS name or IP address.
    #[error("KMIP host {0:?} is not a valid DNS name or IP address")]
    InvalidHost(String),
    /// rustls refused the certificate/key combination or the configuration.
    #[error("KMIP TLS configuration: {0}")]
    Tls(String),
    /// A configuration value is out of range.
    #[error("KMIP configuration: {0}")]
    Invalid(String),
}

fn pem_error(what: &'static str, file: &Path, reason: impl std::fmt::Display) -> KmipError {
    KmipError::Pem {
        what,
        file: file.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn read_file(what: &'static str, file: &Path) -> Result<Vec<u8>, KmipError> {
    std::fs::read(file).map_err(|e| pem_error(what, file, e))
}

fn load_certs(what: &'static str, file: &Path) -> Result<Vec<CertificateDer<'static>>, KmipError> {
    let bytes = read_file(what, file)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(what, file, format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(pem_error(what, file, "no CERTIFICATE block in the file"));
    }
    Ok(certs)
}

fn load_key(file: &Path) -> Result<PrivateKeyDer<'static>, KmipError> {
    let what = "client key";
    let bytes = zeroize::Zeroizing::new(read_file(what, file)?);
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        pem_error(
            what,
            file,
            format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
        )
    })
}

/// The TLS material a store connects with.
pub(crate) struct TlsSetup {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
}

/// Loads and checks the PEM files and builds the rustls client configuration (TLS 1.2 and 1.3).
pub(crate) fn tls_setup(config: &KmipConfig) -> Result<TlsSetup, KmipError> {
    if config.host.is_empty() {
        return Err(KmipError::InvalidHost(config.host.clone()));
    }
    if config.timeout.is_zero() {
        return Err(KmipError::Invalid("timeout must be positive".into()));
    }
    let server_name = ServerName::try_from(config.host.clone())
        .map_err(|_| KmipError::InvalidHost(config.host.clone()))?;

    let mut roots = RootCertStore::empty();
    for cert in load_certs("CA certificates", &config.ca_certs)? {
        roots
            .add(cert)
            .map_err(|e| pem_error("CA certificates", &config.ca_certs, e))?;
    }
    let chain = load_certs("client certificate", &config.certfile)?;
    let key = load_key(&config.keyfile)?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| KmipError::Tls(e.to_string()))?
        .with_root_certificates(roots);
    // rustls checks that the key matches the certificate's public key.
    let tls = builder.with_client_auth_cert(chain, key).map_err(|e| {
        KmipError::Tls(format!(
            "client certificate {} and key {}: {e}",
            config.certfile.display(),
            config.keyfile.display()
        ))
    })?;
    Ok(TlsSetup {
        config: Arc::new(tls),
        server_name,
    })
}
