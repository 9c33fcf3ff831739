//! In-process harness: a real `arca_server::run` on `127.0.0.1:0` over a real SQLite store and file root
//! key in a temporary directory, with helpers to issue tokens and send requests.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

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
        let store = arca_store::SqliteStore::open(&dir.path().join("arca.db"))
            .await
            .unwrap();
        let services = Services::start(
            Arc::new(store),
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
