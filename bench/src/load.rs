//! One harness run: baseline first, then Arca through every scenario (before the population, after it, and
//! with `--scale` again at 1,000,000 secrets), then memory and database size, then the baseline once more (ratios
//! are to the faster of its two measurements), then the report.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::Connection;

use crate::report::{Report, Row, count_label};
use crate::scenarios::{Ids, KmsBench, SCENARIOS, Scenario, store_body};
use crate::server::{Running, arca_bin, start_arca, start_baseline};
use crate::wrk::{self, Measured};
use crate::{RunArgs, populate};

const SCALE_POPULATION: u64 = 1_000_000;
const POPULATE_CONCURRENCY: u64 = 64;
const SAMPLE_IDS: usize = 1_000;

struct Files<'a> {
    script: &'a Path,
    body: &'a Path,
    sample: &'a Path,
    consume: &'a Path,
}

fn wrk_args(s: &Scenario, token: &str, files: &Files<'_>) -> Vec<String> {
    let mut args = vec![
        format!("method={}", s.method),
        format!("path={}", s.path),
        format!("token={token}"),
    ];
    if let Some(accept) = s.accept {
        args.push(format!("accept={accept}"));
    }
    if s.store_body {
        args.push("content_type=application/json".into());
        args.push(format!("body={}", files.body.display()));
    }
    match s.ids {
        Ids::None => {}
        Ids::Sample => args.push(format!("ids={}", files.sample.display())),
        Ids::Consume => {
            args.push(format!("ids={}", files.consume.display()));
            args.push("pick=consume".into());
        }
    }
    args
}

/// Warms up (when asked), then measures `server` at `url` with wrk, reading the server's CPU time around the
/// measurement.
fn measure(
    script: &Path,
    server: &Running,
    url: &str,
    args: &[String],
    run: &RunArgs,
    warm: bool,
) -> anyhow::Result<Measured> {
    if warm && !run.warm().is_zero() {
        wrk::run(script, url, run.load(), run.warm(), args)?;
    }
    let before = server.cpu_time()?;
    let mut measured = wrk::run(script, url, run.load(), run.measure(), args)?;
    let spent = server.cpu_time()?.saturating_sub(before);
    measured.server_cpu_us = Some(u64::try_from(spent.as_micros()).unwrap_or(u64::MAX));
    Ok(measured)
}

/// Starts the bare axum baseline, measures it (with a warm-up) and stops it.
fn measure_baseline(script: &Path, run: &RunArgs) -> anyhow::Result<Measured> {
    let baseline = start_baseline()?;
    let url = format!("{}/", baseline.url);
    let measured = measure(
        script,
        &baseline,
        &url,
        &["method=GET".into(), "path=/".into()],
        run,
        true,
    )?;
    baseline.stop()?;
    Ok(measured)
}

async fn total_secrets(url: &str, token: &str) -> anyhow::Result<u64> {
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/v1/secrets?limit=1"))
        .header("X-Auth-Token", token)
        .send()
        .await?
        .json()
        .await?;
    page["total"].as_u64().context("list has no total")
}

