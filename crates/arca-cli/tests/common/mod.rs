//! The one harness for `arca-cli`'s binary-level tests (`api_*.rs`, `compat.rs`, `lifecycle.rs`):
//! it runs the real `arca` binary and knows only its command-line and HTTP contract, never the
//! crates' Rust API.
//!
//! - Commands: [`arca`] is an `arca` command with every inherited `ARCA_*` variable removed;
//!   [`run`] runs one to completion with a timeout and captured output ([`Run`]).
//! - Backends: every test file builds twice, as `<file>` (SQLite) and `pg_<file>` (PostgreSQL: `tests/pg/<file>.rs`
//!   includes it, `[[test]]` entries in Cargo.toml); [`backend`] tells which from the test binary's name. On PostgreSQL
//!   every data directory gets a fresh database ([`fresh_database`]) on the cluster named by
//!   `ARCA_TEST_DATABASE_URL` (scripts/test starts one), else on a [`TempPostgres`] this process starts
//!   and shares while any of its databases is alive.
//!   [`DbProbe`] runs SQL on a data directory's database (either backend) for tests that look under the API.
//! - Data directories: [`init`] runs `arca init` into a fresh temporary directory ([`DataDir`]),
//!   with `--database-url` on PostgreSQL; [`token_create`] runs `arca token create` against one.
//! - Servers: [`Server::start_with`] runs `arca server` (on `127.0.0.1:0` unless told otherwise,
//!   with custom arguments, environment and working directory from [`ServerOpts`]) and reads the
//!   port from its `listening on http://…` line; a server that does not come up is a
//!   [`StartFailure`] carrying its exit status and output. A running server's stdout and stderr
//!   (its log) are captured; it can be killed with SIGKILL ([`Server::kill9`], also on drop) or
//!   stopped with SIGTERM ([`Server::stop`]).
//! - [`Arca`] bundles a data directory, a server on it, its admin token and an HTTP client: the
//!   fixture of the API tests. Requests go through reqwest ([`send`] reads a whole [`Resp`]) or,
//!   where a test must control every header byte (reqwest always adds `Accept: */*`), through
//!   [`Arca::raw`], a minimal HTTP/1.1 client over a TCP socket.
//! - Barbican's error-body assertions, timestamps, query strings, chunked framing, file modes and
//!   the Python virtualenv of the compatibility tests.
// Every test binary compiles this module but uses a different subset of it; without this each
// binary would warn about the helpers only the others use.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, Weak, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use arca_store::postgres_testing::TempPostgres;
pub use reqwest::Method;
pub use serde_json::{Value, json};

/// The `arca` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_arca");

/// How long a server may take to print its `listening on` line (debug build, fresh database).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a one-shot command (`arca init`, `arca secret …`) may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Highest microversion Barbican 23 (2026.2 "Hibiscus") serves: see barbican
/// doc/source/api/microversion_history.rst ("1.2 (Maximum in Hibiscus)").
pub const MAX_MICROVERSION: &str = "1.2";

/// `CONF.max_allowed_secret_in_bytes` default in Barbican.
pub const MAX_SECRET_BYTES: usize = 20_000;
/// `CONF.max_allowed_request_size_in_bytes` default in Barbican.
pub const MAX_REQUEST_BYTES: usize = 25_000;

/// The four roles of Barbican's legacy policy.
pub const ROLES: [&str; 4] = ["admin", "creator", "observer", "audit"];

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// An `arca` command with a clean environment: no `ARCA_*` variable leaks in from the
/// developer's shell, and listeners default to loopback ephemeral ports so tests can run
/// in parallel.
pub fn arca() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ARCA_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ARCA_API_LISTEN", "127.0.0.1:0")
        .env("ARCA_METRICS_LISTEN", "127.0.0.1:0")
        // Tests that send many bad tokens must not be throttled; tests/metrics.rs turns throttling on.
        .env("ARCA_AUTH_FAILURE_LIMIT", "0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// Output of a finished command, decoded for assertions and messages.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The last non-empty line of stdout, trimmed (the contract for tokens and refs).
    pub fn last_line(&self) -> String {
        self.stdout_str()
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string()
    }

    pub fn describe(&self) -> String {
        format!(
            "exit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout_str(),
            self.stderr
        )
    }

    /// Panics with the full output unless the command succeeded.
    pub fn ok(self, what: &str) -> Self {
        assert!(self.status.success(), "{what} failed\n{}", self.describe());
        self
    }
}

