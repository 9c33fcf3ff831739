//! `arca secret-store list|migrate`: the configured secret stores with the payloads each holds, and moving
//! payloads between them on a data directory (offline, or while servers run on it), with progress (a bar on a
//! terminal, log lines otherwise). An interrupted migration is finished by running it again.

use std::sync::Mutex;

use anyhow::Context;

use crate::cli::{SecretStoreListArgs, SecretStoreMigrateArgs};
use crate::open::{config_path, open};
use crate::progress::Progress;

/// `arca secret-store list`: one line per configured store.
pub async fn list(args: SecretStoreListArgs) -> anyhow::Result<()> {
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let migration = dir.services.store_migration();
    for store in dir.services.payloads.stores().all() {
        let held = migration.pending(store.config_name(), None).await?;
        println!(
            "{} {} plugin={} payloads={}{}",
            store.config_name(),
            store.record.id,
            store.plugin,
            held,
            if store.record.global_default {
                " global_default"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// `arca secret-store migrate`.
pub async fn migrate(args: SecretStoreMigrateArgs) -> anyhow::Result<()> {
    crate::serve::init_logging();
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let migration = dir.services.store_migration();
    let shown: Mutex<Option<Progress>> = Mutex::new(None);
    let progress = |done: u64, total: u64| {
        let mut shown = shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bar = shown.get_or_insert_with(|| Progress::start("moving payloads", total));
        let seen = bar.done();
        bar.advance(done.saturating_sub(seen));
    };
    let result = migration
        .run(
            &args.from,
            &args.to,
            args.project.as_deref(),
            args.batch,
            &progress,
        )
        .await;
    if let Some(bar) = shown
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        bar.finish();
    }
    dir.services.audit.flush().await;
    let report = result.with_context(|| {
        format!(
            "the migration from '{}' to '{}' did not finish; run it again to resume",
            args.from, args.to
        )
    })?;
    println!(
        "moved {} payloads from '{}' to '{}' ({} changed meanwhile and were left alone, {} source objects destroyed)",
        report.moved, args.from, args.to, report.skipped, report.destroyed
    );
    Ok(())
}
