//! `KmipStore`, the `ExternalStore` over a KMIP server: payloads are registered as Secret Data objects and
//! found again by their Unique Identifier (the locator). Idle connections are kept in a small pool and reused;
//! a connection that fails is dropped, and a request that fails on a reused (possibly stale) connection is
//! retried once on a fresh one, so the store recovers by itself after a server restart. Server failures map
//! to `ExternalStoreError`: Item Not Found → `NotFound`, other refusals and malformed answers → `Rejected`,
//! network trouble and timeouts → `Unavailable`. Payloads never reach logs or error messages.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arca_core::{ExternalStore, ExternalStoreError};
use async_trait::async_trait;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::config::{KmipConfig, KmipError, tls_setup};
use super::connection::{ConnError, Connection, MAX_PAYLOAD, MAX_RESPONSE};
use super::messages::{self, Credential, NotSecretData, Operation, Outcome};
use super::ttlv::{self, Item};

/// Connections open at once (each in-flight request holds one; PyKMIP runs a thread per connection); idle
/// ones are kept for reuse up to the same number.
const MAX_CONNECTIONS: usize = 16;
/// The longest locator sent to the server (PyKMIP's are decimal integers; others use UUIDs).
const MAX_LOCATOR: usize = 256;

/// A KMIP server as an external secret store.
pub struct KmipStore {
    inner: Arc<Inner>,
}

struct Inner {
    host: String,
    port: u16,
    timeout: Duration,
    tls: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    credential: Option<(String, SecretString)>,
    idle: Mutex<Vec<Connection>>,
    slots: tokio::sync::Semaphore,
}

impl std::fmt::Debug for KmipStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmipStore")
            .field("host", &self.inner.host)
            .field("port", &self.inner.port)
            .finish_non_exhaustive()
    }
}

impl KmipStore {
    /// Loads and checks the certificate, key and CA files; does not touch the network.
    pub fn new(config: KmipConfig) -> Result<Self, KmipError> {
        let setup = tls_setup(&config)?;
        let credential = match (config.username, config.password) {
            (Some(user), password) => {
                Some((user, password.unwrap_or_else(|| SecretString::from(""))))
            }
            (None, Some(_)) => {
                return Err(KmipError::Invalid(
                    "a password was given without a username".into(),
                ));
            }
            (None, None) => None,
        };
        Ok(KmipStore {
            inner: Arc::new(Inner {
                host: config.host,
                port: config.port,
                timeout: config.timeout,
                tls: setup.config,
                server_name: setup.server_name,
                credential,
                idle: Mutex::new(Vec::new()),
                slots: tokio::sync::Semaphore::new(MAX_CONNECTIONS),
            }),
        })
    }
}

impl Inner {
    fn label(&self) -> String {
        if self.host.contains(':') {
            format!("KMIP server [{}]:{}", self.host, self.port)
        } else {
            format!("KMIP server {}:{}", self.host, self.port)
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    fn drain_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn put_idle(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_CONNECTIONS
        {
            idle.push(conn);
        }
    }

    fn conn_error(&self, e: &ConnError) -> ExternalStoreError {
        match e {
            ConnError::Malformed(_) => {
                ExternalStoreError::Rejected(format!("{}: {e}", self.label()))
            }
            ConnError::Timeout(step) => ExternalStoreError::Unavailable(format!(
                "{}: timed out {step} (after {:?})",
                self.label(),
                self.timeout
            )),
            ConnError::Io(_) => ExternalStoreError::Unavailable(format!("{}: {e}", self.label())),
        }
    }

    /// Sends one request and answers the server's outcome for it.
    async fn call(&self, op: Operation, payload: Vec<Item>) -> Result<Outcome, ExternalStoreError> {
        let request = {
            let credential = self
                .credential
                .as_ref()
                .map(|(username, password)| Credential {
                    username,
                    password: password.expose_secret(),
                });
            let max = i32::try_from(MAX_RESPONSE).unwrap_or(i32::MAX);
            ttlv::to_bytes(&messages::request(op, payload, credential.as_ref(), max))
        };
        let _slot = match tokio::time::timeout(self.timeout, self.slots.acquire()).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) | Err(_) => {
                return Err(ExternalStoreError::Unavailable(format!(
                    "{}: all {MAX_CONNECTIONS} connections stayed busy for {:?}",
                    self.label(),
                    self.timeout
                )));
            }
        };
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let (mut conn, reused) = match self.take_idle() {
                Some(conn) => (conn, true),
                None => {
                    let conn = Connection::open(
                        &self.host,
                        self.port,
                        &self.tls,
                        &self.server_name,
                        self.timeout,
                    )
                    .await
                    .map_err(|e| self.conn_error(&e))?;
                    (conn, false)
                }
            };
            match conn.round_trip(&request, self.timeout).await {
                Ok(response) => break (response, conn),
                // A pooled connection the server has since closed (restart, idle timeout): the other idle
                // ones are as old, so drop them all and try a fresh one.
                Err(ConnError::Io(e)) if reused && attempt == 1 => {
                    self.drain_idle();
                    tracing::debug!(server = %self.label(), error = %e, "stale KMIP connection, reconnecting");
                }
                Err(e) => return Err(self.conn_error(&e)),
            }
        };
        let (response, conn) = response;
        // A connection that carried a malformed response is not trusted again.
        let message = ttlv::decode(&response, MAX_RESPONSE).map_err(|e| {
            ExternalStoreError::Rejected(format!("{}: malformed KMIP response: {e}", self.label()))
        })?;
        self.put_idle(conn);
        messages::read_response(&message, op)
            .map_err(|e| ExternalStoreError::Rejected(format!("{}: {e}", self.label())))
    }

    /// Like [`Inner::call`], with a failure turned into an error (Item Not Found into `NotFound`).
    async fn call_ok(
        &self,
        op: Operation,
        payload: Vec<Item>,
    ) -> Result<Option<Item>, ExternalStoreError> {
        match self.call(op, payload).await? {
            Outcome::Success(payload) => Ok(payload),
            Outcome::Failure {
                reason: Some(messages::REASON_ITEM_NOT_FOUND),
                ..
            } => Err(ExternalStoreError::NotFound),
            Outcome::Failure {
                status,
                reason,
                message,
            } => {
                let reason = match reason {
                    Some(r) => format!("{} ({r:#x})", messages::reason_name(r)),
                    None => "no reason given".to_string(),
                };
                let message = message.map(|m| format!(": {m}")).unwrap_or_default();
                Err(ExternalStoreError::Rejected(format!(
                    "{} refused {}: {}, {reason}{message}",
                    self.label(),
                    op.name(),
                    messages::status_name(status)
                )))
            }
        }
    }

    fn malformed(&self, e: impl std::fmt::Display) -> ExternalStoreError {
        ExternalStoreError::Rejected(format!("{}: {e}", self.label()))
    }
}

