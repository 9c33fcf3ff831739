//! `arca key create|list|describe|encrypt|decrypt|sign|verify|rotate`: a thin client of the AWS KMS JSON
//! protocol on a running server, signing each request with SigV4. Configured by `ARCA_URL` (default
//! `http://127.0.0.1:9311`), `ARCA_ACCESS_KEY_ID` and `ARCA_SECRET_ACCESS_KEY` (from `arca access-key create`;
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` are used when those are unset) and `ARCA_REGION` (default
//! `us-east-1`; Arca accepts any).

use std::io::{Read, Write};

use anyhow::{Context, bail};
use arca_server::kms::sigv4::{Credentials, SERVICE, sign};
use base64ct::{Base64, Encoding};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::cli::{
    KeyCreateArgs, KeyDecryptArgs, KeyEncryptArgs, KeyRefArg, KeySignArgs, KeyVerifyArgs,
};

struct KmsClient {
    base: String,
    access_key_id: String,
    secret: Zeroizing<String>,
    region: String,
    http: reqwest::Client,
}

fn env_either(ours: &str, aws: &str) -> Option<String> {
    std::env::var(ours)
        .ok()
        .or_else(|| std::env::var(aws).ok())
        .filter(|v| !v.is_empty())
}

impl KmsClient {
    fn from_env() -> anyhow::Result<Self> {
        let base = std::env::var("ARCA_URL").unwrap_or_else(|_| "http://127.0.0.1:9311".into());
        let access_key_id = env_either("ARCA_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
            .context("set ARCA_ACCESS_KEY_ID to an access key id from `arca access-key create`")?;
        let secret = Zeroizing::new(
            env_either("ARCA_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY").context(
                "set ARCA_SECRET_ACCESS_KEY to the secret printed by `arca access-key create`",
            )?,
        );
        let region = std::env::var("ARCA_REGION").unwrap_or_else(|_| "us-east-1".into());
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            access_key_id,
            secret,
            region,
            http: reqwest::Client::new(),
        })
    }

    /// Calls `TrentService.<operation>` with `body`; the answer's JSON, or the server's `__type: message`.
    async fn call(&self, operation: &str, body: Value) -> anyhow::Result<Value> {
        let url = format!("{}/", self.base);
        let uri: http::Uri = url
            .parse()
            .with_context(|| format!("ARCA_URL {url:?} is not a URL"))?;
        let body = serde_json::to_vec(&body)?;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert(
            "x-amz-target",
            http::HeaderValue::from_str(&format!("TrentService.{operation}"))?,
        );
        let credentials = Credentials {
            access_key_id: &self.access_key_id,
            secret_access_key: self.secret.as_bytes(),
            region: &self.region,
            service: SERVICE,
        };
        sign(
            &http::Method::POST,
            &uri,
            &mut headers,
            &body,
            &credentials,
            time::OffsetDateTime::now_utc(),
        )
        .map_err(|e| anyhow::anyhow!("cannot sign the request: {e}"))?;
        let response = self
            .http
            .post(&url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let kind = answer["__type"].as_str().unwrap_or("error");
            let message = answer["message"].as_str().unwrap_or("no message");
            bail!("server answered {status}: {kind}: {message}");
        }
        Ok(answer)
    }
}

/// Standard input, or the option's text.
fn input(given: Option<&str>) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if let Some(text) = given {
        return Ok(Zeroizing::new(text.as_bytes().to_vec()));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    Ok(bytes)
}

/// `k=v` pairs as an EncryptionContext object (refusing a key given twice).
fn context(pairs: &[String]) -> anyhow::Result<Option<Value>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            bail!("--context {pair:?}: expected key=value");
        };
        if map
            .insert(k.to_owned(), Value::String(v.to_owned()))
            .is_some()
        {
            bail!("--context: the key {k:?} is given twice");
        }
    }
    Ok(Some(Value::Object(map)))
}

fn base64_field(answer: &Value, field: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let text = answer[field]
        .as_str()
        .with_context(|| format!("the answer has no {field}"))?;
    Base64::decode_vec(text)
        .map(Zeroizing::new)
        .map_err(|_| anyhow::anyhow!("the answer's {field} is not base64"))
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The only usage a spec allows, when there is one (AWS's CreateKey defaults to ENCRYPT_DECRYPT, which
/// elliptic-curve and HMAC keys refuse).
fn implied_usage(spec: &str) -> Option<&'static str> {
    if spec.starts_with("ECC_") {
        Some("SIGN_VERIFY")
    } else if spec.starts_with("HMAC_") {
        Some("GENERATE_VERIFY_MAC")
    } else {
        None
    }
}

pub async fn create(args: KeyCreateArgs) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let mut body = json!({ "KeySpec": args.spec });
    if let Some(usage) = args
        .usage
        .or_else(|| implied_usage(&args.spec).map(str::to_owned))
    {
        body["KeyUsage"] = Value::String(usage);
    }
    if let Some(description) = args.description {
        body["Description"] = Value::String(description);
    }
    let answer = kms.call("CreateKey", body).await?;
    print_json(&answer["KeyMetadata"])?;
    println!(
        "{}",
        answer["KeyMetadata"]["KeyId"].as_str().unwrap_or_default()
    );
    Ok(())
}

pub async fn list() -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({ "Limit": 1000 });
        if let Some(m) = &marker {
            body["Marker"] = Value::String(m.clone());
        }
        let answer = kms.call("ListKeys", body).await?;
        for key in answer["Keys"].as_array().into_iter().flatten() {
            println!(
                "{}  {}",
                key["KeyId"].as_str().unwrap_or_default(),
                key["KeyArn"].as_str().unwrap_or_default()
            );
        }
        match answer["NextMarker"].as_str() {
            Some(next) if answer["Truncated"] == Value::Bool(true) => {
                marker = Some(next.to_owned())
            }
            _ => return Ok(()),
        }
    }
}

pub async fn describe(args: KeyRefArg) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let answer = kms
        .call("DescribeKey", json!({ "KeyId": args.key }))
        .await?;
    print_json(&answer["KeyMetadata"])
}

pub async fn encrypt(args: KeyEncryptArgs) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let plaintext = input(args.plaintext.as_deref())?;
    let mut body = json!({ "KeyId": args.key, "Plaintext": Base64::encode_string(&plaintext) });
    if let Some(ctx) = context(&args.context)? {
        body["EncryptionContext"] = ctx;
    }
    if let Some(alg) = args.algorithm {
        body["EncryptionAlgorithm"] = Value::String(alg);
    }
    let answer = kms.call("Encrypt", body).await?;
    println!("{}", answer["CiphertextBlob"].as_str().unwrap_or_default());
    Ok(())
}

pub async fn decrypt(args: KeyDecryptArgs) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let given = input(args.ciphertext.as_deref())?;
    let text = String::from_utf8_lossy(&given);
    let mut body = json!({ "CiphertextBlob": text.trim() });
    if let Some(key) = args.key {
        body["KeyId"] = Value::String(key);
    }
    if let Some(ctx) = context(&args.context)? {
        body["EncryptionContext"] = ctx;
    }
    if let Some(alg) = args.algorithm {
        body["EncryptionAlgorithm"] = Value::String(alg);
    }
    let answer = kms.call("Decrypt", body).await?;
    let plaintext = base64_field(&answer, "Plaintext")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&plaintext)?;
    out.flush()?;
    Ok(())
}

fn message_type(digest: bool) -> &'static str {
    if digest { "DIGEST" } else { "RAW" }
}

pub async fn sign_message(args: KeySignArgs) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let message = input(args.message.as_deref())?;
    let body = json!({
        "KeyId": args.key,
        "Message": Base64::encode_string(&message),
        "MessageType": message_type(args.digest),
        "SigningAlgorithm": args.algorithm,
    });
    let answer = kms.call("Sign", body).await?;
    println!("{}", answer["Signature"].as_str().unwrap_or_default());
    Ok(())
}

pub async fn verify(args: KeyVerifyArgs) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let message = input(args.message.as_deref())?;
    let body = json!({
        "KeyId": args.key,
        "Message": Base64::encode_string(&message),
        "MessageType": message_type(args.digest),
        "SigningAlgorithm": args.algorithm,
        "Signature": args.signature.trim(),
    });
    let answer = kms.call("Verify", body).await?;
    if answer["SignatureValid"] != Value::Bool(true) {
        bail!("the signature is not valid");
    }
    println!("valid");
    Ok(())
}

pub async fn rotate(args: KeyRefArg) -> anyhow::Result<()> {
    let kms = KmsClient::from_env()?;
    let answer = kms
        .call("RotateKeyOnDemand", json!({ "KeyId": args.key }))
        .await?;
    println!(
        "rotation of {} started",
        answer["KeyId"].as_str().unwrap_or(&args.key)
    );
    Ok(())
}
