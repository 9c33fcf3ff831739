//! `Pkcs11RootKey`: the `RootKeyProvider` whose master KEK and HMAC key never leave the token. Wrap imports
//! the 32-byte key as an extractable session object, wraps it under the master KEK and destroys it; unwrap
//! unwraps into an extractable, non-sensitive session object, reads its value and destroys it (guarded, on
//! every path); MACs are C_Sign with the HMAC key, compared in constant time. Every call runs on a pooled
//! session; a device/session/token error drops the connection, answers `CryptoError::Unavailable` (503) if a
//! fresh connection cannot be made either, and the next call reconnects and logs in again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use arca_core::RootKeyProvider;
use arca_crypto::{Binding, CryptoError, Key256, constant_time_eq};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::Session;
use secrecy::SecretString;

use super::config::{Pkcs11Config, WrapMechanism};
use super::errors::{Pkcs11Error, describe, is_connection_error, unavailable};
use super::objects::{self, ScanError, TempObject, VersionKeys};
use super::pool::{Connection, Library, lock};

/// Wrap algorithm id of rows wrapped with `CKM_AES_KEY_WRAP` (RFC 3394) inside a PKCS#11 token.
pub const WRAP_ALG_PKCS11_AES_KW: u8 = 2;
/// Wrap algorithm id of rows wrapped with `CKM_AES_KEY_WRAP_PAD` (RFC 5649, known-answer tested).
pub const WRAP_ALG_PKCS11_AES_KWP: u8 = 3;

const KCV_LABEL: &[u8] = b"arca/v1/kcv";

struct Live {
    generation: u64,
    conn: Connection,
    keys: RwLock<BTreeMap<u32, VersionKeys>>,
}

enum OpError {
    Ck(CkError),
    Crypto(CryptoError),
}

impl From<CkError> for OpError {
    fn from(e: CkError) -> Self {
        Self::Ck(e)
    }
}

impl From<CryptoError> for OpError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

/// The PKCS#11 root of trust.
pub struct Pkcs11RootKey {
    cfg: Pkcs11Config,
    pin: SecretString,
    lib: Arc<Library>,
    live: RwLock<Option<Live>>,
    generations: AtomicU64,
    known: RwLock<Vec<u32>>,
    /// The last failed reconnection: while it is recent, calls fail fast instead of queueing on a dead HSM.
    failed: Mutex<Option<(Instant, String)>>,
}

/// How long after a failed reconnection calls answer 503 without trying again.
const RETRY_AFTER: Duration = Duration::from_millis(250);

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

impl Pkcs11RootKey {
    /// For `arca init`: generates root key version 1 (master KEK and HMAC key) in the token, refusing when
    /// objects with the configured labels already exist.
    pub fn initialise(cfg: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        let provider = Self::connect_only(cfg)?;
        {
            let guard = read(&provider.live);
            let live = guard
                .as_ref()
                .expect("connect_only leaves a live connection");
            if let Some(v) = read(&live.keys).keys().next() {
                return Err(Pkcs11Error::Keys(format!(
                    "the token {:?} already holds root key objects {:?}: refusing to create others; choose other --mkek-label/--hmac-label or remove them",
                    provider.cfg.token_label,
                    objects::versioned(&provider.cfg.mkek_label, *v)
                )));
            }
            let session = live
                .conn
                .session()
                .map_err(|e| provider.unavailable_err(&e))?;
            objects::generate(
                &session,
                &provider.cfg.mkek_label,
                &provider.cfg.hmac_label,
                1,
            )?;
        }
        provider
            .reload()
            .map_err(|e| Pkcs11Error::Keys(e.to_string()))?;
        Ok(provider)
    }

