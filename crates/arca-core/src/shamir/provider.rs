//! `ShamirRoot`: the sealable root key provider. Sealed, it holds only `root.sealed`'s public parts and every
//! keyed operation fails with `CryptoError::Unavailable`; shares arrive one by one (each checked against its
//! digest, duplicates refused, pending shares zeroized and dropped after `PENDING_TIMEOUT`); the M-th rebuilds
//! the unseal key, which is checked against the key check value in constant time and unwraps the root key
//! versions. Sealing drops every key. Rotation (`add_version`) wraps the new version under the unseal key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use arca_crypto::{
    Binding, CryptoError, Key256, constant_time_eq, hkdf_sha256, hmac_sha256, hmac_sha256_verify,
};
use uuid::Uuid;

use super::sealed::{SealedFile, rk_binding};
use super::split::{RawShare, check_threshold, combine, split};
use super::{SealStatus, Sealable, ShareFormatError, UnsealShare};
use crate::RootKeyProvider;
use crate::root_key::{KCV_LABEL, MAC_LABEL, WRAP_ALG_AES_GCM, WRAP_LABEL};

/// Pending shares are forgotten this long after the first one arrived.
pub const PENDING_TIMEOUT: Duration = Duration::from_secs(600);

/// The message of every keyed operation while sealed.
pub fn sealed_message(threshold: u8, shares: u8) -> String {
    format!(
        "Arca is sealed: unseal it with `arca unseal --share FILE` ({threshold} of {shares} shares)"
    )
}

/// The message every sealed operation answers, with M and N as placeholders.
pub const SEALED_MESSAGE: &str =
    "Arca is sealed: unseal it with `arca unseal --share FILE` (M of N shares)";

/// Why a share was refused. The messages say nothing about key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareRefused {
    /// The text is not a share file, or it was damaged.
    #[error("{0}")]
    Format(#[from] ShareFormatError),
    /// The share belongs to another deployment (or another split of this one).
    #[error("this share belongs to another Arca deployment")]
    Foreign,
    /// The share is not one of the shares made for this deployment.
    #[error("this share is not valid for this deployment")]
    Wrong,
    /// A share with this index is already pending.
    #[error("share {0} was already given: give a different custodian's share")]
    Duplicate(u8),
    /// The shares did not rebuild the unseal key (the sealed file or a share was tampered with).
    #[error("the shares did not unseal Arca: start again with {0} shares")]
    Failed(u8),
    /// The sealed file could not be read.
    #[error("{0}")]
    Unavailable(String),
}

struct RootKeys {
    wrap: Key256,
    mac: Key256,
}

impl RootKeys {
    fn derive(rk: &Key256) -> Result<Self, CryptoError> {
        Ok(Self {
            wrap: hkdf_sha256(rk.expose(), &[], &[WRAP_LABEL])?,
            mac: hkdf_sha256(rk.expose(), &[], &[MAC_LABEL])?,
        })
    }
}

struct Unsealed {
    unseal_key: Key256,
    versions: BTreeMap<u32, Arc<RootKeys>>,
}

#[derive(Default)]
struct Pending {
    shares: Vec<RawShare>,
    started: Option<Instant>,
}

/// The `shamir` root key provider over `DIR/root.sealed`.
pub struct ShamirRoot {
    path: PathBuf,
    meta: RwLock<SealedFile>,
    keys: RwLock<Option<Unsealed>>,
    pending: Mutex<Pending>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn kcv_of(unseal_key: &Key256) -> [u8; 32] {
    hmac_sha256(unseal_key.expose(), &[KCV_LABEL])
}

/// Unwraps every root key version of `file` under `unseal_key`.
fn unwrap_all(
    file: &SealedFile,
    unseal_key: &Key256,
) -> Result<BTreeMap<u32, Arc<RootKeys>>, CryptoError> {
    let mut versions = BTreeMap::new();
    for (version, wrapped) in &file.wrapped {
        let rk = arca_crypto::unwrap_key(
            unseal_key,
            &rk_binding(&file.deployment_id, *version),
            wrapped,
        )
        .map_err(|_| {
            CryptoError::Unavailable(format!(
                "root key version {version} in root.sealed does not open under the unseal key"
            ))
        })?;
        versions.insert(*version, Arc::new(RootKeys::derive(&rk)?));
    }
    Ok(versions)
}

impl ShamirRoot {
    /// Creates `path` (refusing to overwrite it) with a fresh unseal key, deployment id and root key version 1,
    /// and returns the provider, unsealed, with the N shares to hand to custodians.
    pub fn create(
        path: &Path,
        threshold: u8,
        shares: u8,
    ) -> Result<(Self, Vec<UnsealShare>), CryptoError> {
        check_threshold(threshold, shares)?;
        let unseal_key = Key256::generate()?;
        let deployment_id = Uuid::new_v4();
        let raw = split(&unseal_key, threshold, shares)?;
        let made: Vec<UnsealShare> = raw
            .into_iter()
            .map(|(index, value)| UnsealShare {
                deployment_id,
                threshold,
                shares,
                index,
                value,
            })
            .collect();
        let mut file = SealedFile {
            deployment_id,
            threshold,
            shares,
            kcv: kcv_of(&unseal_key),
            digests: made.iter().map(|s| (s.index, s.digest())).collect(),
            wrapped: BTreeMap::new(),
        };
        file.put_version(&unseal_key, 1, &Key256::generate()?)?;
        file.create(path)?;
        let versions = unwrap_all(&file, &unseal_key)?;
        let root = Self {
            path: path.to_path_buf(),
            meta: RwLock::new(file),
            keys: RwLock::new(Some(Unsealed {
                unseal_key,
                versions,
            })),
            pending: Mutex::new(Pending::default()),
        };
        Ok((root, made))
    }

