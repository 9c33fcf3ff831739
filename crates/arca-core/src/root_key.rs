//! The root of trust seam (`RootKeyProvider`) and its `file` implementation: `root.key` holds versioned
//! 256-bit root keys, one `<version> <base64>` line each, mode 0400, refused when group or others can read
//! or write it. The root key is never used directly: only keys derived from it (CRYPTO.md labels) wrap and
//! authenticate KEKs.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use arca_crypto::{Binding, CryptoError, Key256, hkdf_sha256, hmac_sha256, hmac_sha256_verify};
use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

pub(crate) const WRAP_LABEL: &[u8] = b"arca/v1/rk/wrap";
pub(crate) const MAC_LABEL: &[u8] = b"arca/v1/rk/pkek-mac";
pub(crate) const KCV_LABEL: &[u8] = b"arca/v1/kcv";

/// Wrap algorithm id stored per row: AES-256-GCM under the derived wrap key, the MAC input as associated data.
pub const WRAP_ALG_AES_GCM: u8 = 1;

/// A root of trust: wraps, unwraps and authenticates keys under a versioned root key it never releases.
pub trait RootKeyProvider: Send + Sync + 'static {
    /// The version new wraps use.
    fn active_version(&self) -> u32;
    /// The wrap algorithm id this provider writes.
    fn wrap_alg(&self) -> u8;
    /// Wraps `key` under root key `version`, bound to `binding`.
    fn wrap(&self, version: u32, binding: &Binding, key: &Key256) -> Result<Vec<u8>, CryptoError>;
    /// Unwraps a key wrapped by `wrap`.
    fn unwrap(
        &self,
        version: u32,
        binding: &Binding,
        wrapped: &[u8],
    ) -> Result<Key256, CryptoError>;
    /// The row MAC under root key `version`.
    fn mac(&self, version: u32, binding: &Binding) -> Result<Vec<u8>, CryptoError>;
    /// Verifies a row MAC in constant time.
    fn verify_mac(&self, version: u32, binding: &Binding, mac: &[u8]) -> Result<bool, CryptoError>;
    /// Every version this provider can use, ascending.
    fn versions(&self) -> Vec<u32>;
    /// The key check value of `version` (not secret): `HMAC(RK, "arca/v1/kcv")` for providers that derive from
    /// a root key; an HSM's HMAC key over the same label otherwise. Backups and unsealing use it to prove a key
    /// is the right one.
    fn kcv(&self, version: u32) -> Result<[u8; 32], CryptoError>;
    /// Creates a new root key version, persists it durably, makes it the active one and returns it.
    fn add_version(&self) -> Result<u32, CryptoError>;
    /// Removes `version` from the persisted keys; never the active one. The caller has made sure nothing is
    /// wrapped under it any more.
    fn retire_version(&self, version: u32) -> Result<(), CryptoError>;
    /// Re-reads the persisted versions: another process (`arca root rotate`) may have added or retired one.
    fn reload(&self) -> Result<(), CryptoError>;
    /// The seal controls of a root of trust that can be sealed at run time (Shamir custody); `None` otherwise.
    fn sealable(&self) -> Option<&dyn crate::Sealable> {
        None
    }
}

/// Why `root.key` could not be used. Messages name the file and the fix, never key bytes.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyFileError {
    /// The file's mode lets group or others read or write it.
    #[error(
        "{path} has mode {mode:04o}: group or others can access the root key; fix it with `chmod 0400 {path}`"
    )]
    TooOpen {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The file exists where a new one should be created.
    #[error("{0} already exists: refusing to overwrite a root key")]
    Exists(String),
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's content is not a root key file.
    #[error(
        "{0} is not a valid root key file (expected lines of `<version> <base64 of 32 bytes>`)"
    )]
    Malformed(String),
    /// Generating a key failed.
    #[error("could not generate a root key: {0}")]
    Crypto(#[from] CryptoError),
}

struct DerivedKeys {
    wrap: Key256,
    mac: Key256,
}

/// The `file` root key provider. Versions are re-read from the file by `reload`, so a running server learns
/// what `arca root rotate` wrote.
pub struct FileRootKey {
    path: PathBuf,
    versions: RwLock<BTreeMap<u32, Arc<DerivedKeys>>>,
}

