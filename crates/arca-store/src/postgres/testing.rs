//! Test support (not for production use): [`TempPostgres`], a real PostgreSQL 15 server in a temporary
//! directory for the PostgreSQL store's tests and the integration suite. It runs the server binaries of the Debian
//! `postgresql-15` package (`/usr/lib/postgresql/15/bin`, else the newest `/usr/lib/postgresql/N/bin`, or the
//! directory in `ARCA_PG_BIN`), as the `postgres` user when the tests run as root (initdb refuses root), with
//! `fsync=off`, listening on 127.0.0.1 only, and can stop and start the server for outage tests. Everything is
//! synchronous (a few subprocesses); the server is stopped and its directory removed on drop.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the PostgreSQL 15 server binaries are (see [`default_bin`]), unless `ARCA_PG_BIN` says otherwise.
const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throwaway PostgreSQL server (test support): `initdb` in a temporary directory, `pg_ctl start` on a free port
/// of 127.0.0.1 with the role `arca` trusted (no password). Stopped and removed on drop.
#[derive(Debug)]
pub struct TempPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl TempPostgres {
    /// Creates and starts a server. Panics (with what to install) if the PostgreSQL binaries are missing, or if
    /// the server cannot be set up: this is for tests.
    pub fn new() -> TempPostgres {
        let bin = std::env::var_os("ARCA_PG_BIN").map_or_else(default_bin, PathBuf::from);
        for tool in ["initdb", "pg_ctl", "createdb"] {
            assert!(
                bin.join(tool).is_file(),
                "TempPostgres: {} not found: install PostgreSQL 15 (Debian: `apt-get install -y postgresql`, which \
                 provides /usr/lib/postgresql/15/bin) or set ARCA_PG_BIN to its bin directory",
                bin.join(tool).display()
            );
        }
        // initdb refuses to run as root: then the server runs as `postgres`, which must own the directory.
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "arca-pg-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("TempPostgres: creating {}: {e}", dir.display()));
        let pg = TempPostgres {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            pg.run_plain(Command::new("chown").arg("postgres").arg(&pg.dir), "chown");
        }
        let data = pg.data();
        pg.run("initdb", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-U", "arca", "-A", "trust", "--no-sync", "-E", "UTF8"]);
        });
        // The port was free a moment ago; another process may have taken it since: try a few.
        let mut pg = pg;
        for attempt in 1.. {
            match pg.try_start() {
                Ok(()) => break,
                Err(e) if attempt < 5 => {
                    eprintln!(
                        "TempPostgres: port {} failed ({e}); trying another",
                        pg.port
                    );
                    pg.port = free_port();
                }
                Err(e) => panic!("{e}"),
            }
        }
        pg
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the `postgres` database, as the role `arca`.
    pub fn url(&self) -> String {
        format!("postgres://arca@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates a fresh, empty database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run_plain(
            Command::new(self.bin.join("createdb")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "arca",
                name,
            ]),
            "createdb",
        );
        format!("postgres://arca@127.0.0.1:{}/{name}", self.port)
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start(&self) {
        self.try_start().unwrap_or_else(|e| panic!("{e}"));
    }

    fn try_start(&self) -> Result<(), String> {
        let data = self.data();
        let log = self.dir.join("log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.try_run("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-o", &opts, "start"]);
        })
    }

    /// Stops the server at once (`pg_ctl -m immediate`): open connections break, as in a crash.
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"]);
        });
    }

    /// Stops the server at once and starts it again (same port, same data).
    pub fn restart(&self) {
        self.stop();
        self.start();
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs a server binary (as `postgres` when we are root); panics with its output if it fails.
    fn run(&self, tool: &str, args: impl FnOnce(&mut Command)) {
        self.try_run(tool, args).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Runs a server binary (as `postgres` when we are root); its output as the error if it fails.
    fn try_run(&self, tool: &str, args: impl FnOnce(&mut Command)) -> Result<(), String> {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        };
        args(&mut cmd);
        self.try_run_plain(&mut cmd, tool)
    }

    fn run_plain(&self, cmd: &mut Command, what: &str) {
        self.try_run_plain(cmd, what)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    fn try_run_plain(&self, cmd: &mut Command, what: &str) -> Result<(), String> {
        let out = cmd
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("TempPostgres: running {what}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "TempPostgres: {what} failed ({}): {}{}\nserver log: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        ))
    }

    /// The temporary directory (data directory, socket, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Default for TempPostgres {
    /// [`TempPostgres::new`].
    fn default() -> TempPostgres {
        TempPostgres::new()
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        // Already stopped is fine: ignore the outcome.
        let _ = cmd
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `/usr/lib/postgresql/15/bin`, or else the newest `/usr/lib/postgresql/N/bin` installed (a Debian release with
/// another major version).
fn default_bin() -> PathBuf {
    let preferred = PathBuf::from(DEFAULT_BIN);
    if preferred.join("initdb").is_file() {
        return preferred;
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major);
    newest.map_or(preferred, |(_, bin)| bin)
}

/// A port on 127.0.0.1 free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("TempPostgres: finding a free port: {e}"))
}