    /// Opens `path`, sealed.
    pub fn open(path: &Path) -> Result<Self, CryptoError> {
        let file = SealedFile::read(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            meta: RwLock::new(file),
            keys: RwLock::new(None),
            pending: Mutex::new(Pending::default()),
        })
    }

    /// The deployment these shares belong to.
    pub fn deployment_id(&self) -> Uuid {
        self.meta().deployment_id
    }

    fn meta(&self) -> SealedFile {
        self.meta
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn sealed_error(&self) -> CryptoError {
        let meta = self
            .meta
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        CryptoError::Unavailable(sealed_message(meta.threshold, meta.shares))
    }

    fn keys(&self, version: u32) -> Result<Arc<RootKeys>, CryptoError> {
        let guard = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let unsealed = guard.as_ref().ok_or_else(|| self.sealed_error())?;
        unsealed
            .versions
            .get(&version)
            .cloned()
            .ok_or(CryptoError::Format("unknown root key version"))
    }

    /// Applies `change` to the file under the unseal key, rewrites it atomically and reloads.
    fn rewrite(
        &self,
        change: impl FnOnce(&mut SealedFile, &Key256) -> Result<(), CryptoError>,
    ) -> Result<(), CryptoError> {
        {
            let guard = self
                .keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let unsealed = guard.as_ref().ok_or_else(|| self.sealed_error())?;
            let mut file = SealedFile::read(&self.path)?;
            change(&mut file, &unsealed.unseal_key)?;
            file.replace(&self.path)?;
        }
        self.reload()
    }

    /// Rebuilds the unseal key from `shares`, checks it and unwraps the root keys.
    fn unseal_with(&self, shares: &[RawShare]) -> Result<(), CryptoError> {
        let unseal_key = combine(shares)?;
        let file = SealedFile::read(&self.path)?;
        if !constant_time_eq(&kcv_of(&unseal_key), &file.kcv) {
            return Err(CryptoError::Format("key check value mismatch"));
        }
        let versions = unwrap_all(&file, &unseal_key)?;
        *self
            .meta
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = file;
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Unsealed {
            unseal_key,
            versions,
        });
        Ok(())
    }
}

impl Sealable for ShamirRoot {
    fn seal_status(&self) -> SealStatus {
        let meta = self
            .meta
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let sealed = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none();
        let mut pending = lock(&self.pending);
        if pending
            .started
            .is_some_and(|t| t.elapsed() >= PENDING_TIMEOUT)
        {
            *pending = Pending::default();
        }
        SealStatus {
            sealed,
            threshold: meta.threshold,
            shares: meta.shares,
            progress: if sealed {
                pending.shares.len() as u8
            } else {
                0
            },
        }
    }

