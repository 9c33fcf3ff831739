//! The Vault token of the store: AppRole login (`POST /v1/auth/approle/login`), renewal
//! (`POST /v1/auth/token/renew-self`) once past half its TTL when renewable, and a new login when renewal
//! fails, when `token_max_ttl` caps the renewal, or when a call was refused with 403 (`relogin`). The token
//! and the secret id live in `SecretString`s and appear in no message or log.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::http::{CallError, Http};

/// A token handed to one call; `generation` tells `relogin` whether it is still the current one.
pub(super) struct Token {
    pub(super) secret: SecretString,
    generation: u64,
}

/// The current token and its lease.
struct Lease {
    token: SecretString,
    generation: u64,
    /// When the request that issued or last renewed it was sent.
    since: Instant,
    /// Its TTL at that time; zero means it does not expire.
    ttl: Duration,
    /// The TTL the login gave; a renewal answering less than half of it is capped by `token_max_ttl`.
    login_ttl: Duration,
    renewable: bool,
}

impl Lease {
    fn handed(&self) -> Token {
        Token {
            secret: self.token.clone(),
            generation: self.generation,
        }
    }

    fn fresh(&self, now: Instant) -> bool {
        self.ttl.is_zero() || now.duration_since(self.since) < self.ttl / 2
    }

    fn alive(&self, now: Instant) -> bool {
        self.ttl.is_zero() || now.duration_since(self.since) < self.ttl
    }
}

/// AppRole credentials and the token they gave.
pub(super) struct Auth {
    role_id: String,
    secret_id: SecretString,
    secret_id_file: PathBuf,
    current: Mutex<Option<Lease>>,
}

#[derive(serde::Serialize)]
struct LoginRequest<'a> {
    role_id: &'a str,
    secret_id: &'a str,
}

#[derive(serde::Deserialize)]
struct AuthAnswer<'a> {
    #[serde(borrow)]
    auth: Option<AuthBlock<'a>>,
}

#[derive(serde::Deserialize)]
struct AuthBlock<'a> {
    #[serde(borrow)]
    client_token: std::borrow::Cow<'a, str>,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

impl Auth {
    pub(super) fn new(role_id: String, secret_id: SecretString, secret_id_file: PathBuf) -> Self {
        Self {
            role_id,
            secret_id,
            secret_id_file,
            current: Mutex::new(None),
        }
    }

    /// A usable token: the current one, renewed if past half its TTL, or a new login.
    pub(super) async fn token(&self, http: &Http) -> Result<Token, CallError> {
        let mut current = self.current.lock().await;
        let now = Instant::now();
        if let Some(lease) = current.as_ref() {
            if lease.fresh(now) {
                return Ok(lease.handed());
            }
            if lease.renewable && lease.alive(now) {
                match self.renew(http, lease).await {
                    Ok(renewed) if renewed.ttl * 2 >= lease.login_ttl => {
                        tracing::debug!(
                            vault = %http.name(),
                            ttl_s = renewed.ttl.as_secs(),
                            "renewed the Vault token"
                        );
                        let token = renewed.handed();
                        *current = Some(renewed);
                        return Ok(token);
                    }
                    Ok(_) => tracing::debug!(
                        vault = %http.name(),
                        "the Vault token nears its token_max_ttl; logging in again"
                    ),
                    // Even a 5xx ("past the max TTL, cannot renew") is answered by a new login; if
                    // Vault is really down, the login reports it.
                    Err(e) => tracing::info!(
                        vault = %http.name(),
                        error = %describe(&e),
                        "renewing the Vault token failed; logging in again"
                    ),
                }
            }
        }
        let generation = current.as_ref().map_or(0, |l| l.generation) + 1;
        let lease = self.login(http, generation).await?;
        let token = lease.handed();
        *current = Some(lease);
        Ok(token)
    }

