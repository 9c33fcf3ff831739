//! Running wrk with the parametric scenario script (`bench/lua/scenario.lua`, embedded) and reading the
//! `BENCH_JSON` line its `done()` prints.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

const SCRIPT: &str = include_str!("../lua/scenario.lua");

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct Measured {
    pub requests: u64,
    pub duration_us: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub status_errors: u64,
    pub socket_errors: u64,
    /// The server's CPU time (user + system, every thread) during the measurement, when it was read.
    #[serde(default)]
    pub server_cpu_us: Option<u64>,
}

impl Measured {
    /// The server's CPU time per request in µs: what a request costs, whatever else the machine was doing.
    pub fn server_us_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu_us?;
        (self.requests > 0).then(|| cpu as f64 / self.requests as f64)
    }

    /// Requests per second.
    pub fn rps(&self) -> f64 {
        if self.duration_us == 0 {
            0.0
        } else {
            self.requests as f64 * 1e6 / self.duration_us as f64
        }
    }
}

/// The scheduling policy wrk runs under (`--wrk-scheduling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scheduling {
    /// `SCHED_BATCH` (`chrt -b 0`): a woken wrk thread waits for the running thread's time slice instead of
    /// preempting it.
    Batch,
    /// `SCHED_OTHER`, as any process.
    Normal,
}

impl Scheduling {
    /// The policy's name, as the report prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Batch => "SCHED_BATCH (chrt -b 0)",
            Self::Normal => "SCHED_OTHER",
        }
    }

    /// The command that starts wrk under this policy.
    fn command(self) -> Command {
        match self {
            Self::Batch => {
                let mut chrt = Command::new("chrt");
                chrt.args(["-b", "0", "wrk"]);
                chrt
            }
            Self::Normal => Command::new("wrk"),
        }
    }
}

/// Writes the embedded script into `dir` and returns its path.
pub fn install_script(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("scenario.lua");
    std::fs::write(&path, SCRIPT)?;
    Ok(path)
}

/// How wrk is run: its connections and its scheduling policy.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: u32,
    pub scheduling: Scheduling,
}

/// Runs wrk against `url` for `duration` with `load`, passing `args` to the script.
pub fn run(
    script: &Path,
    url: &str,
    load: Load,
    duration: Duration,
    args: &[String],
) -> anyhow::Result<Measured> {
    let connections = load.connections;
    let threads = 2u32.min(connections.max(1));
    // ARCA_BENCH_TRACE=1 prints every failed response (slower: for finding out why a scenario fails).
    let trace = std::env::var_os("ARCA_BENCH_TRACE").is_some();
    let out = load
        .scheduling
        .command()
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--timeout")
        .arg("10s")
        .arg("-s")
        .arg(script)
        .arg(url)
        .arg("--")
        .arg(format!("threads={threads}"))
        .args(args)
        .args(trace.then_some("trace_errors=1"))
        .output()
        .context(
            "cannot run wrk (Debian package `wrk`; bench/run installs it) or chrt (util-linux)",
        )?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if trace {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    if !out.status.success() {
        let hint = match load.scheduling {
            Scheduling::Batch => {
                "\n(wrk runs under `chrt -b 0`; where SCHED_BATCH cannot be set, pass --wrk-scheduling normal)"
            }
            Scheduling::Normal => "",
        };
        bail!(
            "wrk failed: {}{}{hint}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCH_JSON "))
        .with_context(|| format!("wrk printed no result line:\n{stdout}"))?;
    Ok(serde_json::from_str(line)?)
}

#[cfg(test)]
mod tests {
    use super::Scheduling;

    fn command_line(scheduling: Scheduling) -> Vec<String> {
        let command = scheduling.command();
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|part| part.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn batch_scheduling_starts_wrk_under_chrt() {
        assert_eq!(command_line(Scheduling::Batch), ["chrt", "-b", "0", "wrk"]);
        assert_eq!(command_line(Scheduling::Normal), ["wrk"]);
    }
}