/// Runs `cmd` to completion with a timeout, capturing stdout and stderr.
pub fn run(cmd: &mut Command, timeout: Duration) -> Run {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {shown}: {e}"));
    let out = reader_thread(child.stdout.take().expect("stdout"));
    let err = reader_thread(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = out.join().unwrap_or_default();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "{shown} did not finish within {timeout:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
    }
}

fn reader_thread<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

// ---------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------

/// The store a test binary runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// [`Backend::Postgres`] when the running test binary is a `pg_<file>` target (see Cargo.toml), else
/// [`Backend::Sqlite`].
pub fn backend() -> Backend {
    static BACKEND: OnceLock<Backend> = OnceLock::new();
    *BACKEND.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let name = exe.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("pg_") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    })
}

/// Whether this test binary runs against PostgreSQL.
pub fn on_postgres() -> bool {
    backend() == Backend::Postgres
}

/// A fresh, empty PostgreSQL database for one data directory; dropped (`DROP DATABASE … WITH (FORCE)`,
/// best effort) when this is dropped. Holds the process's [`TempPostgres`], if it uses one, alive.
pub struct TestDatabase {
    pub url: String,
    maintenance_url: String,
    name: String,
    _server: Option<Arc<TempPostgres>>,
}

impl TestDatabase {
    /// A new database copied from this one (`createdb -T`; nothing may be connected to this one).
    pub fn copy(&self) -> TestDatabase {
        let name = format!("t_{}", hex(&random_bytes(8)));
        let out = Command::new(pg_tool("createdb"))
            .arg(format!("--maintenance-db={}", self.maintenance_url))
            .args(["-T", &self.name, &name])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running createdb: {e}"));
        assert!(
            out.status.success(),
            "createdb -T {} failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        TestDatabase {
            url: database_url(&self.maintenance_url, &name),
            maintenance_url: self.maintenance_url.clone(),
            name,
            _server: self._server.clone(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new(pg_tool("dropdb"))
            .arg(format!("--maintenance-db={}", self.maintenance_url))
            .args(["--force", "--if-exists", &self.name])
            .stdin(Stdio::null())
            .output();
    }
}

/// On PostgreSQL, a fresh database ([`TestDatabase`]); on SQLite, `None`.
pub fn fresh_database() -> Option<TestDatabase> {
    on_postgres().then(new_database)
}

/// The `arca init` arguments that put a data directory on this binary's backend: `--database-url URL` on
/// PostgreSQL (the database must outlive the data directory's use), nothing on SQLite.
pub fn init_args(db: Option<&TestDatabase>) -> Vec<String> {
    db.map(|db| vec!["--database-url".to_string(), db.url.clone()])
        .unwrap_or_default()
}

/// Databases kept for a test's own `arca init` commands (those not run through [`init`]): each
/// [`Databases::init_args`] makes a fresh database on PostgreSQL, dropped with this.
#[derive(Default)]
pub struct Databases(Mutex<Vec<TestDatabase>>);

impl Databases {
    pub fn new() -> Databases {
        Databases::default()
    }

    /// [`init_args`] of a fresh database kept until `self` is dropped (nothing on SQLite).
    pub fn init_args(&self) -> Vec<String> {
        let Some(db) = fresh_database() else {
            return Vec::new();
        };
        let args = init_args(Some(&db));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(db);
        args
    }
}

/// Everything stored in a PostgreSQL database (`pg_dump --data-only`), for "not stored in clear" checks.
pub fn database_dump(db: &TestDatabase) -> Vec<u8> {
    let out = Command::new(pg_tool("pg_dump"))
        .args(["--data-only", "--no-owner", &db.url])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running pg_dump: {e}"));
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn new_database() -> TestDatabase {
    let (maintenance_url, server) = match std::env::var("ARCA_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let server = shared_temp_postgres();
            (server.url(), Some(server))
        }
    };
    let name = format!("t_{}", hex(&random_bytes(8)));
    let out = Command::new(pg_tool("createdb"))
        .arg(format!("--maintenance-db={maintenance_url}"))
        .arg(&name)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running createdb: {e}"));
    assert!(
        out.status.success(),
        "createdb {name} on {maintenance_url} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    TestDatabase {
        url: database_url(&maintenance_url, &name),
        maintenance_url,
        name,
        _server: server,
    }
}

/// The process's [`TempPostgres`]: started on first use, stopped when the last [`TestDatabase`] on it is
/// dropped (a static would never be dropped, leaving the server running after the test process).
fn shared_temp_postgres() -> Arc<TempPostgres> {
    static SHARED: Mutex<Weak<TempPostgres>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(TempPostgres::new());
    *shared = Arc::downgrade(&server);
    server
}

/// `url` with its database (the last path segment) replaced by `name`, query string kept.
fn database_url(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// A PostgreSQL client tool (`createdb`, `dropdb`, `psql`): from `ARCA_PG_BIN`, else Debian's
/// `/usr/lib/postgresql/15/bin`, else the PATH.
pub fn pg_tool(tool: &str) -> PathBuf {
    let dirs = std::env::var_os("ARCA_PG_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/lib/postgresql/15/bin")]);
    for dir in dirs {
        if dir.join(tool).is_file() {
            return dir.join(tool);
        }
    }
    PathBuf::from(tool)
}

/// `psql URL -At -c SQL` → its output (rows one a line, columns `|`-separated); panics on failure.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new(pg_tool("psql"))
        .args([url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running psql: {e}"));
    assert!(
        out.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Direct SQL on a data directory's database, for tests that look under the API: `DIR/arca.db` on SQLite, the
/// database `DIR/arca.toml` names on PostgreSQL. Values in `sql` are inlined by the tests (their own ids).
pub enum DbProbe {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbProbe {
    /// The probe of the data directory `dir` on this binary's backend.
    pub fn of(dir: &Path) -> DbProbe {
        if !on_postgres() {
            return DbProbe::Sqlite(dir.join("arca.db"));
        }
        let config = std::fs::read_to_string(dir.join("arca.toml")).expect("read arca.toml");
        let url = config
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "url").then(|| value.trim().trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| panic!("no `url = …` in arca.toml:\n{config}"));
        DbProbe::Postgres(url)
    }

    fn sqlite(path: &Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).expect("open the database");
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn
    }

    /// The first column of every row, as text.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            DbProbe::Sqlite(path) => {
                let conn = Self::sqlite(path);
                let mut stmt = conn.prepare(sql).expect(sql);
                stmt.query_map([], |r| {
                    let v: rusqlite::types::Value = r.get(0)?;
                    Ok(match v {
                        rusqlite::types::Value::Null => String::new(),
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Real(f) => f.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
                    })
                })
                .expect(sql)
                .map(|r| r.expect(sql))
                .collect()
            }
            DbProbe::Postgres(url) => psql(url, sql).lines().map(str::to_owned).collect(),
        }
    }