    /// A new login after `stale` was refused with 403, unless another call already replaced it.
    pub(super) async fn relogin(&self, http: &Http, stale: &Token) -> Result<Token, CallError> {
        let mut current = self.current.lock().await;
        if let Some(lease) = current.as_ref()
            && lease.generation != stale.generation
            && lease.alive(Instant::now())
        {
            return Ok(lease.handed());
        }
        let generation = current.as_ref().map_or(0, |l| l.generation) + 1;
        let lease = self.login(http, generation).await?;
        let token = lease.handed();
        *current = Some(lease);
        Ok(token)
    }

    async fn login(&self, http: &Http, generation: u64) -> Result<Lease, CallError> {
        let request = LoginRequest {
            role_id: &self.role_id,
            secret_id: self.secret_id.expose_secret(),
        };
        let mut body = Zeroizing::new(Vec::with_capacity(
            64 + self.role_id.len() + self.secret_id.expose_secret().len(),
        ));
        serde_json::to_writer(&mut *body, &request).map_err(|e| {
            CallError::Rejected(format!("{}: cannot encode the login: {e}", http.name()))
        })?;
        let since = Instant::now();
        let answer = http
            .call(
                Method::POST,
                "/v1/auth/approle/login",
                None,
                Some(body),
                "AppRole login",
            )
            .await
            .map_err(|e| match e {
                CallError::Unavailable(m) => CallError::Unavailable(m),
                CallError::NotFound => CallError::Rejected(format!(
                    "{}: AppRole login: no AppRole auth method at auth/approle (`bao auth enable approle`)",
                    http.name()
                )),
                CallError::Forbidden(m) | CallError::Rejected(m) => CallError::Rejected(format!(
                    "{m}; check approle_role_id and the secret id in {}",
                    self.secret_id_file.display()
                )),
            })?;
        let lease = parse_lease(&answer, http, "AppRole login", since, generation, None)?;
        tracing::info!(
            vault = %http.name(),
            ttl_s = lease.ttl.as_secs(),
            renewable = lease.renewable,
            "logged in to Vault with AppRole"
        );
        Ok(lease)
    }

    async fn renew(&self, http: &Http, lease: &Lease) -> Result<Lease, CallError> {
        let since = Instant::now();
        let answer = http
            .call(
                Method::POST,
                "/v1/auth/token/renew-self",
                Some(&lease.token),
                Some(Zeroizing::new(b"{}".to_vec())),
                "renewing the token",
            )
            .await?;
        let renewed = parse_lease(
            &answer,
            http,
            "renewing the token",
            since,
            lease.generation,
            Some(lease.login_ttl),
        )?;
        Ok(renewed)
    }

    /// `GET /v1/auth/token/lookup-self` with the current token (the health check).
    pub(super) async fn lookup_self(http: &Http, token: &SecretString) -> Result<(), CallError> {
        http.call(
            Method::GET,
            "/v1/auth/token/lookup-self",
            Some(token),
            None,
            "looking up the token",
        )
        .await
        .map(drop)
    }
}

fn parse_lease(
    answer: &[u8],
    http: &Http,
    what: &str,
    since: Instant,
    generation: u64,
    login_ttl: Option<Duration>,
) -> Result<Lease, CallError> {
    let malformed = || {
        CallError::Rejected(format!(
            "{}: {what}: the answer holds no token (auth.client_token)",
            http.name()
        ))
    };
    let parsed: AuthAnswer<'_> = serde_json::from_slice(answer).map_err(|_| malformed())?;
    let auth = parsed.auth.ok_or_else(malformed)?;
    if auth.client_token.is_empty() {
        return Err(malformed());
    }
    let ttl = Duration::from_secs(auth.lease_duration);
    let token = match auth.client_token {
        std::borrow::Cow::Borrowed(s) => SecretString::from(s.to_owned()),
        std::borrow::Cow::Owned(s) => SecretString::from(s),
    };
    Ok(Lease {
        token,
        generation,
        since,
        ttl,
        login_ttl: login_ttl.unwrap_or(ttl),
        renewable: auth.renewable,
    })
}

/// A failure's text for a log line (the messages never carry secrets).
fn describe(e: &CallError) -> String {
    match e {
        CallError::Unavailable(m) | CallError::Forbidden(m) | CallError::Rejected(m) => m.clone(),
        CallError::NotFound => "not found".into(),
    }
}
