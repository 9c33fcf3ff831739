//! `arca backup` and `arca restore`. A backup is one file (`backup_file`): a manifest naming the KCV of every
//! root key version the database references, row counts and the snapshot's SHA-256, MACed by the root of
//! trust, followed by a consistent snapshot of the database taken while the server keeps serving (payloads stay
//! sealed; the root key is never in it). A restore goes into an empty data directory that may already hold the
//! operator's root of trust (root.key, arca.toml): it checks every KCV, the MAC and the digest before writing
//! anything, then writes the database, a default arca.toml if none, and opens the result (integrity check,
//! migrations, system keys unwrapped, counts compared).

use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use arca_core::RootKeyProvider;
use arca_store::SqliteStore;

use crate::backup_file::{
    BackupReader, FORMAT, Manifest, RootKeyCheck, SnapshotInfo, header, mac_binding, sha256_hex,
};
use crate::cli::{BackupArgs, RestoreArgs};
use crate::config::{self, DEFAULT_CONFIG};
use crate::open::{config_path, open};
use crate::progress::Progress;
use crate::root::open_root;
use crate::secure_file::{PendingFile, hex, write_new};

/// What a restore may find already in its data directory: the root of trust the operator supplied.
const ALLOWED_BEFORE_RESTORE: [&str; 2] = ["root.key", "arca.toml"];
/// Progress is counted in pages of this size while bytes are copied.
const PAGE: u64 = 4096;

/// Removes a scratch file when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

