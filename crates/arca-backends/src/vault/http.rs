//! The HTTP side of the Vault store: a reqwest client on rustls with the aws-lc-rs provider (the CA file or
//! Mozilla's roots, a timeout on every request, no redirects: the token must not follow one), one request
//! with an optional `X-Vault-Token` and body (tried once more on a new connection if a pooled one was found
//! closed), and the mapping of Vault's answers to failures: no connection and timeouts are `Unavailable`,
//! 5xx, 429, redirects and sealed (503) `NotServing`, 404 `NotFound`, 403 `Forbidden` (the caller logs in
//! again once), other 4xx `Rejected` with Vault's `errors` text. Bodies that carry a payload or a credential
//! live in zeroizing buffers; zeroize cannot reach copies made inside hyper, rustls or the kernel.

use std::sync::Arc;
use std::time::Duration;

use arca_core::ExternalStoreError;
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::config::VaultConfig;
use super::errors::VaultError;

/// Answers larger than this are refused (a KV v2 read of the largest payload is far smaller).
const MAX_ANSWER: usize = 16 * 1024 * 1024;
/// Vault's `errors` text is cut to this many characters in messages.
const MAX_ERROR_TEXT: usize = 300;

/// Why one request failed.
#[derive(Debug)]
pub(super) enum CallError {
    /// No answer: no connection, TLS failure, timeout.
    Unavailable(String),
    /// An answer that says Vault is not serving: 5xx, sealed (503), 429, a redirect.
    NotServing(String),
    /// 404.
    NotFound,
    /// 403: a bad or expired token, or a policy that does not allow the call.
    Forbidden(String),
    /// Any other refusal, or an answer that cannot be understood.
    Rejected(String),
}

impl CallError {
    /// The form the `ExternalStore` caller sees (`Forbidden` after the retry is a refusal).
    pub(super) fn into_store(self) -> ExternalStoreError {
        match self {
            Self::Unavailable(m) | Self::NotServing(m) => ExternalStoreError::Unavailable(m),
            Self::NotFound => ExternalStoreError::NotFound,
            Self::Forbidden(m) | Self::Rejected(m) => ExternalStoreError::Rejected(m),
        }
    }
}

/// The client of one Vault server.
pub(super) struct Http {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl Http {
    /// A client for `config` (no network yet).
    pub(super) fn new(config: &VaultConfig) -> Result<Self, VaultError> {
        let base = config.base_url()?;
        let timeout = config.checked_timeout()?;
        let tls = tls_config(config)?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("arca/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                VaultError::Config(format!(
                    "cannot build the HTTP client for {base}: {}",
                    chain(&e)
                ))
            })?;
        Ok(Self {
            client,
            base,
            timeout,
        })
    }

    /// "Vault at <url>", the start of every message about this server.
    pub(super) fn name(&self) -> String {
        format!("Vault at {}", self.base)
    }

    /// Sends one request to `path` (starting with `/v1/`) and answers the body of a 2xx answer. `what` says
    /// what the request does, for messages.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<Zeroizing<Vec<u8>>>,
        what: &str,
    ) -> Result<Zeroizing<Vec<u8>>, CallError> {
        let name = self.name();
        let token = match token {
            Some(token) => {
                let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                    CallError::Rejected(format!(
                        "{name}: {what}: the token Vault issued is not a valid header value"
                    ))
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        // The buffer is zeroized when the last `Bytes` over it (ours or hyper's) is dropped.
        let body = body.map(Bytes::from_owner);
        let url = format!("{}{path}", self.base);
        let send = || {
            let mut request = self.client.request(method.clone(), &url);
            if let Some(token) = &token {
                request = request.header("X-Vault-Token", token.clone());
            }
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            request.send()
        };
        // A pooled connection the server (or a proxy) closed fails the request without an answer: try once
        // more, on a new connection, unless the first try timed out. Every call here may be repeated: a KV
        // v2 write adds a version with the same payload, a login issues a second token (and uses up one
        // more use of a secret id limited by `secret_id_num_uses`).
        let mut response = match send().await {
            Ok(response) => response,
            Err(e) if !e.is_timeout() => {
                tracing::debug!(vault = %name, error = %chain(&e), "retrying once");
                send().await.map_err(|e| self.transport(&e, what))?
            }
            Err(e) => return Err(self.transport(&e, what)),
        };
        let status = response.status();
        let capacity = response
            .content_length()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(MAX_ANSWER);
        let mut answer = Zeroizing::new(Vec::with_capacity(capacity));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport(&e, what))?
        {
            if answer.len() + chunk.len() > MAX_ANSWER {
                return Err(CallError::Rejected(format!(
                    "{name}: {what}: the answer is larger than {MAX_ANSWER} bytes"
                )));
            }
            answer.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(answer);
        }
        let text = error_text(&answer, status);
        let code = status.as_u16();
        Err(match status {
            StatusCode::NOT_FOUND => CallError::NotFound,
            StatusCode::FORBIDDEN => CallError::Forbidden(format!("{name}: {what}: {text}")),
            StatusCode::SERVICE_UNAVAILABLE => {
                CallError::NotServing(format!("{name}: {what}: answered 503 ({text})"))
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::PRECONDITION_FAILED => {
                CallError::NotServing(format!("{name}: {what}: answered {code} ({text})"))
            }
            s if s.is_server_error() => {
                CallError::NotServing(format!("{name}: {what}: answered {code} ({text})"))
            }
            s if s.is_redirection() => {
                let to = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("nowhere");
                CallError::NotServing(format!(
                    "{name}: {what}: answered {code}, a redirect to {to} (not followed: it would carry the token); point vault_url at the active node or its load balancer"
                ))
            }
            _ => CallError::Rejected(format!("{name}: {what}: refused ({code}: {text})")),
        })
    }

    fn transport(&self, e: &reqwest::Error, what: &str) -> CallError {
        let name = self.name();
        let detail = if e.is_timeout() {
            format!("no answer within {:?}", self.timeout)
        } else if e.is_connect() {
            format!("cannot connect ({})", chain(e))
        } else {
            chain(e)
        };
        CallError::Unavailable(format!("{name}: {what}: {detail}"))
    }
}

/// The rustls configuration: aws-lc-rs, TLS 1.2 and 1.3, the CA file's certificates or Mozilla's roots.
fn tls_config(config: &VaultConfig) -> Result<rustls::ClientConfig, VaultError> {
    let mut roots = RootCertStore::empty();
    match &config.ssl_ca_crt_file {
        Some(path) => {
            let err = |detail: String| VaultError::CaFile {
                path: path.clone(),
                detail,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| err(format!("cannot be read ({e})")))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(format!("is not PEM ({e})")))?;
            if certs.is_empty() {
                return Err(err("holds no PEM certificate".into()));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| err(format!("holds an unusable certificate ({e})")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| VaultError::Config(format!("cannot set up TLS for Vault: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Vault's `{"errors":[…]}` joined, cut and stripped of control characters; the status reason without them.
fn error_text(body: &[u8], status: StatusCode) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<String>,
    }
    let joined = serde_json::from_slice::<Errors>(body)
        .map(|e| e.errors.join("; "))
        .unwrap_or_default();
    let text: String = joined
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ERROR_TEXT)
        .collect();
    if text.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_owned()
    } else {
        text
    }
}

/// The causes of a reqwest error, without its first line (which repeats the URL).
fn chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}