    /// A single-number query (`SELECT COUNT(*) …`).
    pub fn count(&self, sql: &str) -> i64 {
        let rows = self.texts(sql);
        rows.first()
            .and_then(|r| r.trim().parse().ok())
            .unwrap_or_else(|| panic!("{sql} gave {rows:?}"))
    }

    /// Runs statements (`;`-separated).
    pub fn execute(&self, sql: &str) {
        match self {
            DbProbe::Sqlite(path) => Self::sqlite(path).execute_batch(sql).expect(sql),
            DbProbe::Postgres(url) => {
                psql(url, sql);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data directories and tokens
// ---------------------------------------------------------------------------------------

/// A data directory made by `arca init`, inside a temporary directory removed on drop.
pub struct DataDir {
    pub tmp: tempfile::TempDir,
    /// `<tmp>/data`: created by `arca init`, so its mode is the one init chose.
    pub dir: PathBuf,
    /// The admin token `arca init` printed (project "admin", user "admin", role admin).
    pub admin_token: String,
    pub init: Run,
    /// The data directory's database on PostgreSQL (`None` on SQLite, where it is `arca.db`).
    pub database: Option<TestDatabase>,
}

impl DataDir {
    pub fn root_key(&self) -> PathBuf {
        self.dir.join("root.key")
    }
    pub fn db(&self) -> PathBuf {
        self.dir.join("arca.db")
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("arca.toml")
    }
}

/// `arca init --data-dir <tmp>/data` (on PostgreSQL with `--database-url` of a fresh database); panics (with
/// output) unless it succeeds.
pub fn init() -> DataDir {
    let tmp = tempfile::Builder::new()
        .prefix("arca-test-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path().join("data");
    let database = fresh_database();
    let init = run(
        arca()
            .arg("init")
            .arg("--data-dir")
            .arg(&dir)
            .args(init_args(database.as_ref())),
        COMMAND_TIMEOUT,
    )
    .ok("arca init");
    let admin_token = init.last_line();
    assert!(
        !admin_token.is_empty() && !admin_token.contains(char::is_whitespace),
        "the last line of `arca init` stdout should be the admin token\n{}",
        init.describe()
    );
    DataDir {
        tmp,
        dir,
        admin_token,
        init,
        database,
    }
}

/// `arca token create --data-dir DIR --project P --user U --roles R` (roles comma-separated)
/// → the token.
pub fn token_create(dir: &Path, project: &str, user: &str, roles: &str) -> String {
    create_token(dir, project, user, roles, None)
}

/// [`token_create`], with `--ttl TTL` when given.
fn create_token(dir: &Path, project: &str, user: &str, roles: &str, ttl: Option<&str>) -> String {
    let mut cmd = arca();
    cmd.args(["token", "create", "--data-dir"]).arg(dir).args([
        "--project",
        project,
        "--user",
        user,
        "--roles",
        roles,
    ]);
    if let Some(ttl) = ttl {
        cmd.args(["--ttl", ttl]);
    }
    let out = run(&mut cmd, COMMAND_TIMEOUT).ok("arca token create");
    let token = out.last_line();
    assert!(
        token.starts_with("arca_"),
        "`arca token create` printed {token:?}, expected a token starting with arca_\n{}",
        out.describe()
    );
    token
}

// ---------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------

/// How to start a server: data dir (or none, for `--dev`), extra args, environment and
/// working directory.
#[derive(Default, Clone)]
pub struct ServerOpts {
    pub data_dir: Option<PathBuf>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
}

impl ServerOpts {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: Some(data_dir.to_path_buf()),
            ..Self::default()
        }
    }
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }
}

/// Why a server did not come up: it exited (with this output) or timed out.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl StartFailure {
    pub fn describe(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A running `arca server`; killed (SIGKILL) when dropped. Its stdout is collected by a
/// thread; its stderr goes straight to a temporary log file, so what the server has written
/// can be read back at any time without racing a reader.
pub struct Server {
    child: Option<Child>,
    /// `http://HOST:PORT`, as printed on the `listening on` line.
    pub url: String,
    stdout: Arc<Mutex<String>>,
    log: tempfile::NamedTempFile,
}

impl Server {
    /// `arca server --data-dir DIR` on 127.0.0.1:0 in token mode; panics if it does not start.
    pub fn start(data_dir: &Path) -> Server {
        Self::start_with(ServerOpts::new(data_dir))
            .unwrap_or_else(|f| panic!("arca server did not start\n{}", f.describe()))
    }

    pub fn start_with(opts: ServerOpts) -> Result<Server, StartFailure> {
        let log = tempfile::Builder::new()
            .prefix("arca-server-")
            .suffix(".log")
            .tempfile()
            .expect("create server log");
        let mut cmd = arca();
        cmd.arg("server");
        if let Some(dir) = &opts.data_dir {
            cmd.arg("--data-dir").arg(dir);
        }
        cmd.args(&opts.args);
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        if let Some(cwd) = &opts.cwd {
            cmd.current_dir(cwd);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.reopen().expect("open server log")))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `arca server` ({BIN}): {e}"));

        // Read stdout line by line on a thread (which keeps draining it so the child never
        // blocks on a full pipe), passing each line on to look for the `listening on` line.
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let reader = {
            let out = BufReader::new(child.stdout.take().expect("stdout"));
            let buf = Arc::clone(&stdout);
            thread::spawn(move || {
                for line in out.lines() {
                    let Ok(line) = line else { break };
                    buf.lock().unwrap().push_str(&format!("{line}\n"));
                    let _ = tx.send(line);
                }
            })
        };

        let mut server = Server {
            child: Some(child),
            url: String::new(),
            stdout,
            log,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let status = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    if let Some(url) = parse_listening(&line) {
                        server.url = url;
                        return Ok(server);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // stdout closed: the process is exiting.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break server.child.as_mut().and_then(|c| c.wait().ok());
                }
            }
            if let Some(status) = server.try_status() {
                break Some(status);
            }
            if Instant::now() > deadline {
                break None;
            }
        };
        // Not started: make sure the process is gone, then collect everything it wrote.
        server.kill9();
        let _ = reader.join();
        let mut stderr = server.stderr();
        if status.is_none() {
            stderr.push_str(&format!(
                "\n[harness: no `listening on` line within {START_TIMEOUT:?}]"
            ));
        }
        Err(StartFailure {
            status,
            stdout: server.stdout(),
            stderr,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything the server has written to stderr (its log) so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The file the server's stderr goes to (removed when the `Server` is dropped).
    pub fn log_path(&self) -> &Path {
        self.log.path()
    }

    /// SIGKILL now (std's `Child::kill` is SIGKILL on Unix) and reap the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait up to 15 s for a graceful exit, then SIGKILL. Returns the exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait().ok()
    }

    /// Whether the process has exited (and how).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `listening on http://HOST:PORT` → `http://HOST:PORT` (anything after the address is ignored); the same
/// for `https://` when the server speaks TLS.
pub fn parse_listening(line: &str) -> Option<String> {
    let at = line
        .find("listening on http://")
        .or_else(|| line.find("listening on https://"))?;
    let rest = &line[at + "listening on ".len()..];
    let url: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != ',')
        .collect();
    Some(url.trim_end_matches('/').to_string())
}

// ---------------------------------------------------------------------------------------
// The API-test fixture
// ---------------------------------------------------------------------------------------

/// A running `arca server` on 127.0.0.1 with its own data directory, its admin token and an
/// HTTP client.
pub struct Arca {
    /// Declared before `data`, so the server is killed before its directory is removed.
    pub server: Server,
    pub data: DataDir,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The admin token printed by `arca init` (project "admin", user "admin", role admin).
    pub admin_token: String,
    pub http: reqwest::Client,
}

impl Arca {
    /// A server in the default `token` authentication mode.
    pub fn start() -> Arca {
        Self::start_with(&[])
    }

    /// A server in `trusted-headers` mode (identity from `X-Project-Id`, `X-User-Id`, `X-Roles`).
    pub fn start_trusted_headers() -> Arca {
        Self::start_with(&[("ARCA_AUTH_MODE", "trusted-headers")])
    }

    /// A server with extra environment variables; panics (with its output) if it does not start.
    pub fn start_with(env: &[(&str, &str)]) -> Arca {
        let data = init();
        let opts = env
            .iter()
            .fold(ServerOpts::new(&data.dir), |opts, (k, v)| opts.env(k, v));
        let server = Server::start_with(opts)
            .unwrap_or_else(|f| panic!("`arca server` did not start\n{}", f.describe()));
        let base_url = server.url.clone();
        assert!(
            base_url.starts_with("http://127.0.0.1:"),
            "unexpected listen URL {base_url:?}"
        );
        Arca {
            server,
            base_url,
            admin_token: data.admin_token.clone(),
            data,
            http: http(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data.dir.clone()
    }

    /// Everything the server has written to stderr so far.
    pub fn server_log(&self) -> String {
        self.server.stderr()
    }

    /// `arca token create ... --roles ROLES` (comma-separated) → the token.
    pub fn token(&self, project: &str, user: &str, roles: &str) -> String {
        create_token(&self.data.dir, project, user, roles, None)
    }

    /// Same as [`Arca::token`] with `--ttl TTL`.
    pub fn token_ttl(&self, project: &str, user: &str, roles: &str, ttl: &str) -> String {
        create_token(&self.data.dir, project, user, roles, Some(ttl))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A request without credentials.
    pub fn anon(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// A request authenticated with `X-Auth-Token: token`.
    pub fn req(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.anon(method, path).header("X-Auth-Token", token)
    }

    /// A request as the admin principal.
    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.req(method, path, &self.admin_token)
    }

    /// POST /v1/secrets as `token`; asserts 201 and returns the new secret's id.
    pub async fn create_secret(&self, token: &str, body: Value) -> String {
        let r = send(
            self.req(Method::POST, "/v1/secrets", token)
                .header("Content-Type", "application/json")
                .body(body.to_string()),
        )
        .await;
        assert_eq!(r.status, 201, "create secret {body}: {}", r.text());
        secret_id(r.json()["secret_ref"].as_str().expect("secret_ref string"))
    }

    /// A text secret with `payload` created as `token`; returns its id.
    pub async fn create_text_secret(&self, token: &str, name: &str, payload: &str) -> String {
        self.create_secret(
            token,
            json!({"name": name, "payload": payload, "payload_content_type": "text/plain"}),
        )
        .await
    }

    /// A metadata-only secret (no payload) created as `token`; returns its id.
    pub async fn create_empty_secret(&self, token: &str, name: &str) -> String {
        self.create_secret(token, json!({"name": name})).await
    }

    /// POST /v1/containers as `token`; asserts 201 and returns the new container's id.
    pub async fn create_container(&self, token: &str, body: Value) -> String {
        let r = send(self.req(Method::POST, "/v1/containers", token).json(&body)).await;
        assert_eq!(r.status, 201, "create container {body}: {}", r.text());
        container_id(
            r.json()["container_ref"]
                .as_str()
                .expect("container_ref string"),
        )
    }

    /// `{"name": name, "secret_ref": <this server's ref for id>}`, an entry of a container's `secret_refs`.
    pub fn secret_ref_entry(&self, name: &str, id: &str) -> Value {
        json!({"name": name, "secret_ref": self.url(&format!("/v1/secrets/{id}"))})
    }

    /// A request as `token` asking for microversion `version` (`key-manager <version>`).
    pub fn req_v(
        &self,
        method: Method,
        path: &str,
        token: &str,
        version: &str,
    ) -> reqwest::RequestBuilder {
        self.req(method, path, token)
            .header("OpenStack-API-Version", format!("key-manager {version}"))
    }

    /// GET /v1/secrets/{id} metadata (Accept: application/json) as `token`; asserts 200.
    pub async fn secret_meta(&self, token: &str, id: &str) -> Value {
        let r = send(
            self.req(Method::GET, &format!("/v1/secrets/{id}"), token)
                .header("Accept", "application/json"),
        )
        .await;
        assert_eq!(r.status, 200, "GET secret metadata: {}", r.text());
        r.json()
    }

    /// A request built byte by byte over a fresh TCP connection (`Connection: close`), for
    /// tests that must omit headers reqwest always sends. `headers` are sent as given; `Host`,
    /// `Connection` and (when a body is given and no `Transfer-Encoding` header is) a
    /// `Content-Length` are added. With `Transfer-Encoding: chunked` the body is sent as given,
    /// so the caller frames the chunks (see [`chunked`]).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base_url.trim_start_matches("http://").to_string();
        let mut stream = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(&addr),
        )
        .await
        .expect("connect timeout")
        .expect("connect");
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let chunked = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"));
        if let (Some(b), false) = (body, chunked) {
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        stream.write_all(&bytes).await.expect("write request");
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf))
            .await
            .expect("response timeout")
            .expect("read response");
        parse_raw_response(&buf)
    }
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

/// A tokio runtime for the async HTTP parts of otherwise synchronous tests.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An HTTP client that never goes through a proxy, never follows redirects and gives up
/// after 30 s.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// POST /v1/secrets with a text payload as `token`; Ok(secret_ref) on 201, else Err(status, body).
/// Unlike [`Arca::create_text_secret`] it does not panic, for tests where stores may fail.
pub async fn store_text(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    name: &str,
    payload: &str,
) -> Result<String, (u16, String)> {
    let resp = client
        .post(format!("{url}/v1/secrets"))
        .header("X-Auth-Token", token)
        .json(&json!({
            "name": name,
            "payload": payload,
            "payload_content_type": "text/plain",
        }))
        .send()
        .await
        .map_err(|e| (0, format!("request failed: {e}")))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    if status != 201 {
        return Err((status, body));
    }
    let v: Value = serde_json::from_str(&body)
        .map_err(|e| (status, format!("201 body is not JSON ({e}): {body}")))?;
    v.get("secret_ref")
        .and_then(|r| r.as_str())
        .map(str::to_string)
        .ok_or((status, format!("201 body has no secret_ref: {body}")))
}

/// GET /v1/secrets/{id}/payload with `Accept: text/plain` → (status, body bytes).
pub async fn get_payload(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    id: &str,
) -> (u16, Vec<u8>) {
    let resp = client
        .get(format!("{url}/v1/secrets/{id}/payload"))
        .header("X-Auth-Token", token)
        .header("Accept", "text/plain")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET payload of {id}: {e}"));
    let status = resp.status().as_u16();
    (
        status,
        resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
    )
}

/// A response read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response ({}) is not JSON: {e}: {:?}",
                self.status,
                self.text()
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or_default()
    }
}

/// Sends a request and reads the whole response.
pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("HTTP request failed");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("read body").to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

fn parse_raw_response(buf: &[u8]) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no header end in raw response: {:?}",
                String::from_utf8_lossy(buf)
            )
        });
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut rest = buf[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':')
            && let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(v.trim()),
            )
        {
            headers.append(k, v);
        }
    }
    let chunked = headers.get("transfer-encoding").is_some_and(|v| {
        v.to_str()
            .unwrap_or("")
            .to_ascii_lowercase()
            .contains("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some(eol) = rest[pos..].windows(2).position(|w| w == b"\r\n") {
            let size_line = String::from_utf8_lossy(&rest[pos..pos + eol]).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
                .unwrap_or(0);
            pos += eol + 2;
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[pos..(pos + size).min(rest.len())]);
            pos += size + 2;
            if pos >= rest.len() {
                break;
            }
        }
        rest = out;
    } else if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        rest.truncate(len);
    }
    Resp {
        status,
        headers,
        body: rest,
    }
}

