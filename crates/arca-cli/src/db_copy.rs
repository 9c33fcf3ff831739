//! `arca db copy`: a deployment's SQLite database into an empty PostgreSQL database, offline, then verified row
//! by row (`--verify-only` compares again without copying). Progress per table on standard error; the target
//! URL may come from ARCA_DATABASE_URL so that a password stays off the command line.

use std::path::PathBuf;

use anyhow::{Context, bail};
use arca_store::{PostgresOptions, PostgresStore};

use crate::cli::DbCopyArgs;
use crate::config::redact_url;

/// `arca db copy`.
pub async fn copy(args: DbCopyArgs) -> anyhow::Result<()> {
    crate::serve::init_logging();
    let source = PathBuf::from(args.from.strip_prefix("sqlite:").unwrap_or(&args.from));
    if !source.is_file() {
        bail!("--from {}: no SQLite database there", source.display());
    }
    let url = match args.to.clone() {
        Some(url) => url,
        None => std::env::var("ARCA_DATABASE_URL")
            .context("give the target as --to postgres://… or in ARCA_DATABASE_URL")?,
    };
    let url = url
        .strip_prefix("postgres:postgres")
        .map_or(url.clone(), |rest| format!("postgres{rest}"));
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("--to must be a postgres:// URL");
    }
    let shown = redact_url(&url);
    let target = PostgresStore::connect(&url, PostgresOptions::default())
        .await
        .with_context(|| format!("cannot open the PostgreSQL database {shown}"))?;
    let mut progress = |table: &str, rows: u64| {
        tracing::debug!(table, rows, "copied");
    };
    if !args.verify_only {
        let copied = arca_store::copy_sqlite_to_postgres(&source, &target, &mut progress)
            .await
            .with_context(|| format!("the copy into {shown} failed; nothing was written"))?;
        eprintln!(
            "copied {} rows in {} tables from {} to {shown}",
            copied.rows(),
            copied.tables.len(),
            source.display()
        );
    }
    let verified = arca_store::verify_sqlite_against_postgres(&source, &target, &mut progress)
        .await
        .with_context(|| format!("{shown} does not match {}", source.display()))?;
    for (table, rows) in &verified.tables {
        eprintln!("  {table}: {rows} rows identical");
    }
    println!(
        "verified {} rows in {} tables: {shown} matches {} row for row",
        verified.rows(),
        verified.tables.len(),
        source.display()
    );
    if !args.verify_only {
        println!(
            "next: set [database] url = \"{shown}\" in arca.toml (or ARCA_DATABASE_URL) and start the server"
        );
    }
    target.close().await;
    Ok(())
}
