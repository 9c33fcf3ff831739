//! The scenarios, as data: adding one is a few lines in `SCENARIOS`. Each names its request, whether it needs
//! the population stored first, how it picks secret ids, and its target as a ratio to the baseline. The AWS
//! KMS scenarios (`kms: Some(..)`) instead replay one SigV4-signed `POST /` that [`KmsBench`] prepares: an
//! access key from `arca access-key create`, a symmetric and a P-256 key made through the API, and a request
//! signed just before each scenario runs (the server accepts a signature for ±15 minutes and keeps no replay
//! cache, so one signed request serves a whole measurement).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Which secret ids a scenario's requests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// No id in the path.
    None,
    /// Cycle through a sample of stored ids.
    Sample,
    /// Use every stored id once (for deletes).
    Consume,
}

/// What a scenario must reach (ratios to the baseline of the same run; p99 at the run's connections).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub min_ratio: f64,
    pub max_p99_ms: Option<f64>,
}

/// One benchmark scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub method: &'static str,
    /// Path with `{id}` where a secret id goes.
    pub path: &'static str,
    pub accept: Option<&'static str>,
    /// Whether the request carries the 1 KiB store body.
    pub store_body: bool,
    pub ids: Ids,
    /// Run after the population is stored; re-measured at 1M secrets with `--scale` when `scale` is set.
    pub after_population: bool,
    pub scale: bool,
    pub target: Option<Target>,
    /// An AWS KMS operation sent as a pre-signed `POST /` (method, path, accept and ids are then unused).
    pub kms: Option<KmsOp>,
}

const fn target(min_ratio: f64, max_p99_ms: Option<f64>) -> Option<Target> {
    Some(Target {
        min_ratio,
        max_p99_ms,
    })
}

/// Every scenario, in the order they run.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "store 1 KiB secret (durable)",
        method: "POST",
        path: "/v1/secrets",
        accept: Some("application/json"),
        store_body: true,
        ids: Ids::None,
        after_population: false,
        scale: false,
        target: target(0.25, Some(10.0)),
        kms: None,
    },
    Scenario {
        name: "get payload",
        method: "GET",
        path: "/v1/secrets/{id}/payload",
        accept: Some("text/plain"),
        store_body: false,
        ids: Ids::Sample,
        after_population: true,
        scale: true,
        target: target(0.50, Some(5.0)),
        kms: None,
    },
    Scenario {
        name: "get metadata",
        method: "GET",
        path: "/v1/secrets/{id}",
        accept: Some("application/json"),
        store_body: false,
        ids: Ids::Sample,
        after_population: true,
        scale: true,
        target: target(0.50, None),
        kms: None,
    },
    Scenario {
        name: "list page of 10",
        method: "GET",
        path: "/v1/secrets?limit=10",
        accept: Some("application/json"),
        store_body: false,
        ids: Ids::None,
        after_population: true,
        scale: true,
        target: target(0.30, None),
        kms: None,
    },
    Scenario {
        name: "delete",
        method: "DELETE",
        path: "/v1/secrets/{id}",
        accept: None,
        store_body: false,
        ids: Ids::Consume,
        after_population: true,
        scale: false,
        target: None,
        kms: None,
    },
    kms_scenario("KMS Encrypt 1 KiB", KmsOp::Encrypt, 0.60),
    kms_scenario("KMS Decrypt 1 KiB", KmsOp::Decrypt, 0.60),
    kms_scenario("KMS GenerateDataKey AES_256", KmsOp::GenerateDataKey, 0.50),
    kms_scenario("KMS Sign P-256", KmsOp::SignP256, 0.40),
];

const fn kms_scenario(name: &'static str, op: KmsOp, min_ratio: f64) -> Scenario {
    Scenario {
        name,
        method: "POST",
        path: "/",
        accept: None,
        store_body: false,
        ids: Ids::None,
        after_population: false,
        scale: false,
        target: target(min_ratio, None),
        kms: Some(op),
    }
}