// ---------------------------------------------------------------------------------------
// Barbican's ids, error bodies, timestamps and query strings; test data
// ---------------------------------------------------------------------------------------

/// The id at the end of a `container_ref` (`.../v1/containers/{id}`); checks it is a UUID.
pub fn container_id(container_ref: &str) -> String {
    let idx = container_ref
        .rfind("/v1/containers/")
        .unwrap_or_else(|| panic!("container_ref {container_ref:?} has no /v1/containers/"));
    let id = &container_ref[idx + "/v1/containers/".len()..];
    assert!(
        is_uuid(id),
        "container id {id:?} in {container_ref:?} is not a UUID"
    );
    id.to_string()
}

/// The id at the end of a `secret_ref` (`.../v1/secrets/{id}`); checks it is a UUID.
pub fn secret_id(secret_ref: &str) -> String {
    let idx = secret_ref
        .rfind("/v1/secrets/")
        .unwrap_or_else(|| panic!("secret_ref {secret_ref:?} has no /v1/secrets/"));
    let id = &secret_ref[idx + "/v1/secrets/".len()..];
    assert!(
        is_uuid(id),
        "secret id {id:?} in {secret_ref:?} is not a UUID"
    );
    id.to_string()
}

/// Canonical lowercase hyphenated UUID, as Barbican's ids (`uuidutils.generate_uuid()`).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        })
}

