//! Writing the files that hold backups and keys: created beside their final name under a temporary name that
//! must not exist (mode chosen by the caller, 0600 or 0400), fsynced, renamed over the final name only when
//! complete, then the directory fsynced — a crash leaves either no file or the whole file. Also the mode check
//! for files that carry a secret (`--passphrase-file`), and hex for the values the commands print.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// A file being written under a temporary name; removed on drop unless `commit` renamed it into place.
pub struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

impl PendingFile {
    /// Starts writing `dest` (which must not exist) with `mode`.
    pub fn create(dest: &Path, mode: u32) -> anyhow::Result<Self> {
        if dest.exists() {
            bail!(
                "{} already exists: refusing to overwrite it (remove it or choose another name)",
                dest.display()
            );
        }
        let name = dest
            .file_name()
            .with_context(|| format!("{} names no file", dest.display()))?;
        let tmp = dest.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
        let _ = std::fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(file),
        })
    }

    /// The temporary path being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// The open file.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("open until commit")
    }

    /// Fsyncs, renames into place (refusing if the destination appeared meanwhile) and fsyncs the directory.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let file = self.file.take().expect("open until commit");
        file.sync_all()
            .with_context(|| format!("cannot sync {}", self.tmp.display()))?;
        drop(file);
        if self.dest.exists() {
            bail!(
                "{} appeared while it was being written: refusing to overwrite it",
                self.dest.display()
            );
        }
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("cannot rename to {}", self.dest.display()))?;
        sync_dir(&self.dest)
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.file.is_some() || self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Fsyncs the directory holding `path`.
pub fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the directory {}", dir.display()))
}

/// Writes a whole new file `dest` with `mode` atomically.
pub fn write_new(dest: &Path, mode: u32, bytes: &[u8]) -> anyhow::Result<()> {
    let mut pending = PendingFile::create(dest, mode)?;
    pending
        .file()
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    pending.commit()
}

/// Refuses a file holding a secret when group or others can access it.
pub fn check_private(path: &Path) -> anyhow::Result<()> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        bail!(
            "{} has mode {mode:04o}: group or others can read it; fix it with `chmod 0400 {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first line of a private file holding a secret (a password), refused when group or others can read it
/// or when it is empty. The text is zeroized when the caller drops it.
pub fn read_secret_text(path: &Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    check_private(path)?;
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let line = zeroize::Zeroizing::new(text.lines().next().unwrap_or("").trim().to_owned());
    if line.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(line)
}