    /// Opens the token: loads the library, logs in, finds every root key version (refusing ambiguous or
    /// unpaired labels) and, for `CKM_AES_KEY_WRAP_PAD`, runs the RFC 5649 known-answer test.
    pub fn open(cfg: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        let provider = Self::connect_only(cfg)?;
        if read(&provider.known).is_empty() {
            return Err(Pkcs11Error::Keys(format!(
                "the token {:?} holds no root key objects labelled {:?} and {:?}: create them with `arca init --root pkcs11`",
                provider.cfg.token_label,
                objects::versioned(&provider.cfg.mkek_label, 1),
                objects::versioned(&provider.cfg.hmac_label, 1)
            )));
        }
        if provider.cfg.wrap_mechanism == WrapMechanism::AesKeyWrapPad {
            let guard = read(&provider.live);
            let live = guard
                .as_ref()
                .expect("connect_only leaves a live connection");
            let session = live
                .conn
                .session()
                .map_err(|e| provider.unavailable_err(&e))?;
            let ok = objects::kwp_known_answer(&session).map_err(|e| Pkcs11Error::Unavailable {
                token: provider.cfg.token_label.clone(),
                detail: describe(&e),
            })?;
            if !ok {
                return Err(Pkcs11Error::Config(format!(
                    "CKM_AES_KEY_WRAP_PAD of the token {:?} failed the RFC 5649 known-answer test: set [root_key] wrap_mechanism = \"CKM_AES_KEY_WRAP\"",
                    provider.cfg.token_label
                )));
            }
        }
        Ok(provider)
    }

    fn connect_only(cfg: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        cfg.validate()?;
        let pin = cfg.load_pin()?;
        let lib = Library::get(&cfg.library_path).map_err(Pkcs11Error::Config)?;
        let provider = Self {
            cfg,
            pin,
            lib,
            live: RwLock::new(None),
            generations: AtomicU64::new(0),
            known: RwLock::new(Vec::new()),
            failed: Mutex::new(None),
        };
        let live = provider.connect()?;
        *write(&provider.live) = Some(live);
        Ok(provider)
    }

    fn unavailable_err(&self, e: &CkError) -> Pkcs11Error {
        Pkcs11Error::Unavailable {
            token: self.cfg.token_label.clone(),
            detail: describe(e),
        }
    }

    /// A new logged-in connection with its key handles; re-initialises the library once when the token
    /// cannot be reached (a token that went away is only found again after C_Finalize/C_Initialize).
    fn connect(&self) -> Result<Live, Pkcs11Error> {
        let open = || {
            Connection::open(
                self.lib.clone(),
                &self.cfg.token_label,
                &self.pin,
                self.cfg.pool_size,
            )
        };
        let conn = match open() {
            Ok(c) => c,
            Err(Pkcs11Error::Unavailable { .. }) => {
                self.lib
                    .reinitialize()
                    .map_err(|e| self.unavailable_err(&e))?;
                open()?
            }
            Err(e) => return Err(e),
        };
        let keys = {
            let session = conn.session().map_err(|e| self.unavailable_err(&e))?;
            self.scan(&session)?
        };
        Ok(Live {
            generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
            conn,
            keys: RwLock::new(keys),
        })
    }

    fn scan(&self, session: &Session) -> Result<BTreeMap<u32, VersionKeys>, Pkcs11Error> {
        self.scan_raw(session).map_err(|e| match e {
            ScanError::Ck(e) => self.unavailable_err(&e),
            ScanError::Keys(m) => Pkcs11Error::Keys(m),
        })
    }

    /// The versions in the token; remembers their numbers for `versions`.
    fn scan_raw(&self, session: &Session) -> Result<BTreeMap<u32, VersionKeys>, ScanError> {
        let keys = objects::scan(session, &self.cfg.mkek_label, &self.cfg.hmac_label)?;
        *write(&self.known) = keys.keys().copied().collect();
        Ok(keys)
    }

    fn invalidate(&self, generation: u64) {
        let mut live = write(&self.live);
        if live.as_ref().is_some_and(|l| l.generation == generation) {
            *live = None;
        }
    }

    fn reconnect(&self) -> Result<(), CryptoError> {
        if let Some((at, why)) = lock(&self.failed).as_ref()
            && at.elapsed() < RETRY_AFTER
        {
            return Err(CryptoError::Unavailable(why.clone()));
        }
        let mut live = write(&self.live);
        if live.is_none() {
            let connected = self.connect().map_err(|e| {
                tracing::warn!(error = %e, "the HSM is unavailable");
                match e {
                    Pkcs11Error::Unavailable { .. } => e.into_crypto(),
                    other => unavailable(&self.cfg.token_label, other),
                }
            });
            match connected {
                Ok(c) => *live = Some(c),
                Err(e) => {
                    let why = match &e {
                        CryptoError::Unavailable(m) => m.clone(),
                        other => other.to_string(),
                    };
                    *lock(&self.failed) = Some((Instant::now(), why));
                    return Err(e);
                }
            }
            *lock(&self.failed) = None;
            tracing::info!(token = %self.cfg.token_label, "connected to the HSM");
        }
        Ok(())
    }