impl FileRootKey {
    /// Creates `path` with one fresh root key (version 1), mode 0400; refuses if it exists.
    pub fn create(path: &Path) -> Result<(), RootKeyFileError> {
        let key = Key256::generate()?;
        let line = Zeroizing::new(format!("1 {}\n", Base64::encode_string(key.expose())));
        write_new(path, &line)
    }

    /// Opens `path`, refusing it when group or others have any access.
    pub fn open(path: &Path) -> Result<Self, RootKeyFileError> {
        let versions = Self::read(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            versions: RwLock::new(versions),
        })
    }

    fn read(path: &Path) -> Result<BTreeMap<u32, Arc<DerivedKeys>>, RootKeyFileError> {
        let text = read_checked(path)?;
        Self::parse(&text).ok_or_else(|| RootKeyFileError::Malformed(path.display().to_string()))
    }

    /// Replaces the file with `text`: a new file beside it (0400), fsynced, renamed over it, directory fsynced.
    fn replace(&self, text: &str) -> Result<(), RootKeyFileError> {
        let tmp = self.path.with_extension("key.new");
        let _ = std::fs::remove_file(&tmp);
        write_new(&tmp, text)?;
        std::fs::rename(&tmp, &self.path).map_err(|source| RootKeyFileError::Io {
            path: self.path.display().to_string(),
            source,
        })?;
        sync_parent(&self.path)
    }
}

/// The file's text, refusing it when group or others have any access.
pub(crate) fn read_checked(path: &Path) -> Result<Zeroizing<String>, RootKeyFileError> {
    let display = path.display().to_string();
    let io = |source| RootKeyFileError::Io {
        path: display.clone(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(RootKeyFileError::TooOpen {
            path: display,
            mode,
        });
    }
    Ok(Zeroizing::new(std::fs::read_to_string(path).map_err(io)?))
}

pub(crate) fn sync_parent(path: &Path) -> Result<(), RootKeyFileError> {
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| RootKeyFileError::Io {
                path: dir.display().to_string(),
                source,
            })?;
    }
    Ok(())
}

/// Writes `text` to a file that must not exist yet (mode 0400), fsyncs it and its directory.
pub(crate) fn write_new(path: &Path, text: &str) -> Result<(), RootKeyFileError> {
    {
        let display = path.display().to_string();
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    RootKeyFileError::Exists(display.clone())
                } else {
                    RootKeyFileError::Io {
                        path: display.clone(),
                        source: e,
                    }
                }
            })?;
        let io = |source| RootKeyFileError::Io {
            path: display.clone(),
            source,
        };
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    sync_parent(path)
}

impl FileRootKey {
    fn parse(text: &str) -> Option<BTreeMap<u32, Arc<DerivedKeys>>> {
        let mut versions = BTreeMap::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (version, encoded) = line.split_once(' ')?;
            let version: u32 = version.parse().ok().filter(|v| *v > 0)?;
            let mut raw = Zeroizing::new([0u8; 32]);
            let decoded = Base64::decode(encoded.trim(), &mut raw[..]).ok()?;
            if decoded.len() != 32 {
                return None;
            }
            let rk = Key256::from_bytes(*raw);
            let derived = DerivedKeys {
                wrap: hkdf_sha256(rk.expose(), &[], &[WRAP_LABEL]).ok()?,
                mac: hkdf_sha256(rk.expose(), &[], &[MAC_LABEL]).ok()?,
            };
            versions.insert(version, Arc::new(derived));
        }
        (!versions.is_empty()).then_some(versions)
    }

    fn keys(&self, version: u32) -> Result<Arc<DerivedKeys>, CryptoError> {
        self.versions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&version)
            .cloned()
            .ok_or(CryptoError::Format("unknown root key version"))
    }

    fn file_error(e: RootKeyFileError) -> CryptoError {
        CryptoError::Unavailable(format!("the root key file: {e}"))
    }
}

impl RootKeyProvider for FileRootKey {
    fn active_version(&self) -> u32 {
        self.versions().last().copied().unwrap_or(1)
    }

