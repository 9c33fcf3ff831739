//! `arca report expiring|orphans`: offline reports on the data directory, as a table or a JSON array.
//! `expiring` lists secrets whose expiration falls within `--within` from now (expired ones not yet destroyed
//! included); `orphans` lists secrets that never expire (the quarterly review). Metadata only, never a payload.

use anyhow::Context;
use arca_core::SecretRecord;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::{ReportArgs, ReportExpiringArgs};
use crate::duration::parse_duration;
use crate::open::{config_path, open};

pub async fn expiring(args: ReportExpiringArgs) -> anyhow::Result<()> {
    let within = parse_duration(&args.within).context("--within")?;
    let dir = open(&args.common.data_dir, &config_path(&args.common.data_dir)).await?;
    let secrets = dir
        .services
        .expiry()
        .expiring(within)
        .await
        .context("cannot list expiring secrets")?;
    print_report(&secrets, args.common.json, "EXPIRATION", |s| s.expiration)
}

pub async fn orphans(args: ReportArgs) -> anyhow::Result<()> {
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let secrets = dir
        .services
        .expiry()
        .orphans()
        .await
        .context("cannot list secrets without expiration")?;
    print_report(&secrets, args.json, "CREATED", |s| Some(s.created))
}

fn timestamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn print_report(
    secrets: &[SecretRecord],
    json: bool,
    time_column: &str,
    time_of: impl Fn(&SecretRecord) -> Option<OffsetDateTime>,
) -> anyhow::Result<()> {
    if json {
        let rows: Vec<serde_json::Value> = secrets
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id.to_string(),
                    "project": s.project_id,
                    "name": s.name,
                    "secret_type": s.secret_type.as_str(),
                    "creator": s.creator_id,
                    "expiration": s.expiration.map(timestamp),
                    "created": timestamp(s.created),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let rows: Vec<[String; 4]> = secrets
        .iter()
        .map(|s| {
            [
                s.id.to_string(),
                s.project_id.clone(),
                s.name
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect(),
                time_of(s).map(timestamp).unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "ID".to_owned(),
        "PROJECT".to_owned(),
        "NAME".to_owned(),
        time_column.to_owned(),
    ];
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    if rows.is_empty() {
        println!("(none)");
    }
    Ok(())
}