/// The JSON body of a 1 KiB text secret.
pub fn store_body() -> String {
    let payload: String = (0..1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    format!(r#"{{"name":"bench","payload":"{payload}","payload_content_type":"text/plain"}}"#)
}

/// The AWS KMS operations the benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KmsOp {
    /// Encrypt 1 KiB under a symmetric key.
    Encrypt,
    /// Decrypt a 1 KiB ciphertext (no KeyId: the blob names the key).
    Decrypt,
    /// GenerateDataKey with KeySpec AES_256.
    GenerateDataKey,
    /// Sign a 64-byte RAW message with an ECC_NIST_P256 key (ECDSA_SHA_256).
    SignP256,
}

const KMS_REGION: &str = "us-east-1";
const KMS_PROJECT: &str = "bench";

/// What the KMS scenarios need, made once per run: SigV4 credentials and the keys and ciphertext their
/// bodies name.
pub struct KmsBench {
    url: String,
    host: String,
    access_key_id: String,
    secret: String,
    symmetric_key: String,
    p256_key: String,
    ciphertext: String,
    dir: PathBuf,
}

impl KmsBench {
    /// Makes an admin access key of project `bench` with `arca access-key create` (the server is running on
    /// `data_dir`), then a symmetric key, a P-256 signing key and a 1 KiB ciphertext through the API.
    pub async fn create(
        arca: &Path,
        data_dir: &Path,
        url: &str,
        work: &Path,
    ) -> anyhow::Result<KmsBench> {
        let dir = data_dir.to_str().context("data dir path is not UTF-8")?;
        let line = crate::server::arca_last_line(
            arca,
            &[
                "access-key",
                "create",
                "--data-dir",
                dir,
                "--project",
                KMS_PROJECT,
                "--user",
                "bench",
                "--roles",
                "admin",
            ],
        )?;
        let (access_key_id, secret) = line
            .split_once(' ')
            .context("`arca access-key create` did not print `<id> <secret>`")?;
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut bench = KmsBench {
            url: url.trim_end_matches('/').to_owned(),
            host,
            access_key_id: access_key_id.to_owned(),
            secret: secret.to_owned(),
            symmetric_key: String::new(),
            p256_key: String::new(),
            ciphertext: String::new(),
            dir: work.join("kms"),
        };
        std::fs::create_dir_all(&bench.dir)?;
        let created = bench
            .call("CreateKey", &serde_json::json!({"Description": "bench"}))
            .await?;
        bench.symmetric_key = key_id(&created)?;
        let created = bench
            .call(
                "CreateKey",
                &serde_json::json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
            )
            .await?;
        bench.p256_key = key_id(&created)?;
        let sealed = bench.call("Encrypt", &bench.body(KmsOp::Encrypt)).await?;
        bench.ciphertext = sealed["CiphertextBlob"]
            .as_str()
            .context("Encrypt answered no CiphertextBlob")?
            .to_owned();
        Ok(bench)
    }

    /// The JSON body of one `op` request.
    fn body(&self, op: KmsOp) -> serde_json::Value {
        use serde_json::json;
        match op {
            KmsOp::Encrypt => json!({
                "KeyId": self.symmetric_key,
                "Plaintext": base64(store_body().as_bytes().get(..1024).unwrap_or_default()),
            }),
            KmsOp::Decrypt => json!({"CiphertextBlob": self.ciphertext}),
            KmsOp::GenerateDataKey => json!({"KeyId": self.symmetric_key, "KeySpec": "AES_256"}),
            KmsOp::SignP256 => json!({
                "KeyId": self.p256_key,
                "Message": base64(&[0x5a; 64]),
                "MessageType": "RAW",
                "SigningAlgorithm": "ECDSA_SHA_256",
            }),
        }
    }

    /// The signed headers of `target` with `body`, signed now.
    fn headers(&self, target: &str, body: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
        let input = SignInput {
            host: &self.host,
            target,
            body,
            access_key_id: &self.access_key_id,
            secret: &self.secret,
            region: KMS_REGION,
            now: time::OffsetDateTime::now_utc(),
        };
        let mut headers = vec![
            (
                "Content-Type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            ("X-Amz-Target".to_owned(), target.to_owned()),
        ];
        headers.extend(sigv4_headers(&input)?);
        Ok(headers)
    }

    /// One signed API call during setup; the answer's JSON.
    async fn call(&self, op: &str, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let target = format!("TrentService.{op}");
        let body = body.to_string();
        let mut request = reqwest::Client::new()
            .post(format!("{}/", self.url))
            .body(body.clone());
        for (name, value) in self.headers(&target, body.as_bytes())? {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("KMS {op} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// wrk arguments for `op`: the body and the headers of one request signed now, written to files.
    pub fn wrk_args(&self, op: KmsOp) -> anyhow::Result<Vec<String>> {
        let target = format!(
            "TrentService.{}",
            match op {
                KmsOp::Encrypt => "Encrypt",
                KmsOp::Decrypt => "Decrypt",
                KmsOp::GenerateDataKey => "GenerateDataKey",
                KmsOp::SignP256 => "Sign",
            }
        );
        let body = self.body(op).to_string();
        let name = format!("{op:?}");
        let body_file = self.dir.join(format!("{name}.json"));
        std::fs::write(&body_file, &body)?;
        let headers_file = self.dir.join(format!("{name}.headers"));
        let lines: String = self
            .headers(&target, body.as_bytes())?
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        std::fs::write(&headers_file, lines)?;
        Ok(vec![
            "method=POST".into(),
            "path=/".into(),
            format!("body={}", body_file.display()),
            format!("headers={}", headers_file.display()),
        ])
    }
}

fn key_id(created: &serde_json::Value) -> anyhow::Result<String> {
    created["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_owned)
        .context("CreateKey answered no KeyMetadata.KeyId")
}

/// What a SigV4 signature covers: `POST /` to `host` with `X-Amz-Target: target`, `Content-Type:
/// application/x-amz-json-1.1` and `body`, for service `kms` in `region`, at `now`.
pub struct SignInput<'a> {
    pub host: &'a str,
    pub target: &'a str,
    pub body: &'a [u8],
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub now: time::OffsetDateTime,
}

/// The headers that authenticate one request: `Host`, `X-Amz-Date` and `Authorization` over content-type, host,
/// x-amz-date and x-amz-target, from the server's own client-side signer (`arca_server::kms::sigv4::sign`).
fn sigv4_headers(input: &SignInput<'_>) -> anyhow::Result<Vec<(String, String)>> {
    use arca_server::kms::sigv4::{Credentials, SERVICE, sign};
    use axum::http::{HeaderMap, HeaderValue, Method, Uri};

    let uri: Uri = format!("http://{}/", input.host)
        .parse()
        .with_context(|| format!("{:?} is not a host", input.host))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    headers.insert("x-amz-target", HeaderValue::from_str(input.target)?);
    let credentials = Credentials {
        access_key_id: input.access_key_id,
        secret_access_key: input.secret.as_bytes(),
        region: input.region,
        service: SERVICE,
    };
    sign(
        &Method::POST,
        &uri,
        &mut headers,
        input.body,
        &credentials,
        input.now,
    )
    .map_err(|e| anyhow::anyhow!("cannot sign the KMS request: {e}"))?;
    // Named as wrk's own `Host`, so the Lua script replaces it rather than sending two.
    let wanted = [
        ("host", "Host"),
        ("x-amz-date", "X-Amz-Date"),
        ("authorization", "Authorization"),
    ];
    wanted
        .iter()
        .map(|(name, shown)| {
            let value = headers
                .get(*name)
                .with_context(|| format!("the signer set no {name} header"))?
                .to_str()?;
            Ok(((*shown).to_owned(), value.to_owned()))
        })
        .collect()
}

/// Standard base64 with padding, for the few bytes the KMS bodies carry.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }
}
