//! TLS on the API listener (`[tls]` of `arca.toml`): rustls 0.23 on its aws-lc-rs provider, TLS 1.3 only
//! unless `min_version = "1.2"`, the certificate chain and key read from PEM files (a key file that group or
//! others can read is refused), optional client certificates (mTLS) verified against `client_ca_file` and
//! mapped to principals by their subject CN (`[[tls.client_principals]]`). [`Tls::reload`] re-reads every
//! file and swaps the rustls configuration new connections use; a failed reload keeps the old one. The accept
//! loop here is our own over hyper-util so that each connection's peer address (`ConnectInfo<SocketAddr>`, as
//! `axum::serve` gives) and its client principal become request extensions.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use arca_core::{Principal, Role};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig as RustlsConfig};
use serde::Deserialize;
use tokio::net::TcpListener;

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Lowest TLS version served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3 (only by explicit choice).
    V1_2,
    /// TLS 1.3 only (the default).
    #[default]
    V1_3,
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `min_version = "1.2"` in TOML, but `ARCA_TLS_MIN_VERSION=1.2` arrives as a number.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::Number(n) => n.to_string(),
        };
        match text
            .trim()
            .trim_start_matches("TLSv")
            .trim_start_matches("tls")
        {
            "1.2" => Ok(Self::V1_2),
            "1.3" => Ok(Self::V1_3),
            other => Err(serde::de::Error::custom(format!(
                "unsupported TLS min_version {other:?}: use \"1.3\" (default) or \"1.2\""
            ))),
        }
    }
}

/// Whether a client certificate is demanded when `client_ca_file` is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuth {
    /// Handshakes without a client certificate fail (the default).
    #[default]
    Required,
    /// A certificate, if sent, must verify; callers without one authenticate with tokens.
    Optional,
}

/// `[[tls.client_principals]]`: the principal a verified client certificate with this subject CN acts as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPrincipalConfig {
    /// The certificate's subject common name.
    pub subject_cn: String,
    /// Project the caller acts in.
    pub project: String,
    /// User id.
    pub user: String,
    /// Barbican roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `[tls]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first. TLS is on when this is set.
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1); mode 0400 or 0600.
    pub key_file: Option<PathBuf>,
    /// PEM CA certificates that client certificates must chain to (turns on mTLS).
    pub client_ca_file: Option<PathBuf>,
    /// `"1.3"` (default) or `"1.2"`.
    pub min_version: TlsVersion,
    /// `"required"` (default) or `"optional"`, with `client_ca_file`.
    pub client_auth: ClientAuth,
    /// Certificate-to-principal mapping.
    pub client_principals: Vec<ClientPrincipalConfig>,
}

impl TlsConfig {
    /// Whether any TLS setting is present (a half-configured `[tls]` is an error at [`Tls::load`], never
    /// silently plain HTTP).
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some() || self.key_file.is_some() || self.client_ca_file.is_some()
    }
}

/// Why TLS could not be set up; names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

/// The TLS state of a running listener: the current rustls configuration (swapped by [`Tls::reload`]) and
/// the client-certificate principals. Clones share it.
#[derive(Clone)]
pub struct Tls(Arc<Inner>);

struct Inner {
    config: TlsConfig,
    current: RwLock<Arc<RustlsConfig>>,
    principals: HashMap<String, Principal>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("cert_file", &self.0.config.cert_file)
            .field("min_version", &self.0.config.min_version)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads and checks every file; the error names what is wrong and how to fix it.
    pub fn load(config: &TlsConfig) -> Result<Self, TlsError> {
        let mut principals = HashMap::new();
        for p in &config.client_principals {
            if config.client_ca_file.is_none() {
                return Err(TlsError(
                    "[[tls.client_principals]] needs [tls] client_ca_file (the CA client certificates must chain to)"
                        .into(),
                ));
            }
            let principal = Principal {
                project_id: p.project.clone(),
                user_id: p.user.clone(),
                roles: p.roles.iter().map(|r| Role::parse(r)).collect(),
            };
            if principals.insert(p.subject_cn.clone(), principal).is_some() {
                return Err(TlsError(format!(
                    "[[tls.client_principals]] maps subject_cn {:?} twice",
                    p.subject_cn
                )));
            }
        }
        let rustls_config = build(config)?;
        Ok(Self(Arc::new(Inner {
            config: config.clone(),
            current: RwLock::new(rustls_config),
            principals,
        })))
    }

    /// Re-reads the certificate, key and client CA files; on failure the configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = build(&self.0.config)?;
        *self.0.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let current = self.0.current.read().unwrap_or_else(|e| e.into_inner());
        tokio_rustls::TlsAcceptor::from(Arc::clone(&current))
    }

    /// The principal a verified client certificate chain maps to, by its leaf's subject CN.
    fn principal_for(&self, chain: Option<&[CertificateDer<'_>]>) -> Option<Principal> {
        let leaf = chain?.first()?;
        let cn = subject_common_name(leaf)?;
        self.0.principals.get(&cn).cloned()
    }
}

/// The principal of the connection's verified client certificate: a request extension the `Caller`
/// extractor prefers to tokens.
#[derive(Debug, Clone)]
pub(crate) struct ClientCertPrincipal(pub Principal);

/// Marks a request that arrived over TLS (references in responses are then `https://`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverTls;