/// The webob title Barbican's JSONErrorHook puts in error bodies for `code`.
pub fn barbican_title(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        _ => "",
    }
}

/// Asserts `resp` is an error `code` with Barbican's body
/// `{"code": code, "title": "<webob title>", "description": "..."}` (barbican/api/hooks.py
/// JSONErrorHook) served as application/json.
#[track_caller]
pub fn assert_error(resp: &Resp, code: u16) {
    assert_eq!(
        resp.status,
        code,
        "expected HTTP {code}, got {}: {}",
        resp.status,
        resp.text()
    );
    assert!(
        resp.content_type().starts_with("application/json"),
        "error {code} must be application/json, got content-type {:?}: {}",
        resp.content_type(),
        resp.text()
    );
    let v: Value = serde_json::from_slice(&resp.body)
        .unwrap_or_else(|e| panic!("error {code} body is not JSON ({e}): {:?}", resp.text()));
    assert_eq!(v["code"], json!(code), "error body code: {v}");
    let title = barbican_title(code);
    assert_eq!(v["title"], json!(title), "error body title: {v}");
    assert!(
        v["description"].is_string(),
        "error body needs a string description: {v}"
    );
}

/// [`assert_error`], first failing with `"{what} → STATUS: BODY"` when the status is not `code`, so
/// a test looping over cases says which one failed.
#[track_caller]
pub fn assert_error_about(resp: &Resp, code: u16, what: std::fmt::Arguments<'_>) {
    assert!(
        resp.status == code,
        "{what} → {}: {}",
        resp.status,
        resp.text()
    );
    assert_error(resp, code);
}