    /// Runs `op` on a pooled session; on a connection error drops the connection and retries once on a new
    /// one, so a token that came back is used again without a restart.
    fn with<T>(
        &self,
        op: impl Fn(&Live, &Session) -> Result<T, OpError>,
    ) -> Result<T, CryptoError> {
        let mut last = None;
        for _ in 0..2 {
            {
                let guard = read(&self.live);
                if let Some(live) = guard.as_ref() {
                    let failed = match live.conn.session() {
                        Ok(mut session) => match op(live, &session) {
                            Ok(v) => return Ok(v),
                            Err(OpError::Crypto(e)) => return Err(e),
                            Err(OpError::Ck(e)) if is_connection_error(&e) => {
                                session.discard();
                                e
                            }
                            Err(OpError::Ck(e)) => {
                                return Err(CryptoError::InvalidInput(format!(
                                    "the HSM refused the operation: {}",
                                    describe(&e)
                                )));
                            }
                        },
                        Err(e) if is_connection_error(&e) => e,
                        Err(e) => return Err(unavailable(&self.cfg.token_label, describe(&e))),
                    };
                    let generation = live.generation;
                    drop(guard);
                    tracing::warn!(error = %describe(&failed), "HSM call failed; reconnecting");
                    last = Some(failed);
                    self.invalidate(generation);
                    continue;
                }
            }
            self.reconnect()?;
        }
        Err(unavailable(
            &self.cfg.token_label,
            last.map_or_else(|| "no connection".to_owned(), |e| describe(&e)),
        ))
    }

    fn version_keys(live: &Live, version: u32) -> Result<VersionKeys, OpError> {
        read(&live.keys)
            .get(&version)
            .copied()
            .ok_or(OpError::Crypto(CryptoError::Format(
                "unknown root key version",
            )))
    }

    fn mechanism(m: WrapMechanism) -> Mechanism<'static> {
        match m {
            WrapMechanism::AesKeyWrap => Mechanism::AesKeyWrap,
            WrapMechanism::AesKeyWrapPad => Mechanism::AesKeyWrapPad,
        }
    }

    fn sign(&self, version: u32, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.with(|live, s| {
            let keys = Self::version_keys(live, version)?;
            Ok(s.sign(&Mechanism::Sha256Hmac, keys.hmac, data)?)
        })
    }
}

impl RootKeyProvider for Pkcs11RootKey {
    fn active_version(&self) -> u32 {
        read(&self.known).last().copied().unwrap_or(1)
    }

    fn wrap_alg(&self) -> u8 {
        match self.cfg.wrap_mechanism {
            WrapMechanism::AesKeyWrap => WRAP_ALG_PKCS11_AES_KW,
            WrapMechanism::AesKeyWrapPad => WRAP_ALG_PKCS11_AES_KWP,
        }
    }

    /// The binding is not used here: the row MAC binds the row, and the hierarchy checks it first.
    fn wrap(&self, version: u32, _binding: &Binding, key: &Key256) -> Result<Vec<u8>, CryptoError> {
        let mechanism = Self::mechanism(self.cfg.wrap_mechanism);
        self.with(|live, s| {
            let keys = Self::version_keys(live, version)?;
            let tmp = objects::import_session_key(s, KeyType::GENERIC_SECRET, key.expose())?;
            Ok(s.wrap_key(&mechanism, keys.mkek, tmp.handle)?)
        })
    }

