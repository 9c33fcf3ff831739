//! The results: one table (scenario, requests/s, p50, p99, ratio to the baseline, the server's CPU time per
//! request, target, verdict) on standard
//! output, and the same as JSON in `bench/results/` so runs can be compared.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::RunArgs;
use crate::scenarios::Scenario;
use crate::wrk::Measured;

/// Memory targets (resident set), from the issue.
const IDLE_RSS_LIMIT: u64 = 64 << 20;
const PEAK_RSS_LIMIT: u64 = 256 << 20;

/// One measured scenario.
#[derive(Debug, Serialize)]
pub struct Row {
    pub scenario: String,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub ratio: f64,
    pub min_ratio: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub errors: u64,
    pub measured: Measured,
    #[serde(skip)]
    judged: bool,
}

impl Row {
    /// A row for `scenario` (ratio filled in by the report).
    pub fn new(scenario: &Scenario, label: &str, measured: Measured) -> Self {
        Self {
            scenario: format!("{}{label}", scenario.name),
            rps: measured.rps(),
            p50_ms: measured.p50_us as f64 / 1000.0,
            p99_ms: measured.p99_us as f64 / 1000.0,
            ratio: 0.0,
            min_ratio: scenario.target.map(|t| t.min_ratio),
            max_p99_ms: scenario.target.and_then(|t| t.max_p99_ms),
            errors: measured.status_errors + measured.socket_errors,
            measured,
            judged: scenario.target.is_some(),
        }
    }

    fn met(&self) -> bool {
        self.errors == 0
            && self.min_ratio.is_none_or(|r| self.ratio >= r)
            && self.max_p99_ms.is_none_or(|p| self.p99_ms <= p)
    }
}

/// A whole run's results.
#[derive(Debug, Serialize)]
pub struct Report {
    pub started: String,
    pub git_commit: String,
    pub cpus: usize,
    pub connections: u32,
    /// How wrk's threads were scheduled (`batch`: `chrt -b 0`; `normal`).
    pub wrk_scheduling: crate::wrk::Scheduling,
    pub duration_s: u64,
    pub smoke: bool,
    /// `sqlite` or `postgresql`.
    pub store: &'static str,
    /// The baseline every ratio is to: the faster of the two measurements below.
    pub baseline: Measured,
    /// The baseline measured before Arca starts, and again after it stopped. A busy moment on a shared machine
    /// slows one of them; judging against the faster keeps such a moment from flattering the ratios.
    pub baseline_start: Measured,
    pub baseline_end: Option<Measured>,
    pub rows: Vec<Row>,
    pub idle_rss: u64,
    pub peak_rss: u64,
    pub secrets_at_end: u64,
    pub db_bytes_per_secret: f64,
}

/// `100k`, `1M` and the like.
pub fn count_label(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl Report {
    /// An empty report over `baseline`.
    pub fn new(args: &RunArgs, baseline: Measured) -> Self {
        let started = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Self {
            started,
            git_commit: git_commit(),
            cpus: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1),
            connections: args.connections,
            wrk_scheduling: args.wrk_scheduling,
            duration_s: args.measure().as_secs(),
            smoke: args.smoke,
            store: if args.database_url.is_some() {
                "postgresql"
            } else {
                "sqlite"
            },
            baseline,
            baseline_start: baseline,
            baseline_end: None,
            rows: Vec::new(),
            idle_rss: 0,
            peak_rss: 0,
            secrets_at_end: 0,
            db_bytes_per_secret: 0.0,
        }
    }

    /// Adds a row; its ratio is computed once both baselines are in (`close_baseline`).
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// Records the baseline measured again at the end, keeps the faster of the two as the one every ratio is
    /// to, and computes the ratios.
    pub fn close_baseline(&mut self, end: Measured) {
        if end.rps() > self.baseline.rps() {
            self.baseline = end;
        }
        self.baseline_end = Some(end);
        let base = self.baseline.rps();
        for row in &mut self.rows {
            row.ratio = if base > 0.0 { row.rps / base } else { 0.0 };
        }
    }

    /// Whether every judged row and the memory limits are met.
    pub fn all_targets_met(&self) -> bool {
        self.rows.iter().filter(|r| r.judged).all(Row::met)
            && self.idle_rss <= IDLE_RSS_LIMIT
            && self.peak_rss <= PEAK_RSS_LIMIT
    }

    /// Prints the table.
    pub fn print(&self) {
        let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
        println!(
            "store: {}; wrk scheduled as {}",
            self.store,
            self.wrk_scheduling.label()
        );
        // The server's CPU time per request: steadier than req/s on a shared machine, and what a profile divides.
        let cpu = |m: &Measured| {
            m.server_us_per_request()
                .map_or_else(|| "-".to_owned(), |us| format!("{us:.1}"))
        };
        println!(
            "{:<38} {:>10} {:>9} {:>9} {:>7} {:>9}  {:<18} verdict",
            "scenario", "req/s", "p50 ms", "p99 ms", "ratio", "server µs", "target"
        );
        let base = self.baseline.rps();
        let runs = [
            ("first", Some(&self.baseline_start)),
            ("last", self.baseline_end.as_ref()),
        ];
        for (when, b) in runs {
            let Some(b) = b else { continue };
            println!(
                "{:<38} {:>10.0} {:>9.2} {:>9.2} {:>7.2} {:>9}",
                format!("baseline: bare axum hello ({when})"),
                b.rps(),
                b.p50_us as f64 / 1000.0,
                b.p99_us as f64 / 1000.0,
                if base > 0.0 { b.rps() / base } else { 0.0 },
                cpu(b)
            );
        }
        for r in &self.rows {
            let target = match (r.min_ratio, r.max_p99_ms) {
                (Some(ratio), Some(p99)) => format!("≥{ratio:.2}, p99≤{p99}ms"),
                (Some(ratio), None) => format!("≥{ratio:.2}"),
                _ => String::new(),
            };
            let verdict = match (r.judged && !self.smoke, r.met()) {
                (_, false) if r.errors > 0 => format!("ERRORS ({})", r.errors),
                (false, _) => "-".to_owned(),
                (true, true) => "ok".to_owned(),
                (true, false) => "MISSED".to_owned(),
            };
            println!(
                "{:<38} {:>10.0} {:>9.2} {:>9.2} {:>7.2} {:>9}  {:<18} {verdict}",
                r.scenario,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.ratio,
                cpu(&r.measured),
                target
            );
        }
        let memory = |value: u64, limit: u64| if value <= limit { "ok" } else { "MISSED" };
        println!(
            "resident memory: idle {:.1} MiB (≤64: {}), peak {:.1} MiB (≤256: {})",
            mib(self.idle_rss),
            memory(self.idle_rss, IDLE_RSS_LIMIT),
            mib(self.peak_rss),
            memory(self.peak_rss, PEAK_RSS_LIMIT)
        );
        println!(
            "database: {:.0} bytes per stored secret ({} secrets at the end)",
            self.db_bytes_per_secret, self.secrets_at_end
        );
    }

    /// Writes the JSON results into `dir` and returns the file.
    pub fn write(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let stamp = self.started.replace(':', "-");
        let suffix = if self.smoke { "-smoke" } else { "" };
        let path = dir.join(format!("{stamp}{suffix}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(self)?)?;
        Ok(path)
    }
}