/// Locators that cannot name an object on the server are answered locally.
fn valid_locator(locator: &str) -> bool {
    !locator.is_empty() && locator.len() <= MAX_LOCATOR && !locator.chars().any(char::is_control)
}

#[async_trait]
impl ExternalStore for KmipStore {
    async fn put(
        &self,
        project_id: &str,
        secret_id: Uuid,
        payload: &[u8],
    ) -> Result<String, ExternalStoreError> {
        let inner = &self.inner;
        if payload.len() > MAX_PAYLOAD {
            return Err(ExternalStoreError::Rejected(format!(
                "{}: a payload of {} bytes exceeds this store's limit of {MAX_PAYLOAD} bytes",
                inner.label(),
                payload.len()
            )));
        }
        let name = format!("arca/{project_id}/{secret_id}");
        let response = inner
            .call_ok(
                Operation::Register,
                messages::register_payload(&name, payload),
            )
            .await
            // Item Not Found cannot answer a Register; treat it as any other refusal.
            .map_err(|e| match e {
                ExternalStoreError::NotFound => inner.malformed("Register answered Item Not Found"),
                e => e,
            })?
            .ok_or_else(|| inner.malformed("Register response has no payload"))?;
        let uid = messages::unique_identifier(&response).map_err(|e| inner.malformed(e))?;
        tracing::debug!(server = %inner.label(), %secret_id, uid = %uid, "registered KMIP Secret Data");
        Ok(uid)
    }

    async fn get(&self, locator: &str) -> Result<Zeroizing<Vec<u8>>, ExternalStoreError> {
        if !valid_locator(locator) {
            return Err(ExternalStoreError::NotFound);
        }
        let inner = &self.inner;
        let response = inner
            .call_ok(Operation::Get, messages::uid_payload(locator))
            .await?
            .ok_or_else(|| inner.malformed("Get response has no payload"))?;
        match messages::unique_identifier(&response) {
            Ok(uid) if uid == locator => {}
            Ok(_) => return Err(inner.malformed("Get answered another object")),
            Err(e) => return Err(inner.malformed(e)),
        }
        messages::secret_data(&response).map_err(|e| match e {
            NotSecretData::WrongType(_) => {
                ExternalStoreError::Rejected(format!("{}: {locator}: {e}", inner.label()))
            }
            NotSecretData::Malformed(e) => inner.malformed(e),
        })
    }

    async fn delete(&self, locator: &str) -> Result<(), ExternalStoreError> {
        if !valid_locator(locator) {
            return Err(ExternalStoreError::NotFound);
        }
        self.inner
            .call_ok(Operation::Destroy, messages::uid_payload(locator))
            .await?;
        tracing::debug!(server = %self.inner.label(), uid = %locator, "destroyed KMIP object");
        Ok(())
    }

    async fn check(&self) -> Result<(), ExternalStoreError> {
        let inner = &self.inner;
        let payload = inner
            .call_ok(Operation::DiscoverVersions, Vec::new())
            .await?;
        let versions =
            messages::protocol_versions(payload.as_ref()).map_err(|e| inner.malformed(e))?;
        // An empty list says nothing; a list without 1.2 says the server will not understand us.
        if !versions.is_empty() && !versions.contains(&messages::VERSION) {
            return Err(ExternalStoreError::Rejected(format!(
                "{} does not speak KMIP {}.{} (it lists {versions:?})",
                inner.label(),
                messages::VERSION.0,
                messages::VERSION.1
            )));
        }
        Ok(())
    }
}
