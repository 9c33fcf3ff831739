//! `arca-bench`: Arca's benchmark harness. It starts a bare axum "hello" server as the baseline and a release
//! `arca server` on SQLite (or, with `--database-url`, PostgreSQL) with token auth and durable writes, drives every scenario with wrk (32 keep-alive
//! connections, a warm-up, then a fixed time), and prints one table of requests/s, p50, p99 and the ratio to the
//! baseline measured in the same run, plus memory and database bytes per secret. Results go to
//! `bench/results/<time>.json`.
#![forbid(unsafe_code)]

mod baseline;
mod load;
mod populate;
mod report;
mod scenarios;
mod server;
mod wrk;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Benchmark harness for Arca.
#[derive(Debug, Parser)]
#[command(name = "arca-bench")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bare axum baseline (used by the harness itself).
    Baseline,
}

/// How a run is shaped.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Seconds each scenario is measured.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up before each measurement.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub connections: u32,
    /// Secrets stored before the read and list scenarios.
    #[arg(long, default_value_t = 100_000)]
    pub population: u64,
    /// Also store 1,000,000 secrets and show that get and list latencies do not grow with the table.
    #[arg(long)]
    pub scale: bool,
    /// A quick check that the harness works (1 s scenarios, 2,000 secrets); no targets are judged.
    #[arg(long)]
    pub smoke: bool,
    /// Only run scenarios whose name contains this (several: comma-separated).
    #[arg(long)]
    pub only: Option<String>,
    /// The `arca` binary (default: beside this one).
    #[arg(long)]
    pub arca_bin: Option<PathBuf>,
    /// Where results are written.
    #[arg(long, default_value = "bench/results")]
    pub out: PathBuf,
    /// Where the data directory is made (it must be on a real disk for durable writes to mean anything).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Run Arca on this PostgreSQL database (an empty one, with fsync on) instead of SQLite
    /// (`bench/run --postgres` starts a local PostgreSQL 15 for it).
    #[arg(long)]
    pub database_url: Option<String>,
    /// How wrk's threads are scheduled. `batch` (the default) runs wrk under `chrt -b 0`, so a wrk thread woken by
    /// a response does not preempt the server thread that wrote it: the load generator then takes the CPU a
    /// remote client would not take from the server. `normal` runs wrk as an ordinary process (runs before
    /// 2026-11-23 did so). The baseline and every scenario are measured the same way in one run.
    #[arg(long, value_enum, default_value_t = wrk::Scheduling::Batch)]
    pub wrk_scheduling: wrk::Scheduling,
}

impl RunArgs {
    /// The measured duration of one scenario.
    pub fn measure(&self) -> Duration {
        Duration::from_secs(if self.smoke { 1 } else { self.duration })
    }

    /// The warm-up before one scenario.
    pub fn warm(&self) -> Duration {
        Duration::from_secs(if self.smoke { 0 } else { self.warmup })
    }

    /// How wrk is run.
    pub fn load(&self) -> wrk::Load {
        wrk::Load {
            connections: self.connections,
            scheduling: self.wrk_scheduling,
        }
    }

    /// How many secrets are stored before reads.
    pub fn population(&self) -> u64 {
        if self.smoke { 2_000 } else { self.population }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arca-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Baseline) => baseline::serve().await,
            None => load::run(cli.run).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
