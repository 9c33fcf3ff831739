//! `arca secret store|get|list|delete`: a thin Barbican v1 client for a running server, configured by
//! `ARCA_URL` (default `http://127.0.0.1:9311`) and `ARCA_TOKEN`.

use std::io::Write;

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Map, Value, json};

use crate::cli::{SecretListArgs, SecretRefArgs, SecretStoreArgs};

struct Api {
    base: String,
    token: String,
    http: Client,
}

impl Api {
    fn from_env() -> anyhow::Result<Self> {
        let base = std::env::var("ARCA_URL").unwrap_or_else(|_| "http://127.0.0.1:9311".into());
        let token = std::env::var("ARCA_TOKEN").context("set ARCA_TOKEN to an Arca API token")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http: Client::new(),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", &self.token)
    }

    /// The secret's path from a reference URL or a bare id.
    fn secret_path(reference: &str) -> anyhow::Result<String> {
        let id = reference
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if id.is_empty() {
            bail!("{reference:?} is not a secret reference or id");
        }
        Ok(format!("/v1/secrets/{id}"))
    }
}

async fn checked(response: Response) -> anyhow::Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let description = body
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("no description");
    bail!("server answered {status}: {description}")
}

pub async fn store(args: SecretStoreArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let mut body = Map::new();
    match (&args.payload, &args.payload_file) {
        (Some(text), None) => {
            let content_type = args
                .payload_content_type
                .clone()
                .unwrap_or_else(|| "text/plain".into());
            if content_type == "application/octet-stream" {
                body.insert(
                    "payload".into(),
                    Base64::encode_string(text.as_bytes()).into(),
                );
                body.insert("payload_content_encoding".into(), "base64".into());
            } else {
                body.insert("payload".into(), text.clone().into());
            }
            body.insert("payload_content_type".into(), content_type.into());
        }
        (None, Some(file)) => {
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            body.insert("payload".into(), Base64::encode_string(&bytes).into());
            body.insert(
                "payload_content_type".into(),
                "application/octet-stream".into(),
            );
            body.insert("payload_content_encoding".into(), "base64".into());
        }
        _ => {}
    }
    let optional = [
        ("name", args.name.map(Value::from)),
        ("secret_type", args.secret_type.map(Value::from)),
        ("algorithm", args.algorithm.map(Value::from)),
        ("bit_length", args.bit_length.map(Value::from)),
        ("mode", args.mode.map(Value::from)),
        ("expiration", args.expiration.map(Value::from)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            body.insert(key.into(), value);
        }
    }
    let response = checked(
        api.request(reqwest::Method::POST, "/v1/secrets")
            .json(&body)
            .send()
            .await?,
    )
    .await?;
    let created: Value = response.json().await?;
    println!(
        "{}",
        created
            .get("secret_ref")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    Ok(())
}

pub async fn get(args: SecretRefArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let path = Api::secret_path(&args.secret)?;
    if args.payload {
        let response = api
            .request(reqwest::Method::GET, &format!("{path}/payload"))
            .header("Accept", "*/*");
        let bytes = checked(response.send().await?).await?.bytes().await?;
        std::io::stdout().write_all(&bytes)?;
        return Ok(());
    }
    let response = api
        .request(reqwest::Method::GET, &path)
        .header("Accept", "application/json");
    let metadata: Value = checked(response.send().await?).await?.json().await?;
    println!("{}", serde_json::to_string_pretty(&metadata)?);
    Ok(())
}

pub async fn list(args: SecretListArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let mut query = vec![
        ("limit", args.limit.to_string()),
        ("offset", args.offset.to_string()),
    ];
    if let Some(name) = args.name {
        query.push(("name", name));
    }
    let response = api
        .request(reqwest::Method::GET, "/v1/secrets")
        .query(&query);
    let page: Value = checked(response.send().await?).await?.json().await?;
    let empty = Vec::new();
    let secrets = page
        .get("secrets")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for s in secrets {
        let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
        println!(
            "{}\t{}\t{}\t{}",
            field("secret_ref"),
            field("name"),
            field("secret_type"),
            field("created")
        );
    }
    let total = page.get("total").cloned().unwrap_or(json!(secrets.len()));
    println!("{} of {total} secrets", secrets.len());
    Ok(())
}

pub async fn delete(args: SecretRefArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let path = Api::secret_path(&args.secret)?;
    checked(api.request(reqwest::Method::DELETE, &path).send().await?).await?;
    println!("deleted {}", args.secret);
    Ok(())
}