    fn submit_share(&self, text: &str) -> Result<SealStatus, ShareRefused> {
        let share = UnsealShare::parse(text)?;
        let meta = self.meta();
        if share.deployment_id != meta.deployment_id
            || share.threshold != meta.threshold
            || share.shares != meta.shares
        {
            return Err(ShareRefused::Foreign);
        }
        let known = meta
            .digests
            .get(&share.index)
            .is_some_and(|d| constant_time_eq(d, &share.digest()));
        if !known {
            return Err(ShareRefused::Wrong);
        }
        if !self.seal_status().sealed {
            return Ok(self.seal_status());
        }
        let mut pending = lock(&self.pending);
        if pending
            .started
            .is_some_and(|t| t.elapsed() >= PENDING_TIMEOUT)
        {
            *pending = Pending::default();
        }
        if pending.shares.iter().any(|(i, _)| *i == share.index) {
            return Err(ShareRefused::Duplicate(share.index));
        }
        pending.started.get_or_insert_with(Instant::now);
        pending.shares.push((share.index, share.value));
        let complete = (pending.shares.len() >= usize::from(meta.threshold))
            .then(|| std::mem::take(&mut *pending));
        drop(pending);
        if let Some(taken) = complete
            && let Err(e) = self.unseal_with(&taken.shares)
        {
            tracing::error!(error = %e, "unsealing failed although every share matched its digest");
            return Err(match e {
                CryptoError::Unavailable(why) => ShareRefused::Unavailable(why),
                _ => ShareRefused::Failed(meta.threshold),
            });
        }
        Ok(self.seal_status())
    }

    fn seal(&self) {
        *lock(&self.pending) = Pending::default();
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

impl RootKeyProvider for ShamirRoot {
    fn active_version(&self) -> u32 {
        self.versions().last().copied().unwrap_or(1)
    }

    fn wrap_alg(&self) -> u8 {
        WRAP_ALG_AES_GCM
    }

    fn wrap(&self, version: u32, binding: &Binding, key: &Key256) -> Result<Vec<u8>, CryptoError> {
        arca_crypto::wrap_key(&self.keys(version)?.wrap, binding, key)
    }

    fn unwrap(
        &self,
        version: u32,
        binding: &Binding,
        wrapped: &[u8],
    ) -> Result<Key256, CryptoError> {
        arca_crypto::unwrap_key(&self.keys(version)?.wrap, binding, wrapped)
    }

    fn mac(&self, version: u32, binding: &Binding) -> Result<Vec<u8>, CryptoError> {
        Ok(hmac_sha256(self.keys(version)?.mac.expose(), &[binding.as_bytes()]).to_vec())
    }

    fn verify_mac(&self, version: u32, binding: &Binding, mac: &[u8]) -> Result<bool, CryptoError> {
        Ok(hmac_sha256_verify(
            self.keys(version)?.mac.expose(),
            &[binding.as_bytes()],
            mac,
        ))
    }

    fn versions(&self) -> Vec<u32> {
        self.meta
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .wrapped
            .keys()
            .copied()
            .collect()
    }

    /// `HMAC(RK, "arca/v1/kcv")`, computed as the file provider does (from the MAC key).
    fn kcv(&self, version: u32) -> Result<[u8; 32], CryptoError> {
        Ok(hmac_sha256(self.keys(version)?.mac.expose(), &[KCV_LABEL]))
    }

    fn add_version(&self) -> Result<u32, CryptoError> {
        let mut added = 0;
        self.rewrite(|file, unseal_key| {
            added = file.wrapped.keys().next_back().copied().unwrap_or(0) + 1;
            file.put_version(unseal_key, added, &Key256::generate()?)
        })?;
        Ok(added)
    }

    fn retire_version(&self, version: u32) -> Result<(), CryptoError> {
        self.rewrite(|file, _| {
            let newest = file.wrapped.keys().next_back().copied().unwrap_or(0);
            if version == newest {
                return Err(CryptoError::Unsupported(format!(
                    "root key version {version} is the active one and cannot be retired"
                )));
            }
            if file.wrapped.remove(&version).is_none() {
                return Err(CryptoError::Unsupported(format!(
                    "there is no root key version {version}"
                )));
            }
            Ok(())
        })
    }

    fn reload(&self) -> Result<(), CryptoError> {
        let mut guard = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let unsealed = guard.as_mut().ok_or_else(|| self.sealed_error())?;
        let file = SealedFile::read(&self.path)?;
        if file.deployment_id != self.meta().deployment_id
            || !constant_time_eq(&kcv_of(&unsealed.unseal_key), &file.kcv)
        {
            return Err(CryptoError::Unavailable(
                "root.sealed now belongs to another deployment: restart Arca".into(),
            ));
        }
        unsealed.versions = unwrap_all(&file, &unsealed.unseal_key)?;
        *self
            .meta
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = file;
        Ok(())
    }

    fn sealable(&self) -> Option<&dyn Sealable> {
        Some(self)
    }
}
