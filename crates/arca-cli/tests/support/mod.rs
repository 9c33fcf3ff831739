//! Test harness for the binary-level tests (`lifecycle.rs`, `compat.rs`): runs the real
//! `arca` binary — `arca init` into a temporary directory, `arca server` on `127.0.0.1:0`
//! (the port is read from the `listening on http://…` line) — with timeouts, captured
//! output and a server handle that can be killed with SIGKILL or stopped with SIGTERM.
//! It knows only the binary's command-line contract, never the crates' Rust API.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its `listening on` line (debug build, fresh database).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a one-shot command (`arca init`, `arca secret …`) may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The `arca` binary cargo built for these tests.
pub fn arca_bin() -> &'static str {
    env!("CARGO_BIN_EXE_arca")
}

/// The workspace root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// An `arca` command with a clean environment: no `ARCA_*` variable leaks in from the
/// developer's shell, and listeners default to loopback ephemeral ports so tests can run
/// in parallel.
pub fn arca() -> Command {
    let mut cmd = Command::new(arca_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ARCA_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ARCA_API_LISTEN", "127.0.0.1:0")
        .env("ARCA_METRICS_LISTEN", "127.0.0.1:0")
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
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
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

/// A data directory made by `arca init`, inside a temporary directory removed on drop.
pub struct DataDir {
    pub tmp: tempfile::TempDir,
    /// `<tmp>/data`: created by `arca init`, so its mode is the one init chose.
    pub dir: PathBuf,
    pub admin_token: String,
    pub init: Run,
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

/// `arca init --data-dir <tmp>/data`; panics (with output) unless it succeeds.
pub fn init() -> DataDir {
    let tmp = tempfile::Builder::new()
        .prefix("arca-test-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path().join("data");
    let init = run(
        arca().arg("init").arg("--data-dir").arg(&dir),
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
    }
}

/// `arca token create --data-dir DIR --project P --user U --roles R` → the token.
pub fn token_create(dir: &Path, project: &str, user: &str, roles: &str) -> String {
    let out = run(
        arca()
            .args(["token", "create", "--data-dir"])
            .arg(dir)
            .args(["--project", project, "--user", user, "--roles", roles]),
        COMMAND_TIMEOUT,
    )
    .ok("arca token create");
    let token = out.last_line();
    assert!(
        !token.is_empty(),
        "token create printed no token\n{}",
        out.describe()
    );
    token
}

/// How to start a server: data dir (or none, for `--dev`), extra args and environment.
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

/// A running `arca server`; killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, as printed on the `listening on` line.
    pub url: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// `arca server --data-dir DIR` on 127.0.0.1:0 in token mode; panics if it does not start.
    pub fn start(data_dir: &Path) -> Server {
        Self::start_with(ServerOpts::new(data_dir))
            .unwrap_or_else(|f| panic!("arca server did not start\n{}", f.describe()))
    }

    pub fn start_with(opts: ServerOpts) -> Result<Server, StartFailure> {
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
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn arca server");

        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        {
            let out = BufReader::new(child.stdout.take().expect("stdout"));
            let buf = Arc::clone(&stdout);
            thread::spawn(move || {
                for line in out.lines() {
                    let Ok(line) = line else { break };
                    buf.lock().unwrap().push_str(&format!("{line}\n"));
                    let _ = tx.send(line);
                }
            });
        }
        {
            let mut err = BufReader::new(child.stderr.take().expect("stderr"));
            let buf = Arc::clone(&stderr);
            thread::spawn(move || {
                let mut line = Vec::new();
                while let Ok(n) = err.read_until(b'\n', &mut line) {
                    if n == 0 {
                        break;
                    }
                    buf.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&line));
                    line.clear();
                }
            });
        }

        let deadline = Instant::now() + START_TIMEOUT;
        let failure = |child: &mut Child, status: Option<ExitStatus>| {
            if status.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
            // Let the reader threads drain what the process wrote.
            thread::sleep(Duration::from_millis(200));
            StartFailure {
                status,
                stdout: stdout.lock().unwrap().clone(),
                stderr: stderr.lock().unwrap().clone(),
            }
        };
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    if let Some(url) = parse_listening(&line) {
                        return Ok(Server {
                            child: Some(child),
                            url,
                            stdout: Arc::clone(&stdout),
                            stderr: Arc::clone(&stderr),
                        });
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed: the process is exiting.
                    let status = child.wait().ok();
                    return Err(failure(&mut child, status));
                }
            }
            if let Some(status) = child.try_wait().expect("try_wait") {
                return Err(failure(&mut child, Some(status)));
            }
            if Instant::now() > deadline {
                let mut f = failure(&mut child, None);
                f.stderr.push_str(&format!(
                    "\n[harness: no `listening on` line within {START_TIMEOUT:?}]"
                ));
                return Err(f);
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
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

/// `listening on http://HOST:PORT` → `http://HOST:PORT` (anything after the address is ignored).
pub fn parse_listening(line: &str) -> Option<String> {
    let at = line.find("listening on http://")?;
    let rest = &line[at + "listening on ".len()..];
    let url: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != ',')
        .collect();
    Some(url.trim_end_matches('/').to_string())
}

/// A tokio runtime for the async HTTP parts of otherwise synchronous tests.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An HTTP client that never goes through a proxy and gives up after 30 s.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// The last path segment of a secret ref (`…/v1/secrets/{id}` → `{id}`).
pub fn id_of(secret_ref: &str) -> String {
    secret_ref
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// POST /v1/secrets with a text payload as `token`; Ok(secret_ref) on 201, else Err(status, body).
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
        .json(&serde_json::json!({
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
    let v: serde_json::Value = serde_json::from_str(&body)
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

/// Runs `cmd` (a compatibility script), printing its output; panics with it on failure.
pub fn run_script(what: &str, cmd: &mut Command, timeout: Duration) -> Run {
    let out = run(cmd, timeout);
    println!("--- {what} stdout ---\n{}", out.stdout_str());
    eprintln!("--- {what} stderr ---\n{}", out.stderr);
    assert!(out.status.success(), "{what} failed\n{}", out.describe());
    out
}