    fn unwrap(
        &self,
        version: u32,
        _binding: &Binding,
        wrapped: &[u8],
    ) -> Result<Key256, CryptoError> {
        // Rows written under the other mechanism stay readable after a configuration change (KW always; KWP
        // only when configured, i.e. after its known-answer test passed).
        let mut mechanisms = vec![self.cfg.wrap_mechanism];
        if self.cfg.wrap_mechanism == WrapMechanism::AesKeyWrapPad {
            mechanisms.push(WrapMechanism::AesKeyWrap);
        }
        self.with(|live, s| {
            let keys = Self::version_keys(live, version)?;
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Token(false),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ];
            let mut last = None;
            for m in &mechanisms {
                match s.unwrap_key(&Self::mechanism(*m), keys.mkek, wrapped, &template) {
                    Ok(handle) => {
                        let tmp = TempObject::new(s, handle);
                        let value = objects::read_value(s, tmp.handle)?;
                        let bytes: [u8; 32] = value
                            .as_slice()
                            .try_into()
                            .map_err(|_| CryptoError::KeyLength)?;
                        return Ok(Key256::from_bytes(bytes));
                    }
                    // SoftHSM2 answers a failed integrity check with CKR_GENERAL_ERROR: a token that still
                    // answers about the master KEK is present, so that is a bad wrapped key, not an outage.
                    Err(e @ CkError::Pkcs11(RvError::GeneralError, _))
                        if s.get_attributes(keys.mkek, &[AttributeType::Label]).is_ok() =>
                    {
                        last = Some(e)
                    }
                    Err(e) if is_connection_error(&e) => return Err(e.into()),
                    Err(e) => last = Some(e),
                }
            }
            match last {
                Some(CkError::Pkcs11(
                    RvError::GeneralError
                    | RvError::WrappedKeyInvalid
                    | RvError::WrappedKeyLenRange
                    | RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange,
                    _,
                ))
                | None => Err(CryptoError::Integrity.into()),
                Some(e) => Err(e.into()),
            }
        })
    }

    fn mac(&self, version: u32, binding: &Binding) -> Result<Vec<u8>, CryptoError> {
        self.sign(version, binding.as_bytes())
    }

    /// Computes the MAC in the token and compares it here in constant time.
    fn verify_mac(&self, version: u32, binding: &Binding, mac: &[u8]) -> Result<bool, CryptoError> {
        let expected = self.sign(version, binding.as_bytes())?;
        Ok(constant_time_eq(&expected, mac))
    }

    fn versions(&self) -> Vec<u32> {
        read(&self.known).clone()
    }

    fn kcv(&self, version: u32) -> Result<[u8; 32], CryptoError> {
        let mac = self.sign(version, KCV_LABEL)?;
        mac.as_slice()
            .try_into()
            .map_err(|_| CryptoError::Format("the HSM's HMAC is not 32 bytes"))
    }

    fn add_version(&self) -> Result<u32, CryptoError> {
        let next = self.with(|_, s| {
            let found = objects::scan(s, &self.cfg.mkek_label, &self.cfg.hmac_label).map_err(
                |e| match e {
                    ScanError::Ck(e) => OpError::Ck(e),
                    ScanError::Keys(m) => OpError::Crypto(CryptoError::Unavailable(m)),
                },
            )?;
            let next = found.keys().next_back().copied().unwrap_or(0) + 1;
            objects::generate(s, &self.cfg.mkek_label, &self.cfg.hmac_label, next)
                .map_err(|e| OpError::Crypto(e.into_crypto()))?;
            Ok(next)
        })?;
        self.reload()?;
        Ok(next)
    }

    fn retire_version(&self, version: u32) -> Result<(), CryptoError> {
        self.reload()?;
        let newest = self.active_version();
        if version == newest {
            return Err(CryptoError::Unsupported(format!(
                "root key version {version} is the active one and cannot be retired"
            )));
        }
        self.with(|live, s| {
            let keys = read(&live.keys).get(&version).copied().ok_or_else(|| {
                CryptoError::Unsupported(format!("there is no root key version {version}"))
            })?;
            s.destroy_object(keys.mkek)?;
            s.destroy_object(keys.hmac)?;
            Ok(())
        })?;
        self.reload()
    }

    fn reload(&self) -> Result<(), CryptoError> {
        self.with(|live, s| {
            let keys = self.scan_raw(s).map_err(|e| match e {
                ScanError::Ck(e) => OpError::Ck(e),
                ScanError::Keys(m) => OpError::Crypto(CryptoError::Unavailable(m)),
            })?;
            *write(&live.keys) = keys;
            Ok(())
        })
    }
}
