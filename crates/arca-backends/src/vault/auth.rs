//! The Vault token of the store: AppRole login (`POST /v1/auth/approle/login`, the secret-id file read
//! again so a rotated secret id is picked up), renewal (`POST /v1/auth/token/renew-self`) once past half its
//! TTL when renewable, and a new login when renewal is refused, when `token_max_ttl` caps it, or when a call
//! was refused with 403 (`relogin`). One refresh runs at a time; when one found Vault unreachable, the calls
//! queued behind it fail at once for a second instead of each waiting out its own timeout. The token and the
//! secret id live in `SecretString`s and appear in no message or log.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::config::read_secret_id_file;
use super::http::{CallError, Http};

/// After a refresh found Vault unreachable, refreshes fail at once with the same message for this long.
const FAIL_FAST: Duration = Duration::from_secs(1);

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

struct State {
    lease: Option<Lease>,
    /// The secret id last read from the file.
    secret_id: SecretString,
    /// When and why the last refresh found Vault unreachable.
    unreachable: Option<(Instant, String)>,
    generations: u64,
}

/// AppRole credentials and the token they gave.
pub(super) struct Auth {
    role_id: String,
    secret_id_file: PathBuf,
    state: Mutex<State>,
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
    client_token: Cow<'a, str>,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

impl Auth {
    pub(super) fn new(role_id: String, secret_id: SecretString, secret_id_file: PathBuf) -> Self {
        Self {
            role_id,
            secret_id_file,
            state: Mutex::new(State {
                lease: None,
                secret_id,
                unreachable: None,
                generations: 0,
            }),
        }
    }

    /// A usable token: the current one, renewed if past half its TTL, or a new login.
    pub(super) async fn token(&self, http: &Http) -> Result<Token, CallError> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(lease) = &state.lease
            && lease.fresh(now)
        {
            return Ok(lease.handed());
        }
        self.refresh(http, &mut state, true).await
    }

    /// A new login after `stale` was refused with 403, unless another call already replaced it.
    pub(super) async fn relogin(&self, http: &Http, stale: &Token) -> Result<Token, CallError> {
        let mut state = self.state.lock().await;
        if let Some(lease) = &state.lease
            && lease.generation != stale.generation
            && lease.alive(Instant::now())
        {
            return Ok(lease.handed());
        }
        self.refresh(http, &mut state, false).await
    }

    /// Renews the current token if allowed and worth it, else logs in; records an unreachable Vault.
    async fn refresh(
        &self,
        http: &Http,
        state: &mut State,
        may_renew: bool,
    ) -> Result<Token, CallError> {
        if let Some((at, message)) = &state.unreachable
            && at.elapsed() < FAIL_FAST
        {
            return Err(CallError::Unavailable(message.clone()));
        }
        let result = self.renew_or_login(http, state, may_renew).await;
        match &result {
            Err(CallError::Unavailable(message)) => {
                state.unreachable = Some((Instant::now(), message.clone()));
            }
            _ => state.unreachable = None,
        }
        result
    }

    async fn renew_or_login(
        &self,
        http: &Http,
        state: &mut State,
        may_renew: bool,
    ) -> Result<Token, CallError> {
        if let Some(lease) = &state.lease
            && may_renew
            && lease.renewable
            && lease.alive(Instant::now())
        {
            match renew(http, lease).await {
                Ok(renewed) if renewed.ttl * 2 >= lease.login_ttl => {
                    tracing::debug!(
                        vault = %http.name(),
                        ttl_s = renewed.ttl.as_secs(),
                        "renewed the Vault token"
                    );
                    let token = renewed.handed();
                    state.lease = Some(renewed);
                    return Ok(token);
                }
                Ok(_) => tracing::debug!(
                    vault = %http.name(),
                    "the Vault token nears its token_max_ttl; logging in again"
                ),
                // No answer at all: a login would not get one either.
                Err(CallError::Unavailable(m)) => return Err(CallError::Unavailable(m)),
                // Any answer, even a 5xx ("past the max TTL, cannot renew"), is met with a new login.
                Err(e) => tracing::info!(
                    vault = %http.name(),
                    error = %describe(&e),
                    "renewing the Vault token failed; logging in again"
                ),
            }
        }
        match read_secret_id_file(&self.secret_id_file) {
            Ok(secret_id) => state.secret_id = secret_id,
            Err(e) => tracing::warn!(
                vault = %http.name(),
                error = %e,
                "cannot read the secret-id file again; logging in with the secret id read before"
            ),
        }
        state.generations += 1;
        let lease = self
            .login(http, &state.secret_id, state.generations)
            .await?;
        let token = lease.handed();
        state.lease = Some(lease);
        Ok(token)
    }

    async fn login(
        &self,
        http: &Http,
        secret_id: &SecretString,
        generation: u64,
    ) -> Result<Lease, CallError> {
        let request = LoginRequest {
            role_id: &self.role_id,
            secret_id: secret_id.expose_secret(),
        };
        let mut body = Zeroizing::new(Vec::with_capacity(
            64 + self.role_id.len() + secret_id.expose_secret().len(),
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
                CallError::NotFound => CallError::Rejected(format!(
                    "{}: AppRole login: no AppRole auth method at auth/approle (`bao auth enable approle`)",
                    http.name()
                )),
                CallError::Forbidden(m) | CallError::Rejected(m) => CallError::Rejected(format!(
                    "{m}; check approle_role_id and the secret id in {}",
                    self.secret_id_file.display()
                )),
                other => other,
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

    /// `GET /v1/auth/token/lookup-self` with `token` (the health check).
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

async fn renew(http: &Http, lease: &Lease) -> Result<Lease, CallError> {
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
    parse_lease(
        &answer,
        http,
        "renewing the token",
        since,
        lease.generation,
        Some(lease.login_ttl),
    )
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
        Cow::Borrowed(s) => SecretString::from(s.to_owned()),
        Cow::Owned(s) => SecretString::from(s),
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
        CallError::Unavailable(m)
        | CallError::NotServing(m)
        | CallError::Forbidden(m)
        | CallError::Rejected(m) => m.clone(),
        CallError::NotFound => "not found".into(),
    }
}