    fn versions(&self) -> Vec<u32> {
        self.versions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// `HMAC(RK, "arca/v1/kcv")`, derived here from the MAC key so the RK itself is not kept in memory.
    fn kcv(&self, version: u32) -> Result<[u8; 32], CryptoError> {
        Ok(hmac_sha256(self.keys(version)?.mac.expose(), &[KCV_LABEL]))
    }

    fn add_version(&self) -> Result<u32, CryptoError> {
        let text = read_checked(&self.path).map_err(Self::file_error)?;
        let current = Self::parse(&text).ok_or_else(|| {
            Self::file_error(RootKeyFileError::Malformed(self.path.display().to_string()))
        })?;
        let next = current.keys().next_back().copied().unwrap_or(0) + 1;
        let key = Key256::generate()?;
        let mut new_text = Zeroizing::new(text.trim_end().to_owned());
        new_text.push_str(&format!(
            "\n{next} {}\n",
            Base64::encode_string(key.expose())
        ));
        self.replace(&new_text).map_err(Self::file_error)?;
        self.reload()?;
        Ok(next)
    }

    fn retire_version(&self, version: u32) -> Result<(), CryptoError> {
        let text = read_checked(&self.path).map_err(Self::file_error)?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let newest = Self::parse(&text)
            .and_then(|v| v.keys().next_back().copied())
            .unwrap_or(0);
        if version == newest {
            return Err(CryptoError::Unsupported(format!(
                "root key version {version} is the active one and cannot be retired"
            )));
        }
        let prefix = format!("{version} ");
        let kept: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with(&prefix))
            .collect();
        if kept.len() == lines.len() {
            return Err(CryptoError::Unsupported(format!(
                "there is no root key version {version}"
            )));
        }
        let mut new_text = Zeroizing::new(kept.join("\n"));
        new_text.push('\n');
        self.replace(&new_text).map_err(Self::file_error)?;
        self.reload()
    }

    fn reload(&self) -> Result<(), CryptoError> {
        let versions = Self::read(&self.path).map_err(Self::file_error)?;
        *self
            .versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = versions;
        Ok(())
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
}

/// Where `root.key` lives in a data directory.
pub fn root_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("root.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_open_and_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        FileRootKey::create(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o400
        );
        assert!(matches!(
            FileRootKey::create(&path),
            Err(RootKeyFileError::Exists(_))
        ));
        let rk = FileRootKey::open(&path).unwrap();
        assert_eq!(rk.active_version(), 1);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o440)).unwrap();
        let err = FileRootKey::open(&path).err().unwrap().to_string();
        assert!(err.contains("0440") && err.contains("chmod 0400"), "{err}");
    }

    #[test]
    fn versions_are_added_retired_and_reloaded_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        FileRootKey::create(&path).unwrap();
        let rk = FileRootKey::open(&path).unwrap();
        let other = FileRootKey::open(&path).unwrap();
        let kcv1 = rk.kcv(1).unwrap();
        assert_eq!(rk.add_version().unwrap(), 2);
        assert_eq!((rk.versions(), rk.active_version()), (vec![1, 2], 2));
        assert_eq!(rk.kcv(1).unwrap(), kcv1, "version 1 is unchanged");
        assert_ne!(rk.kcv(2).unwrap(), kcv1);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o400
        );
        // Another process learns the new version on reload.
        assert_eq!(other.versions(), vec![1]);
        other.reload().unwrap();
        assert_eq!(other.versions(), vec![1, 2]);
        assert_eq!(other.kcv(2).unwrap(), rk.kcv(2).unwrap());
        assert!(rk.retire_version(2).is_err(), "the active version stays");
        rk.retire_version(1).unwrap();
        assert_eq!(rk.versions(), vec![2]);
        assert!(rk.kcv(1).is_err());
        assert!(rk.retire_version(1).is_err(), "already gone");
        assert!(!dir.path().join("root.key.new").exists());
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(FileRootKey::parse("").is_none());
        assert!(FileRootKey::parse("1 notbase64!").is_none());
        assert!(FileRootKey::parse("0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_none());
        assert!(FileRootKey::parse("1 AAAA").is_none());
        assert!(FileRootKey::parse("1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_some());
    }
}