fn build(config: &TlsConfig) -> Result<Arc<RustlsConfig>, TlsError> {
    let (Some(cert_file), Some(key_file)) = (&config.cert_file, &config.key_file) else {
        return Err(TlsError(
            "[tls] needs both cert_file and key_file (ARCA_TLS_CERT_FILE, ARCA_TLS_KEY_FILE)"
                .into(),
        ));
    };
    let certs = read_certs(cert_file)?;
    let key = read_key(key_file)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match config.min_version {
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
        TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = RustlsConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(|e| TlsError(format!("TLS protocol versions: {e}")))?;
    let builder = match &config.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_file) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca_file)? {
                roots.add(cert).map_err(|e| {
                    TlsError(format!(
                        "TLS client CA file {}: unusable certificate: {e}",
                        ca_file.display()
                    ))
                })?;
            }
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider));
            if config.client_auth == ClientAuth::Optional {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier
                .build()
                .map_err(|e| TlsError(format!("TLS client CA file {}: {e}", ca_file.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut server = builder.with_single_cert(certs, key).map_err(|e| {
        TlsError(format!(
            "TLS certificate {} and key {} do not form a usable pair: {e}",
            cert_file.display(),
            key_file.display()
        ))
    })?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(server))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            TlsError(format!(
                "cannot read PEM certificates from {}: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let mode = std::fs::metadata(path)
        .map_err(|e| TlsError(format!("cannot read TLS key file {}: {e}", path.display())))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(TlsError(format!(
            "TLS key file {} has mode {mode:04o}, so group or others can read it; \
             run `chmod 0400 {}` (or 0600)",
            path.display(),
            path.display()
        )));
    }
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        TlsError(format!(
            "cannot read a PEM private key from {}: {e}",
            path.display()
        ))
    })
}

/// One DER element: (tag, contents, rest).
fn der_next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The subject CN of an X.509 certificate (already verified by rustls); `None` if absent or repeated.
fn subject_common_name(cert: &[u8]) -> Option<String> {
    const SEQUENCE: u8 = 0x30;
    const SET: u8 = 0x31;
    const OID_CN: [u8; 3] = [0x55, 0x04, 0x03];
    let (SEQUENCE, cert, _) = der_next(cert)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = der_next(cert)? else {
        return None;
    };
    let mut rest = tbs;
    // [0] version (optional), serial, signature algorithm, issuer, validity, then subject.
    let (tag, _, after) = der_next(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    for _ in 0..4 {
        rest = der_next(rest)?.2;
    }
    let (SEQUENCE, mut subject, _) = der_next(rest)? else {
        return None;
    };
    let mut found = None;
    while !subject.is_empty() {
        let (SET, mut rdn, next) = der_next(subject)? else {
            return None;
        };
        subject = next;
        while !rdn.is_empty() {
            let (SEQUENCE, attr, next) = der_next(rdn)? else {
                return None;
            };
            rdn = next;
            let (0x06, oid, value) = der_next(attr)? else {
                return None;
            };
            if oid != OID_CN {
                continue;
            }
            // UTF8String, PrintableString, IA5String.
            let (0x0c | 0x13 | 0x16, text, _) = der_next(value)? else {
                return None;
            };
            if found.is_some() {
                return None;
            }
            found = Some(String::from_utf8(text.to_vec()).ok()?);
        }
    }
    found
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves, then lets open connections finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Per-connection errors (reset before accept) are nothing; running out of file
                    // descriptors is worth a pause rather than a spin.
                    tracing::debug!("accept failed: {e}");
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                    ) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = tls.acceptor();
        let tls = tls.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %remote, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %remote, "TLS handshake timed out");
                    return;
                }
            };
            let principal = tls
                .principal_for(stream.get_ref().1.peer_certificates())
                .map(ClientCertPrincipal);
            let service = tower::ServiceBuilder::new()
                .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(remote));
                    req.extensions_mut().insert(OverTls);
                    if let Some(p) = &principal {
                        req.extensions_mut().insert(p.clone());
                    }
                    req
                })
                .service(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(peer = %remote, "connection ended with an error: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(der_next(&[0x04, 0x01, 0xaa, 0xbb]).unwrap().1, &[0xaa]);
        assert!(der_next(&[0x04, 0x05, 0xaa]).is_none());
        assert!(der_next(&[0x04, 0x80]).is_none());
        assert!(subject_common_name(b"").is_none());
        assert!(subject_common_name(&[0x30, 0x00]).is_none());
    }

    #[test]
    fn common_name_of_real_certificates() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Arca");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "svc-a");
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(subject_common_name(cert.der()).as_deref(), Some("svc-a"));
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let mut no_cn = params;
        no_cn.distinguished_name = rcgen::DistinguishedName::new();
        let cert = no_cn.self_signed(&key).unwrap();
        assert_eq!(subject_common_name(cert.der()), None);
    }

    #[test]
    fn versions_parse() {
        let v: TlsConfig =
            serde_json::from_value(serde_json::json!({"min_version": "1.2"})).unwrap();
        assert_eq!(v.min_version, TlsVersion::V1_2);
        let v: TlsConfig = serde_json::from_value(serde_json::json!({"min_version": 1.3})).unwrap();
        assert_eq!(v.min_version, TlsVersion::V1_3);
        assert!(
            serde_json::from_value::<TlsConfig>(serde_json::json!({"min_version": "1.1"})).is_err()
        );
        assert!(!TlsConfig::default().enabled());
    }
}
