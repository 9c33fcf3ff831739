//! The processes under test: the baseline and `arca server`, each started as a child that announces
//! `listening on http://ADDR`, with readings of its resident memory and CPU time from /proc.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running child server.
pub struct Running {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Running {
    /// Spawns `command` and waits for its `listening on` line.
    pub fn start(mut command: Command, what: &str) -> anyhow::Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .with_context(|| format!("{what} did not start"))?;
        Ok(Self { child, url })
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX))
    }

    /// Current and peak resident memory in bytes (VmRSS, VmHWM).
    pub fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        };
        Ok((field("VmRSS:").unwrap_or(0), field("VmHWM:").unwrap_or(0)))
    }

    /// The CPU time the server has used so far, user and system, over all its threads (`/proc/PID/stat`).
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        cpu_time_of(&stat, clock_ticks_per_second()?)
    }

    /// SIGTERM, then wait (SIGKILL after 20 s).
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = kill(self.pid(), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `arca` binary beside this one unless given.
pub fn arca_bin(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()?.with_file_name("arca"),
    };
    if !path.exists() {
        bail!(
            "{} does not exist: build it (`cargo build --release -p arca-cli`) or pass --arca-bin",
            path.display()
        );
    }
    Ok(path)
}

/// Runs an `arca` admin command and returns its last stdout line.
pub fn arca_last_line(bin: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()?;
    if !out.status.success() {
        bail!(
            "arca {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8(out.stdout)?;
    stdout
        .lines()
        .last()
        .map(str::to_owned)
        .context("no output")
}

/// Starts `arca server` on a fresh data directory under `work`; returns it with an admin token.
pub fn start_arca(
    bin: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<(Running, String)> {
    let dir = data_dir.to_str().context("data dir path is not UTF-8")?;
    let mut init = vec!["init", "--data-dir", dir, "--ttl", "7d"];
    if let Some(url) = database_url {
        init.extend(["--database-url", url]);
    }
    let token = arca_last_line(bin, &init)?;
    let mut command = Command::new(bin);
    command
        .args(["server", "--data-dir", dir])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("ARCA_API_LISTEN", "127.0.0.1:0")
        .env("ARCA_METRICS_LISTEN", "127.0.0.1:0")
        .env("ARCA_LOG", "warn");
    Ok((Running::start(command, "arca server")?, token))
}

/// Starts the baseline server (this binary's `baseline` subcommand).
pub fn start_baseline() -> anyhow::Result<Running> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("baseline");
    Running::start(command, "the baseline server")
}

/// The kernel's clock ticks per second, the unit of `/proc/PID/stat`'s times.
fn clock_ticks_per_second() -> anyhow::Result<u64> {
    let ticks =
        nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?.context("CLK_TCK is not known")?;
    u64::try_from(ticks)
        .ok()
        .filter(|t| *t > 0)
        .context("CLK_TCK is not positive")
}

/// `utime + stime` from a `/proc/PID/stat` line. The command name (field 2) is in parentheses and may hold
/// spaces or parentheses itself, so the fields are counted from the last `)`.
fn cpu_time_of(stat: &str, ticks_per_second: u64) -> anyhow::Result<Duration> {
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no command name in /proc/PID/stat")?;
    // After the name: state (field 3) … utime (field 14), stime (field 15).
    let mut fields = rest.split_whitespace().skip(11);
    let mut next = || -> anyhow::Result<u64> {
        Ok(fields
            .next()
            .context("/proc/PID/stat is too short")?
            .parse()?)
    };
    let ticks = next()? + next()?;
    Ok(Duration::from_micros(ticks * 1_000_000 / ticks_per_second))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn cpu_time_is_user_plus_system_after_the_name() {
        let stat =
            "4242 (arca (x) y) S 1 4242 4242 0 -1 4194304 10 0 0 0 250 75 0 0 20 0 6 0 100 0 0";
        assert_eq!(
            super::cpu_time_of(stat, 100).unwrap(),
            Duration::from_millis(3250)
        );
        assert!(super::cpu_time_of("4242 (arca) S 1", 100).is_err());
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let spent = super::cpu_time_of(&stat, super::clock_ticks_per_second().unwrap()).unwrap();
        let busy_until = std::time::Instant::now() + Duration::from_millis(30);
        while std::time::Instant::now() < busy_until {}
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let later = super::cpu_time_of(&stat, super::clock_ticks_per_second().unwrap()).unwrap();
        assert!(later > spent, "{spent:?} then {later:?}");
    }
}