/// Progress and warnings go to standard error as log lines (`ARCA_LOG` filters them, default info).
/// Also sets umask 077: SQLite creates the snapshot and its journal under it.
fn log_to_stderr() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `arca backup`/`restore` snapshot and restore the SQLite file: a deployment whose data is in PostgreSQL
/// (`[database] url` or `ARCA_DATABASE_URL`) is refused, saying what to use instead.
fn refuse_postgres(config: &config::ArcaConfig, command: &str) -> anyhow::Result<()> {
    if let Some(url) = config.database.postgres_url() {
        bail!(
            "{command} works on the SQLite database file; this deployment keeps its data in PostgreSQL ({}): \
             back that up with PostgreSQL's tools (pg_dump, base backups), and the root of trust with \
             `arca root export`",
            config::redact_url(url)
        );
    }
    Ok(())
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    log_to_stderr();
    let data_dir = &args.data_dir;
    let config = config::load(&config_path(data_dir))?;
    refuse_postgres(&config, "arca backup")?;
    let root = open_root(&config, data_dir)?;
    let db = config.database_path(data_dir);
    let mut out = PendingFile::create(&args.out, 0o600)?;
    let snapshot_path = out.tmp_path().with_extension("snapshot");
    let _ = std::fs::remove_file(&snapshot_path);
    let scratch = Scratch(snapshot_path.clone());

    let mut progress: Option<Progress> = None;
    SqliteStore::snapshot(&db, &snapshot_path, &mut |done, total| {
        let p = progress.get_or_insert_with(|| Progress::start("backing up (pages)", total));
        p.advance(done.saturating_sub(p.done()));
    })
    .with_context(|| format!("cannot snapshot {}", db.display()))?;
    if let Some(p) = progress {
        p.finish();
    }
    std::fs::set_permissions(&snapshot_path, std::fs::Permissions::from_mode(0o600))?;

    let facts = SqliteStore::snapshot_facts(&snapshot_path)?;
    let mac_rk_version = root.active_version();
    let mut versions = facts.rk_versions.clone();
    versions.push(mac_rk_version);
    versions.sort_unstable();
    versions.dedup();
    let root_keys = versions
        .iter()
        .map(|&version| {
            let kcv = root.kcv(version).with_context(|| {
                format!(
                    "the database references root key version {version}, which the root of trust here \
                     does not hold"
                )
            })?;
            Ok(RootKeyCheck {
                version,
                kcv: hex(&kcv),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (sha256, bytes) = sha256_hex(std::fs::File::open(&snapshot_path)?)?;
    let manifest = Manifest {
        format: FORMAT,
        created: now_rfc3339(),
        arca_version: env!("CARGO_PKG_VERSION").to_owned(),
        root_keys,
        mac_rk_version,
        counts: facts.counts.clone(),
        snapshot: SnapshotInfo {
            bytes,
            sha256,
            schema_version: facts.schema_version,
        },
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    let mac = root
        .mac(mac_rk_version, &mac_binding(&manifest_bytes))
        .context("the root of trust cannot MAC the manifest")?;

    let file = out.file();
    file.write_all(&header(&manifest_bytes, &mac))?;
    std::io::copy(
        &mut std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&snapshot_path)?),
        file,
    )
    .with_context(|| format!("cannot write {}", args.out.display()))?;
    out.commit()?;
    drop(scratch);

    println!(
        "backup {}: {} bytes of database (schema {}), sha256 {}",
        args.out.display(),
        manifest.snapshot.bytes,
        manifest.snapshot.schema_version,
        manifest.snapshot.sha256
    );
    let counts: Vec<String> = manifest
        .counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("contents: {}", counts.join(", "));
    for rk in &manifest.root_keys {
        println!("needs root key version {} (KCV {})", rk.version, rk.kcv);
    }
    Ok(())
}

/// "root key version 1 with KCV ab…, version 2 with KCV cd…".
fn describe_needed(manifest: &Manifest) -> String {
    let parts: Vec<String> = manifest
        .root_keys
        .iter()
        .map(|rk| format!("root key version {} with KCV {}", rk.version, rk.kcv))
        .collect();
    format!("this backup was made under {}", parts.join(", "))
}

/// Refuses a data directory holding anything but the operator's root of trust.
fn check_empty(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut extra = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !ALLOWED_BEFORE_RESTORE.contains(&name.as_str()) {
            extra.push(name);
        }
    }
    if !extra.is_empty() {
        extra.sort();
        bail!(
            "{} is not empty (it holds {}): restore only into a new data directory, which may hold \
             nothing but the root of trust (root.key, arca.toml)",
            dir.display(),
            extra.join(", ")
        );
    }
    Ok(())
}

/// Every KCV the manifest names must match the root of trust here.
fn check_root_keys(root: &Arc<dyn RootKeyProvider>, manifest: &Manifest) -> anyhow::Result<()> {
    for rk in &manifest.root_keys {
        let here = root.kcv(rk.version).ok().map(|k| hex(&k));
        if here.as_deref() != Some(rk.kcv.as_str()) {
            let have: Vec<String> = root
                .versions()
                .iter()
                .map(|v| {
                    let kcv = root.kcv(*v).map(|k| hex(&k)).unwrap_or_default();
                    format!("version {v} with KCV {kcv}")
                })
                .collect();
            bail!(
                "this backup was made under root key version {} with KCV {}; the root of trust here does \
                 not match (it holds {}): supply the root key the backup was made with (copy its root.key, \
                 or `arca root import` its export) and rerun",
                rk.version,
                rk.kcv,
                if have.is_empty() {
                    "no version".to_owned()
                } else {
                    have.join(", ")
                }
            );
        }
    }
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    log_to_stderr();
    let dir = &args.data_dir;
    let mut reader = BackupReader::open(&args.from)?;
    let manifest = reader.manifest.clone();
    check_empty(dir)?;
    let config = config::load(&config_path(dir))?;
    refuse_postgres(&config, "arca restore")?;
    let root = open_root(&config, dir).map_err(|e| {
        anyhow::anyhow!(
            "{}; no root of trust could be opened in {} ({e:#}): supply it first (copy the deployment's \
             root.key there with mode 0400, or `arca root import` its export) and rerun",
            describe_needed(&manifest),
            dir.display()
        )
    })?;

    // Everything is checked before anything is written.
    check_root_keys(&root, &manifest)?;
    let mac_ok = root
        .verify_mac(
            manifest.mac_rk_version,
            &mac_binding(&reader.manifest_bytes),
            &reader.mac,
        )
        .unwrap_or(false);
    if !mac_ok {
        bail!(
            "{}: the manifest's MAC does not verify under root key version {}: the file was altered or \
             was not made by this root of trust",
            args.from.display(),
            manifest.mac_rk_version
        );
    }
    let len = reader.snapshot_len();
    let (sha, n) = sha256_hex(reader.snapshot()?.take(len))?;
    if n != manifest.snapshot.bytes || sha != manifest.snapshot.sha256 {
        bail!(
            "{}: the database snapshot does not match the SHA-256 in its manifest: the file is damaged \
             or was altered",
            args.from.display()
        );
    }

    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let db = config.database_path(dir);
    let mut pending = PendingFile::create(&db, 0o600)?;
    {
        let mut progress = Progress::start("restoring (pages)", len.div_ceil(PAGE));
        let mut src = reader.snapshot()?.take(len);
        let mut buf = vec![0u8; 64 * PAGE as usize];
        loop {
            let got = src.read(&mut buf)?;
            if got == 0 {
                break;
            }
            pending.file().write_all(&buf[..got])?;
            progress.advance((got as u64).div_ceil(PAGE));
        }
        progress.finish();
    }
    pending.file().sync_all()?;
    SqliteStore::integrity_check(pending.tmp_path())?;
    pending.commit()?;
    let facts = SqliteStore::snapshot_facts(&db)?;
    for (name, want) in &manifest.counts {
        let got = facts.counts.get(name).copied().unwrap_or(0);
        if got != *want {
            bail!("the restored database has {got} {name}, the manifest says {want}");
        }
    }
    let config_file = config_path(dir);
    if !config_file.exists() {
        write_new(&config_file, 0o600, DEFAULT_CONFIG.as_bytes())?;
    }

    // The result opens: migrations apply, the system keys unwrap under this root of trust.
    let opened = open(dir, &config_file).await.with_context(|| {
        format!(
            "the restored data directory {} does not open",
            dir.display()
        )
    })?;
    drop(opened);
    println!(
        "restored {} into {} (backup of {}): {}",
        args.from.display(),
        dir.display(),
        manifest.created,
        manifest
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