/// Asserts a 4xx (never 5xx) with Barbican's error body shape, whatever the exact code.
#[track_caller]
pub fn assert_client_error(resp: &Resp) {
    assert!(
        (400..500).contains(&resp.status),
        "expected a 4xx, got {}: {}",
        resp.status,
        resp.text()
    );
    assert_error(resp, resp.status);
}

/// `n` bytes from /dev/urandom.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf
}

/// Random bytes that are certainly not valid UTF-8 (the first byte is 0xff).
pub fn random_non_utf8(n: usize) -> Vec<u8> {
    let mut b = random_bytes(n.max(1));
    b[0] = 0xff;
    b
}

pub fn b64(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(bytes)
}

/// UTC time `offset_secs` from now as `YYYY-MM-DDTHH:MM:SS` (ISO 8601, no offset, as in
/// Barbican's examples).
pub fn iso_utc(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .expect("format time")
}

/// Parses the leading `YYYY-MM-DDTHH:MM:SS` of a timestamp the server returned (Barbican
/// returns naive UTC `isoformat()`, e.g. `2015-03-23T20:46:51.650515`) as UTC.
pub fn parse_ts(s: &str) -> time::OffsetDateTime {
    assert!(s.len() >= 19, "timestamp {s:?} too short");
    let p = time::PrimitiveDateTime::parse(
        &s[..19],
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .unwrap_or_else(|e| panic!("timestamp {s:?} is not ISO 8601: {e}"));
    let rest = &s[19..];
    let rest_ok = rest.is_empty()
        || rest == "Z"
        || rest == "+00:00"
        || (rest.starts_with('.')
            && rest[1..]
                .trim_end_matches('Z')
                .trim_end_matches("+00:00")
                .chars()
                .all(|c| c.is_ascii_digit()));
    assert!(
        rest_ok,
        "timestamp {s:?} has an unexpected suffix {rest:?} (must be UTC)"
    );
    p.assume_utc()
}

/// Asserts a server timestamp lies within a few minutes of now.
#[track_caller]
pub fn assert_recent(s: &str) {
    let t = parse_ts(s);
    let now = time::OffsetDateTime::now_utc();
    let d = (now - t).abs();
    assert!(
        d < time::Duration::minutes(5),
        "timestamp {s:?} is not close to now ({now})"
    );
}

/// The query parameters of a URL, percent-decoded (`+` as space).
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

pub fn query_param(url: &str, key: &str) -> Option<String> {
    query_params(url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value.
pub fn pct_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Frames `data` as an HTTP/1.1 chunked body in chunks of `size` bytes.
pub fn chunked(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in data.chunks(size.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

// ---------------------------------------------------------------------------------------
// Files and the compatibility tests' virtualenv
// ---------------------------------------------------------------------------------------

/// Unix permission bits of a path.
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// chmod.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// The workspace root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The Python virtualenv made by `scripts/test` (`$ARCA_COMPAT_VENV`, default `<repo>/.venv`).
/// Panics — the test fails — when it is missing, saying how to create it.
pub fn compat_venv() -> PathBuf {
    let venv = std::env::var_os("ARCA_COMPAT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    for exe in ["bin/python", "bin/barbican"] {
        assert!(
            venv.join(exe).exists(),
            "the compatibility tests need {} (python-barbicanclient in a virtualenv); \
             run `scripts/test` from the repository root, which creates {} and runs all tests \
             (or set ARCA_COMPAT_VENV to an existing virtualenv)",
            venv.join(exe).display(),
            venv.display()
        );
    }
    venv
}

/// Runs `cmd` (a compatibility script), printing its output; panics with it on failure.
pub fn run_script(what: &str, cmd: &mut Command, timeout: Duration) -> Run {
    let out = run(cmd, timeout);
    println!("--- {what} stdout ---\n{}", out.stdout_str());
    eprintln!("--- {what} stderr ---\n{}", out.stderr);
    assert!(out.status.success(), "{what} failed\n{}", out.describe());
    out
}

// ---------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------

/// The id at the end of an `order_ref` (`.../v1/orders/{id}`); checks it is a UUID.
pub fn order_id(order_ref: &str) -> String {
    let idx = order_ref
        .rfind("/v1/orders/")
        .unwrap_or_else(|| panic!("order_ref {order_ref:?} has no /v1/orders/"));
    let id = &order_ref[idx + "/v1/orders/".len()..];
    assert!(
        is_uuid(id),
        "order id {id:?} in {order_ref:?} is not a UUID"
    );
    id.to_string()
}

impl Arca {
    /// POST /v1/orders as `token`; asserts 202 and returns the order as `GET /v1/orders/{id}` shows it.
    pub async fn create_order(&self, token: &str, body: Value) -> Value {
        let r = send(self.req(Method::POST, "/v1/orders", token).json(&body)).await;
        assert_eq!(r.status, 202, "create order {body}: {}", r.text());
        let id = order_id(r.json()["order_ref"].as_str().expect("order_ref string"));
        let got = send(self.req(Method::GET, &format!("/v1/orders/{id}"), token)).await;
        assert_eq!(got.status, 200, "GET order: {}", got.text());
        got.json()
    }
}
