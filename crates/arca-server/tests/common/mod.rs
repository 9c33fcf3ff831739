//! In-process harness: a real `arca_server::run` on `127.0.0.1:0` over a real store and file root key in a
//! temporary directory, with helpers to issue tokens and send requests. The store is SQLite, or PostgreSQL in the
//! `pg_<file>` test targets (`tests/pg/<file>.rs` includes `tests/<file>.rs`; [`on_postgres`] reads the binary's
//! name): a fresh database on the cluster in `ARCA_TEST_DATABASE_URL` (scripts/test starts one), else on a
//! `TempPostgres` this process shares while any server uses it.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};

use arca_store::postgres_testing::TempPostgres;

use arca_core::{CacheLimits, FileRootKey, Role, Services, SystemClock, root_key_path};
use arca_server::ServerConfig;
use tokio::sync::oneshot;

pub use reqwest::{Method, StatusCode};
pub use serde_json::{Value, json};

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// An admin token in project `p1` (user `admin`).
    pub admin: String,
    /// The domain, for issuing more tokens.
    pub services: Services,
    /// A client that sends no default headers.
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    /// The process's own PostgreSQL server, when it uses one (kept running while this server is).
    _postgres: Option<Arc<TempPostgres>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    /// Starts a server with the default configuration.
    pub async fn start() -> Server {
        Self::with_config(ServerConfig::default()).await
    }

    /// Starts a server with `config`.
    pub async fn with_config(config: ServerConfig) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let key_path = root_key_path(dir.path());
        FileRootKey::create(&key_path).unwrap();
        let root = FileRootKey::open(&key_path).unwrap();
        let (store, postgres): (Arc<dyn arca_core::Store>, _) = if on_postgres() {
            let (url, postgres) = fresh_database();
            let store = arca_store::PostgresStore::connect(&url, Default::default())
                .await
                .unwrap();
            (Arc::new(store), postgres)
        } else {
            let store = arca_store::SqliteStore::open(&dir.path().join("arca.db"))
                .await
                .unwrap();
            (Arc::new(store), None)
        };
        let services = Services::start(
            store,
            Arc::new(root),
            Arc::new(SystemClock),
            CacheLimits::default(),
        )
        .await
        .unwrap();
        let admin = services
            .tokens
            .issue("p1", "admin", &[Role::Admin], time::Duration::hours(1))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = services.clone();
        tokio::spawn(async move {
            arca_server::run(listener, served, config, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server {
            url,
            admin: admin.token.to_string(),
            services,
            http: reqwest::Client::new(),
            stop: Some(stop),
            _dir: dir,
            _postgres: postgres,
        }
    }

    /// A token for `user` in `project` with `roles`.
    pub async fn token(&self, project: &str, user: &str, roles: &[&str]) -> String {
        let roles: Vec<Role> = roles.iter().map(|r| Role::parse(r)).collect();
        self.services
            .tokens
            .issue(project, user, &roles, time::Duration::hours(1))
            .await
            .unwrap()
            .token
            .to_string()
    }

    /// A request with the admin token.
    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("X-Auth-Token", &self.admin)
    }

    /// A request without credentials.
    pub fn anon(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    /// Creates a secret from a JSON body and returns its id.
    pub async fn create(&self, body: Value) -> String {
        let r = self
            .admin(Method::POST, "/v1/secrets")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        v["secret_ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    }
}

/// A response's status and parsed JSON body (`Value::Null` when the body is not JSON).
pub async fn json_of(r: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Asserts Barbican's error body with `code` and returns its description.
pub fn assert_barbican_error(status: StatusCode, body: &Value, code: u16) -> String {
    assert_eq!(status.as_u16(), code, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["title"].is_string(), "{body}");
    body["description"]
        .as_str()
        .unwrap_or_else(|| panic!("description in {body}"))
        .to_owned()
}

/// Sends a request over a raw socket with exactly `headers` (reqwest always adds `Accept: */*`); returns
/// the response head (status line and headers, lower-cased names) and body bytes.
pub async fn raw(
    s: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    (head, response[split + 4..].to_vec())
}

/// Whether this test binary is a `pg_<file>` target (PostgreSQL store).
pub fn on_postgres() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name()?.to_str().map(|n| n.starts_with("pg_")))
        .unwrap_or(false)
}

/// A fresh database's URL: on `ARCA_TEST_DATABASE_URL`'s cluster, else on the process's shared `TempPostgres`
/// (returned, to keep it running while in use; it stops when the last holder drops it).
fn fresh_database() -> (String, Option<Arc<TempPostgres>>) {
    static SHARED: Mutex<Weak<TempPostgres>> = Mutex::new(Weak::new());
    let (maintenance, postgres) = match std::env::var("ARCA_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
            let server = shared.upgrade().unwrap_or_else(|| {
                let server = Arc::new(TempPostgres::new());
                *shared = Arc::downgrade(&server);
                server
            });
            (server.url(), Some(server))
        }
    };
    let name = format!("s_{}", uuid_like());
    let createdb = std::env::var_os("ARCA_PG_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/lib/postgresql/15/bin")])
        .map(|dir| dir.join("createdb"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("createdb"));
    let out = Command::new(createdb)
        .arg(format!("--maintenance-db={maintenance}"))
        .arg(&name)
        .stdin(Stdio::null())
        .output()
        .expect("run createdb");
    assert!(
        out.status.success(),
        "createdb {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = maintenance.split('?').next().unwrap_or(&maintenance);
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    (format!("{prefix}/{name}"), postgres)
}

/// A random lowercase hex name part.
fn uuid_like() -> String {
    let mut bytes = [0u8; 8];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("open /dev/urandom"),
        &mut bytes,
    )
    .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
