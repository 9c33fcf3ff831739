//! Shared harness for the black-box Barbican API tests (`tests/api_*.rs`).
//!
//! Every test starts its own `arca` binary: `arca init` into a fresh temporary directory, then
//! `arca server` on `127.0.0.1:0`, reading the child's stdout until it announces
//! `listening on http://127.0.0.1:PORT`. The child is killed when the [`Arca`] value is dropped.
//! Tokens come from `arca token create` against the same data directory. Requests are made with
//! reqwest (async) or, where a test must control every header byte (reqwest always adds
//! `Accept: */*`), with [`Arca::raw`], a minimal HTTP/1.1 client over a TCP socket.
//!
//! Nothing here links against the server crates: the tests compile against the binary only.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub use reqwest::Method;
pub use serde_json::{Value, json};

/// The `arca` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_arca");

/// Highest microversion Barbican 23 (2026.2 "Hibiscus") serves: see barbican
/// doc/source/api/microversion_history.rst ("1.2 (Maximum in Hibiscus)").
pub const MAX_MICROVERSION: &str = "1.2";

/// `CONF.max_allowed_secret_in_bytes` default in Barbican.
pub const MAX_SECRET_BYTES: usize = 20_000;
/// `CONF.max_allowed_request_size_in_bytes` default in Barbican.
pub const MAX_REQUEST_BYTES: usize = 25_000;

/// The four roles of Barbican's legacy policy.
pub const ROLES: [&str; 4] = ["admin", "creator", "observer", "audit"];

/// A running `arca server` with its own data directory.
pub struct Arca {
    /// Temporary root: `data/` is the data directory, `server.log` the server's stderr.
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The admin token printed by `arca init` (project "admin", user "admin", role admin).
    pub admin_token: String,
    pub http: reqwest::Client,
}

impl Drop for Arca {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Last non-empty line of a command's stdout, trimmed.
fn last_line(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

fn run_ok(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{what}` ({BIN}): {e}"));
    assert!(
        out.status.success(),
        "`{what}` failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
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

    /// A server with extra environment variables.
    pub fn start_with(env: &[(&str, &str)]) -> Arca {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");

        let out = run_ok(
            Command::new(BIN)
                .arg("init")
                .arg("--data-dir")
                .arg(&data)
                .env_remove("ARCA_AUTH_MODE")
                .stdin(Stdio::null()),
            "arca init",
        );
        let admin_token = last_line(&out.stdout);
        assert!(!admin_token.is_empty(), "`arca init` printed no token");

        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("create server.log");
        let mut cmd = Command::new(BIN);
        cmd.arg("server")
            .arg("--data-dir")
            .arg(&data)
            .env_remove("ARCA_AUTH_MODE")
            .env("ARCA_API_LISTEN", "127.0.0.1:0")
            // Parallel tests each run a server: keep the metrics listener off fixed ports too.
            .env("ARCA_METRICS_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `arca server` ({BIN}): {e}"));

        // Read stdout line by line on a thread (which then keeps draining it so the child never
        // blocks on a full pipe) and wait for the "listening on" line.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(idx) = line.find("listening on ") {
                    let _ = tx.send(line[idx + "listening on ".len()..].trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!(
                    "`arca server` did not print `listening on http://...` within 30 s ({e:?}); \
                     exit: {status:?}\nstderr:\n{log}"
                );
            }
        };
        let base_url = url.trim_end_matches('/').to_string();
        assert!(
            base_url.starts_with("http://127.0.0.1:"),
            "unexpected listen URL {base_url:?}"
        );

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client");

        Arca {
            dir,
            child: Some(child),
            base_url,
            admin_token,
            http,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `arca token create ... --roles ROLES` (comma-separated) → the token.
    pub fn token(&self, project: &str, user: &str, roles: &str) -> String {
        self.token_args(project, user, roles, None)
    }

    /// Same as [`Arca::token`] with `--ttl TTL`.
    pub fn token_ttl(&self, project: &str, user: &str, roles: &str, ttl: &str) -> String {
        self.token_args(project, user, roles, Some(ttl))
    }

    fn token_args(&self, project: &str, user: &str, roles: &str, ttl: Option<&str>) -> String {
        let mut cmd = Command::new(BIN);
        cmd.args(["token", "create", "--data-dir"])
            .arg(self.data_dir())
            .args(["--project", project, "--user", user, "--roles", roles])
            .stdin(Stdio::null());
        if let Some(ttl) = ttl {
            cmd.args(["--ttl", ttl]);
        }
        let out = run_ok(&mut cmd, "arca token create");
        let tok = last_line(&out.stdout);
        assert!(
            tok.starts_with("arca_"),
            "`arca token create` printed {tok:?}, expected a token starting with arca_"
        );
        tok
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
