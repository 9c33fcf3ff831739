//! The connection to the token: the PKCS#11 library (loaded and initialised once per process with OS locking,
//! re-initialised when a token has gone away), the slot found by token label, one login, and a bounded pool of
//! read-write sessions so concurrent requests do not serialise on one session. A `Connection` is thrown away
//! on a device/session/token error and a new one is made on the next call; that is how the provider recovers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;

use super::errors::{Pkcs11Error, describe};

/// A loaded PKCS#11 library, shared by every provider of the process that names the same file.
pub struct Library {
    ctx: Mutex<Pkcs11>,
}

fn libraries() -> &'static Mutex<HashMap<PathBuf, Arc<Library>>> {
    static LIBS: OnceLock<Mutex<HashMap<PathBuf, Arc<Library>>>> = OnceLock::new();
    LIBS.get_or_init(|| Mutex::new(HashMap::new()))
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn initialize(ctx: &Pkcs11) -> Result<(), CkError> {
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(()),
        Err(e) => Err(e),
    }
}

impl Library {
    /// The library at `path`, loaded and initialised on first use.
    pub fn get(path: &Path) -> Result<Arc<Self>, String> {
        let mut libs = lock(libraries());
        if let Some(lib) = libs.get(path) {
            return Ok(lib.clone());
        }
        let ctx = Pkcs11::new(path)
            .map_err(|e| format!("cannot load the PKCS#11 library {}: {e}", path.display()))?;
        initialize(&ctx).map_err(|e| {
            format!(
                "cannot initialise the PKCS#11 library {}: {}",
                path.display(),
                describe(&e)
            )
        })?;
        let lib = Arc::new(Self {
            ctx: Mutex::new(ctx),
        });
        libs.insert(path.to_path_buf(), lib.clone());
        Ok(lib)
    }

    fn ctx(&self) -> Pkcs11 {
        lock(&self.ctx).clone()
    }

    /// Finalises and re-initialises the library, so it forgets a token that went away and finds it again.
    /// Sessions opened before are invalid afterwards (their connections reconnect).
    pub fn reinitialize(&self) -> Result<(), CkError> {
        let ctx = lock(&self.ctx);
        let _ = ctx.clone().finalize();
        initialize(&ctx)
    }
}

struct Idle {
    sessions: Vec<Session>,
    open: usize,
}

/// A logged-in connection to one token with a pool of sessions.
pub struct Connection {
    lib: Arc<Library>,
    slot: Slot,
    max: usize,
    idle: Mutex<Idle>,
    freed: Condvar,
}

/// A session borrowed from the pool; goes back on drop unless marked broken.
pub struct PooledSession<'a> {
    conn: &'a Connection,
    session: Option<Session>,
    broken: bool,
}

impl std::ops::Deref for PooledSession<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a pooled session is present until dropped")
    }
}

impl PooledSession<'_> {
    /// Closes this session instead of returning it to the pool.
    pub fn discard(&mut self) {
        self.broken = true;
    }
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        let mut idle = lock(&self.conn.idle);
        match self.session.take() {
            Some(s) if !self.broken => idle.sessions.push(s),
            _ => idle.open -= 1,
        }
        drop(idle);
        self.conn.freed.notify_one();
    }
}

impl Connection {
    /// Finds the token labelled `token`, opens a session and logs in with `pin`.
    pub fn open(
        lib: Arc<Library>,
        token: &str,
        pin: &SecretString,
        max: usize,
    ) -> Result<Self, Pkcs11Error> {
        let unavailable = |detail: String| Pkcs11Error::Unavailable {
            token: token.to_owned(),
            detail,
        };
        let ctx = lib.ctx();
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| unavailable(describe(&e)))?;
        let mut found = Vec::new();
        for slot in slots {
            if let Ok(info) = ctx.get_token_info(slot)
                && info.label().trim_end() == token
            {
                found.push(slot);
            }
        }
        let slot = match found.as_slice() {
            [slot] => *slot,
            [] => {
                return Err(unavailable(
                    "no token with this label is present (check [root_key] token_label and the HSM)"
                        .into(),
                ));
            }
            _ => {
                return Err(Pkcs11Error::Config(format!(
                    "{} tokens are labelled {token:?}: give each token a distinct label",
                    found.len()
                )));
            }
        };
        let session = ctx
            .open_rw_session(slot)
            .map_err(|e| unavailable(describe(&e)))?;
        match session.login(UserType::User, Some(pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(
                e @ CkError::Pkcs11(
                    RvError::PinIncorrect
                    | RvError::PinInvalid
                    | RvError::PinLenRange
                    | RvError::PinLocked
                    | RvError::PinExpired,
                    _,
                ),
            ) => {
                return Err(Pkcs11Error::Login {
                    token: token.to_owned(),
                    detail: describe(&e),
                });
            }
            Err(e) => return Err(unavailable(describe(&e))),
        }
        Ok(Self {
            lib,
            slot,
            max,
            idle: Mutex::new(Idle {
                sessions: vec![session],
                open: 1,
            }),
            freed: Condvar::new(),
        })
    }

    /// A session from the pool, opening one while fewer than the maximum are open, waiting otherwise.
    pub fn session(&self) -> Result<PooledSession<'_>, CkError> {
        let mut idle = lock(&self.idle);
        loop {
            if let Some(s) = idle.sessions.pop() {
                return Ok(PooledSession {
                    conn: self,
                    session: Some(s),
                    broken: false,
                });
            }
            if idle.open < self.max {
                idle.open += 1;
                drop(idle);
                return match self.lib.ctx().open_rw_session(self.slot) {
                    Ok(s) => Ok(PooledSession {
                        conn: self,
                        session: Some(s),
                        broken: false,
                    }),
                    Err(e) => {
                        lock(&self.idle).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            idle = self
                .freed
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}
