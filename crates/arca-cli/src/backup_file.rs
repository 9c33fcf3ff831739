//! The backup file format: `"ARCA-BACKUP\n" ‖ u8 format ‖ lp(manifest JSON) ‖ lp(mac) ‖ snapshot` (lp = u32
//! big-endian length, then the bytes; the snapshot runs to the end of the file). The manifest names the KCV of
//! every root key version the snapshot's wrapped keys reference and the SHA-256 of the snapshot; the MAC is the
//! root of trust's `mac` under version `mac_rk_version` over `"arca/v1/backup" ‖ u8 format ‖ lp(manifest)`, so
//! it covers the whole file and proves which root of trust made it without holding any key.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::{Context, bail};
use arca_crypto::Binding;
use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};

/// The file's first bytes.
pub const MAGIC: &[u8] = b"ARCA-BACKUP\n";
/// The one format this build writes and reads.
pub const FORMAT: u8 = 1;
/// A manifest is small; anything larger is not one of ours.
const MAX_MANIFEST: u32 = 1 << 20;
const MAX_MAC: u32 = 1024;

/// One root key version a backup needs, with its key check value (not secret).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RootKeyCheck {
    pub version: u32,
    /// Hex of the 32-byte KCV.
    pub kcv: String,
}

/// The snapshot's size and digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotInfo {
    pub bytes: u64,
    /// Hex SHA-256 of the snapshot bytes.
    pub sha256: String,
    /// SQLite schema version (newest migration) of the snapshot.
    pub schema_version: i64,
}

/// What a backup holds and what it needs to be restored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u8,
    /// RFC 3339, UTC.
    pub created: String,
    /// The Arca version that wrote it.
    pub arca_version: String,
    /// Every root key version referenced (and the one the MAC is under), ascending.
    pub root_keys: Vec<RootKeyCheck>,
    /// The root key version the MAC is made with.
    pub mac_rk_version: u32,
    /// Row counts (secrets, projects, kms_keys, tokens, audit_records, …).
    pub counts: BTreeMap<String, u64>,
    pub snapshot: SnapshotInfo,
}

/// The bytes the root of trust MACs.
pub fn mac_binding(manifest: &[u8]) -> Binding {
    Binding::new()
        .raw(b"arca/v1/backup")
        .u8(FORMAT)
        .lp(manifest)
}

/// The header written before the snapshot.
pub fn header(manifest: &[u8], mac: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + 9 + manifest.len() + mac.len());
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    for part in [manifest, mac] {
        out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// A backup file opened for reading: its manifest (raw and parsed), MAC, and where the snapshot starts.
pub struct BackupReader {
    file: File,
    pub manifest_bytes: Vec<u8>,
    pub manifest: Manifest,
    pub mac: Vec<u8>,
    snapshot_offset: u64,
    snapshot_len: u64,
}

fn read_lp(r: &mut impl Read, max: u32, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)
        .with_context(|| format!("truncated before the {what}"))?;
    let len = u32::from_be_bytes(len);
    if len > max {
        bail!("the {what} length {len} is implausible");
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)
        .with_context(|| format!("truncated in the {what}"))?;
    Ok(buf)
}

impl BackupReader {
    /// Opens `path` and parses its header; nothing is verified yet.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let not_backup = || format!("{} is not an Arca backup file", path.display());
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let total = file.metadata()?.len();
        let mut r = BufReader::new(&file);
        let mut magic = [0u8; MAGIC.len() + 1];
        r.read_exact(&mut magic).with_context(not_backup)?;
        if &magic[..MAGIC.len()] != MAGIC {
            bail!(not_backup());
        }
        if magic[MAGIC.len()] != FORMAT {
            bail!(
                "{} is backup format {}; this build reads format {FORMAT}",
                path.display(),
                magic[MAGIC.len()]
            );
        }
        let manifest_bytes = read_lp(&mut r, MAX_MANIFEST, "manifest").with_context(not_backup)?;
        let mac = read_lp(&mut r, MAX_MAC, "MAC").with_context(not_backup)?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .with_context(|| format!("{}: the manifest is not valid", path.display()))?;
        let snapshot_offset = (MAGIC.len() + 1 + 8 + manifest_bytes.len() + mac.len()) as u64;
        drop(r);
        Ok(Self {
            file,
            manifest_bytes,
            manifest,
            mac,
            snapshot_offset,
            snapshot_len: total.saturating_sub(snapshot_offset),
        })
    }

    /// The snapshot's length in the file.
    pub fn snapshot_len(&self) -> u64 {
        self.snapshot_len
    }

    /// A reader over the snapshot bytes, from their start.
    pub fn snapshot(&mut self) -> anyhow::Result<impl Read + '_> {
        self.file.seek(SeekFrom::Start(self.snapshot_offset))?;
        Ok(BufReader::with_capacity(1 << 20, &self.file))
    }
}

/// Hex SHA-256 of everything `r` yields.
pub fn sha256_hex(mut r: impl Read) -> anyhow::Result<(String, u64)> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let got = r.read(&mut buf)?;
        if got == 0 {
            break;
        }
        ctx.update(&buf[..got]);
        n += got as u64;
    }
    Ok((crate::secure_file::hex(ctx.finish().as_ref()), n))
}
