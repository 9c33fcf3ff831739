//! KMS test client: a real server (`common::Server`), access keys issued through the domain, and requests
//! signed with Arca's own SigV4 `sign` and sent over real HTTP.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use arca_core::Role;
use arca_server::kms::sigv4::{Credentials, SERVICE, sign};
use reqwest::header::HeaderMap;

pub use super::common::{Server, StatusCode, Value, json};

/// A server with an admin access key in project `p1`.
pub struct Kms {
    pub server: Server,
    pub id: String,
    pub secret: String,
}

/// A response: status, headers, JSON body (`Value::Null` if not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts an AWS error `type_name` with a 4xx status and returns the message.
    pub fn error(&self, type_name: &str) -> String {
        assert!(
            self.status.is_client_error(),
            "{} {}",
            self.status,
            self.body
        );
        assert_eq!(self.body["__type"], type_name, "{}", self.body);
        self.body["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts a 200 and returns the body.
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        &self.body
    }
}

impl Kms {
    /// A server whose authentication throttle is off (refusal tests fail many times from one address).
    pub async fn start() -> Kms {
        let mut config = arca_server::ServerConfig::default();
        config.auth.failure_limit = 0;
        Self::with_config(config).await
    }

    /// A server with `config`.
    pub async fn with_config(config: arca_server::ServerConfig) -> Kms {
        let server = Server::with_config(config).await;
        let issued = server
            .services
            .access_keys
            .create("p1", "admin", &[Role::Admin])
            .await
            .unwrap();
        Kms {
            server,
            id: issued.id.clone(),
            secret: issued.secret.to_string(),
        }
    }

    /// Another access key.
    pub async fn access_key(&self, project: &str, user: &str, roles: &[Role]) -> (String, String) {
        let issued = self
            .server
            .services
            .access_keys
            .create(project, user, roles)
            .await
            .unwrap();
        (issued.id.clone(), issued.secret.to_string())
    }

    /// Headers for `op` signed at `now` with `(id, secret)`.
    pub fn signed(
        &self,
        op: &str,
        body: &[u8],
        id: &str,
        secret: &str,
        now: time::OffsetDateTime,
    ) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().unwrap(),
        );
        h.insert(
            "x-amz-target",
            format!("TrentService.{op}").parse().unwrap(),
        );
        let uri: http::Uri = format!("{}/", self.server.url).parse().unwrap();
        let credentials = Credentials {
            access_key_id: id,
            secret_access_key: secret.as_bytes(),
            region: "us-east-1",
            service: SERVICE,
        };
        sign(&http::Method::POST, &uri, &mut h, body, &credentials, now).unwrap();
        h
    }

    /// Sends `body` to `path` with exactly `headers`.
    pub async fn send(&self, path: &str, headers: HeaderMap, body: Vec<u8>) -> Reply {
        let r = self
            .server
            .http
            .post(format!("{}{path}", self.server.url))
            .headers(headers)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// Calls `op` as the admin access key.
    pub async fn call(&self, op: &str, body: Value) -> Reply {
        let (id, secret) = (self.id.clone(), self.secret.clone());
        self.call_as(&id, &secret, op, body).await
    }

    /// Calls `op` with `(id, secret)`.
    pub async fn call_as(&self, id: &str, secret: &str, op: &str, body: Value) -> Reply {
        let bytes = body.to_string().into_bytes();
        let h = self.signed(op, &bytes, id, secret, time::OffsetDateTime::now_utc());
        self.send("/", h, bytes).await
    }

    /// Creates a key and returns its id.
    pub async fn create_key(&self, body: Value) -> String {
        let r = self.call("CreateKey", body).await;
        r.ok()["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
    }
}