/// Stores `count` more secrets, remembering their ids.
async fn grow_by(url: &str, token: &str, count: u64, ids: &mut Vec<String>) -> anyhow::Result<()> {
    eprintln!("storing {count} secrets…");
    let started = std::time::Instant::now();
    ids.extend(populate::store(url, token, count, POPULATE_CONCURRENCY).await?);
    eprintln!("  done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn write_ids(path: &Path, ids: &[String]) -> anyhow::Result<()> {
    std::fs::write(path, ids.join("\n") + "\n")?;
    Ok(())
}

fn sample(ids: &[String]) -> Vec<String> {
    let step = (ids.len() / SAMPLE_IDS).max(1);
    ids.iter().step_by(step).take(SAMPLE_IDS).cloned().collect()
}

/// Secrets stored and database bytes per secret: the SQLite file, or the PostgreSQL database's size.
async fn db_bytes_per_secret(
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<(u64, f64)> {
    if let Some(url) = database_url {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM secrets")
            .fetch_one(&mut conn)
            .await?;
        let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        let count = u64::try_from(count).unwrap_or(0);
        let per = if count == 0 {
            0.0
        } else {
            bytes as f64 / count as f64
        };
        return Ok((count, per));
    }
    let db = data_dir.join("arca.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM secrets")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    let bytes = std::fs::metadata(&db)?.len();
    let count = u64::try_from(count).unwrap_or(0);
    Ok((
        count,
        if count == 0 {
            0.0
        } else {
            bytes as f64 / count as f64
        },
    ))
}

/// The whole run.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let arca = arca_bin(args.arca_bin.as_deref())?;
    let work_root = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = tempfile::Builder::new()
        .prefix("arca-bench-")
        .tempdir_in(&work_root)?;
    let script = wrk::install_script(work.path())?;
    let files = Files {
        script: &script,
        body: &work.path().join("store.json"),
        sample: &work.path().join("sample.ids"),
        consume: &work.path().join("all.ids"),
    };
    std::fs::write(files.body, store_body())?;
    let wanted = |s: &Scenario| {
        args.only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|part| s.name.contains(part)))
    };

    eprintln!("baseline: bare axum hello…");
    let mut report = Report::new(&args, measure_baseline(&script, &args)?);

    let data_dir = work.path().join("data");
    let (server, token) = start_arca(&arca, &data_dir, args.database_url.as_deref())?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    report.idle_rss = server.memory()?.0;
    let kms = if SCENARIOS.iter().any(|s| s.kms.is_some() && wanted(s)) {
        Some(KmsBench::create(&arca, &data_dir, &server.url, work.path()).await?)
    } else {
        None
    };

    let run_one = |s: &Scenario, label: &str, server: &Running| -> anyhow::Result<Row> {
        eprintln!("{}{label}…", s.name);
        // A consuming scenario's warm-up would use up the ids its measurement needs.
        let warm = s.ids != Ids::Consume;
        let wrk_args = match (s.kms, &kms) {
            // Signed now: the signature stays valid for the whole warm-up and measurement.
            (Some(op), Some(kms)) => kms.wrk_args(op)?,
            _ => wrk_args(s, &token, &files),
        };
        let m = measure(files.script, server, &server.url, &wrk_args, &args, warm)?;
        Ok(Row::new(s, label, m))
    };

    for s in SCENARIOS
        .iter()
        .filter(|s| !s.after_population && wanted(s) && (s.kms.is_none() || kms.is_some()))
    {
        report.push(run_one(s, "", &server)?);
    }
    let mut ids = Vec::new();
    grow_by(&server.url, &token, args.population(), &mut ids).await?;
    write_ids(files.sample, &sample(&ids))?;
    let population_label = format!(
        " @{}",
        count_label(total_secrets(&server.url, &token).await?)
    );
    for s in SCENARIOS
        .iter()
        .filter(|s| s.after_population && s.scale && wanted(s))
    {
        report.push(run_one(s, &population_label, &server)?);
    }
    if args.scale && !args.smoke {
        let have = total_secrets(&server.url, &token).await?;
        grow_by(
            &server.url,
            &token,
            SCALE_POPULATION.saturating_sub(have),
            &mut ids,
        )
        .await?;
        let label = format!(
            " @{}",
            count_label(total_secrets(&server.url, &token).await?)
        );
        for s in SCENARIOS
            .iter()
            .filter(|s| s.after_population && s.scale && wanted(s))
        {
            report.push(run_one(s, &label, &server)?);
        }
    }
    let stored_label = format!(
        " @{}",
        count_label(total_secrets(&server.url, &token).await?)
    );
    write_ids(files.consume, &ids)?;
    for s in SCENARIOS
        .iter()
        .filter(|s| s.after_population && !s.scale && wanted(s))
    {
        report.push(run_one(s, &stored_label, &server)?);
    }
    report.peak_rss = server.memory()?.1;
    server.stop()?;
    let (count, per_secret) = db_bytes_per_secret(&data_dir, args.database_url.as_deref()).await?;
    report.secrets_at_end = count;
    report.db_bytes_per_secret = per_secret;
    eprintln!("baseline again: bare axum hello…");
    report.close_baseline(measure_baseline(&script, &args)?);

    report.print();
    let path = report.write(&args.out)?;
    eprintln!("results written to {}", path.display());
    if !args.smoke && !report.all_targets_met() {
        anyhow::bail!("some targets were missed (see the table)");
    }
    Ok(())
}
