//! The audit log's outputs and `arca audit verify`. Every record the services append is also written as one JSON
//! line (with `seq` and `mac`) to `[audit] file` (relative to the data directory, mode 0600, appended) and/or
//! standard output, for a SIEM. `verify` opens the data directory (the audit key is unwrapped through the root
//! key) and checks the whole chain in the database.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, bail};
use arca_core::{AuditSink, Services};

use crate::cli::AuditVerifyArgs;
use crate::config::ArcaConfig;
use crate::open::{config_path, open};

/// What the audit file's thread is asked to do.
enum FileSinkMsg {
    Line(String),
    /// Write out everything before this, then answer.
    Flush(mpsc::SyncSender<()>),
}

/// Appends lines to the audit file from a thread of its own (`arca-audit-file`), so no request waits for the
/// write: every couple of milliseconds the thread writes whatever has arrived through a buffer and flushes it.
/// The database holds every record anyway; the file is a copy for a SIEM.
struct FileSink {
    lines: Mutex<mpsc::Sender<FileSinkMsg>>,
}

impl FileSink {
    fn start(file: File, path: &Path) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let shown = path.display().to_string();
        std::thread::Builder::new()
            .name("arca-audit-file".into())
            .spawn(move || write_lines(file, &rx, &shown))
            .context("cannot start the audit file thread")?;
        Ok(Self {
            lines: Mutex::new(tx),
        })
    }

    fn send(&self, msg: FileSinkMsg) {
        let sender = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sender.send(msg).is_err() {
            tracing::error!("the audit file thread has stopped");
        }
    }
}

/// The audit file thread: runs until the sink is dropped. Every `SYNC_EVERY` bytes it also syncs the file, so
/// the kernel never holds hundreds of megabytes of it to write back at once: such a burst made the database's
/// own fsyncs wait behind it (a p99 of 90 ms on KMS operations half a minute after heavy auditing).
fn write_lines(file: File, rx: &mpsc::Receiver<FileSinkMsg>, shown: &str) {
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let failed = |e: std::io::Error| tracing::error!(error = %e, file = shown, "cannot write the audit file");
    let mut unsynced = 0usize;
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                FileSinkMsg::Line(line) => {
                    unsynced += line.len() + 1;
                    if let Err(e) = out
                        .write_all(line.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                    {
                        failed(e);
                    }
                }
                FileSinkMsg::Flush(done) => {
                    if let Err(e) = out.flush().and_then(|()| out.get_ref().sync_data()) {
                        failed(e);
                    }
                    unsynced = 0;
                    let _ = done.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        if let Err(e) = out.flush() {
            failed(e);
        }
        if unsynced >= SYNC_EVERY {
            match out.get_ref().sync_data() {
                Ok(()) => metrics::counter!("arca_audit_file_syncs_total").increment(1),
                Err(e) => failed(e),
            }
            unsynced = 0;
        }
        // Let lines gather instead of being woken for each one (a wake-up per audited request showed as task
        // switches in the profiles); a line reaches the file within this long.
        std::thread::sleep(COALESCE);
    }
}

/// How long the audit file thread lets lines gather between writes.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(2);
/// Bytes written to the audit file between two syncs of it.
const SYNC_EVERY: usize = 1 << 20;

impl Drop for FileSink {
    /// A command that ends (or a server that stops) leaves every line it emitted in the file.
    fn drop(&mut self) {
        AuditSink::flush(self);
    }
}

impl AuditSink for FileSink {
    fn emit(&self, line: &str) {
        self.send(FileSinkMsg::Line(line.to_owned()));
    }

    fn flush(&self) {
        let (done, written) = mpsc::sync_channel(1);
        self.send(FileSinkMsg::Flush(done));
        let _ = written.recv();
    }
}

/// Writes lines to standard output.
struct StdoutSink;

impl AuditSink for StdoutSink {
    fn emit(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// `services` with the sinks `[audit]` configures.
pub fn with_sinks(
    services: Services,
    config: &ArcaConfig,
    data_dir: &Path,
) -> anyhow::Result<Services> {
    let mut services = services;
    if let Some(name) = config
        .audit
        .file
        .as_ref()
        .filter(|f| !f.as_os_str().is_empty())
    {
        let path = data_dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open the audit file {}", path.display()))?;
        services = services.with_audit_sink(Arc::new(FileSink::start(file, &path)?));
    }
    if config.audit.stdout {
        services = services.with_audit_sink(Arc::new(StdoutSink));
    }
    Ok(services)
}

/// `arca audit verify`.
pub async fn verify(args: AuditVerifyArgs) -> anyhow::Result<()> {
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    match dir
        .services
        .audit
        .verify()
        .await
        .context("cannot read the audit chain")?
    {
        Ok(count) => {
            println!("audit chain OK: {count} records");
            Ok(())
        }
        Err(broken) => bail!(
            "audit chain broken at record {}: {}",
            broken.seq,
            broken.reason
        ),
    }
}
