//! The audit log's outputs and `arca audit verify`. Every record the services append is also written as one JSON
//! line (with `seq` and `mac`) to `[audit] file` (relative to the data directory, mode 0600, appended) and/or
//! standard output, for a SIEM. `verify` opens the data directory (the audit key is unwrapped through the root
//! key) and checks the whole chain in the database.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use arca_core::{AuditSink, Services};

use crate::cli::AuditVerifyArgs;
use crate::config::ArcaConfig;
use crate::open::{config_path, open};

/// Appends lines to the audit file.
struct FileSink {
    file: Mutex<File>,
}

impl AuditSink for FileSink {
    fn emit(&self, line: &str) {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = writeln!(file, "{line}") {
            tracing::error!(error = %e, "cannot write the audit file");
        }
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
        services = services.with_audit_sink(Arc::new(FileSink {
            file: Mutex::new(file),
        }));
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
