//! `DIR/root.sealed`: what a Shamir deployment keeps on disk. Lines of text — the deployment id, M and N, the key
//! check value of the unseal key, one digest per share (to refuse a wrong or duplicate share on arrival) and
//! the root key versions wrapped under the unseal key (AES-256-GCM, the deployment and version in the
//! associated data). Mode 0400, refused when group or others can reach it, rewritten atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arca_crypto::{Binding, CryptoError, Key256};
use base64ct::{Base64, Encoding};
use uuid::Uuid;

use crate::root_key::{read_checked, sync_parent, write_new};

const HEADER: &str = "arca-root-sealed 1";

/// Where `root.sealed` lives in a data directory.
pub fn root_sealed_path(data_dir: &Path) -> PathBuf {
    data_dir.join("root.sealed")
}

/// Where `arca init` writes share `index` (1-based).
pub fn share_path(data_dir: &Path, index: u8) -> PathBuf {
    data_dir.join(format!("unseal-share-{index}"))
}

/// The parsed file. Nothing in it is secret without the unseal key.
#[derive(Clone)]
pub(crate) struct SealedFile {
    pub deployment_id: Uuid,
    pub threshold: u8,
    pub shares: u8,
    pub kcv: [u8; 32],
    pub digests: BTreeMap<u8, [u8; 32]>,
    pub wrapped: BTreeMap<u32, Vec<u8>>,
}

/// The associated data of root key `version` wrapped under the unseal key.
pub(crate) fn rk_binding(deployment_id: &Uuid, version: u32) -> Binding {
    Binding::new()
        .raw(b"arca/v1/root-sealed")
        .lp(deployment_id.as_bytes())
        .u32(version)
}

fn unavailable(path: &Path, what: impl std::fmt::Display) -> CryptoError {
    CryptoError::Unavailable(format!(
        "the sealed root key file {}: {what}",
        path.display()
    ))
}

fn decode32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    (Base64::decode(text, &mut out).ok()?.len() == 32).then_some(out)
}

impl SealedFile {
    /// Wraps `rk` as `version` under `unseal_key`.
    pub fn put_version(
        &mut self,
        unseal_key: &Key256,
        version: u32,
        rk: &Key256,
    ) -> Result<(), CryptoError> {
        let wrapped =
            arca_crypto::wrap_key(unseal_key, &rk_binding(&self.deployment_id, version), rk)?;
        self.wrapped.insert(version, wrapped);
        Ok(())
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{HEADER}\ndeployment {}\nthreshold {}\nshares {}\nkcv {}\n",
            self.deployment_id,
            self.threshold,
            self.shares,
            Base64::encode_string(&self.kcv)
        );
        for (index, digest) in &self.digests {
            out.push_str(&format!(
                "share {index} {}\n",
                Base64::encode_string(digest)
            ));
        }
        for (version, wrapped) in &self.wrapped {
            out.push_str(&format!(
                "rk {version} {}\n",
                Base64::encode_string(wrapped)
            ));
        }
        out
    }

    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next()? != HEADER {
            return None;
        }
        let mut file = SealedFile {
            deployment_id: Uuid::nil(),
            threshold: 0,
            shares: 0,
            kcv: [0; 32],
            digests: BTreeMap::new(),
            wrapped: BTreeMap::new(),
        };
        for line in lines {
            let mut words = line.split_whitespace();
            match (words.next()?, words.next()?, words.next()) {
                ("deployment", id, None) => file.deployment_id = id.parse().ok()?,
                ("threshold", m, None) => file.threshold = m.parse().ok()?,
                ("shares", n, None) => file.shares = n.parse().ok()?,
                ("kcv", kcv, None) => file.kcv = decode32(kcv)?,
                ("share", index, Some(digest)) => {
                    let index: u8 = index.parse().ok().filter(|i| *i > 0)?;
                    file.digests.insert(index, decode32(digest)?);
                }
                ("rk", version, Some(wrapped)) => {
                    let version: u32 = version.parse().ok().filter(|v| *v > 0)?;
                    file.wrapped
                        .insert(version, Base64::decode_vec(wrapped).ok()?);
                }
                _ => return None,
            }
        }
        let valid = !file.deployment_id.is_nil()
            && super::check_threshold(file.threshold, file.shares).is_ok()
            && file.digests.len() == usize::from(file.shares)
            && !file.wrapped.is_empty();
        valid.then_some(file)
    }

    /// Reads and checks `path` (mode: no access for group or others).
    pub fn read(path: &Path) -> Result<Self, CryptoError> {
        let text = read_checked(path).map_err(|e| CryptoError::Unavailable(e.to_string()))?;
        Self::parse(&text).ok_or_else(|| unavailable(path, "not a valid root.sealed file"))
    }

    /// Writes a new file; refuses to overwrite one.
    pub fn create(&self, path: &Path) -> Result<(), CryptoError> {
        write_new(path, &self.to_text()).map_err(|e| CryptoError::Unavailable(e.to_string()))
    }

    /// Replaces `path` atomically: a new file beside it (0400), fsynced, renamed over it, directory fsynced.
    pub fn replace(&self, path: &Path) -> Result<(), CryptoError> {
        let tmp = path.with_extension("sealed.new");
        let _ = std::fs::remove_file(&tmp);
        self.create(&tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| unavailable(path, e))?;
        sync_parent(path).map_err(|e| CryptoError::Unavailable(e.to_string()))
    }
}
