//! GenerateDataKey(WithoutPlaintext) and GenerateDataKeyPair(WithoutPlaintext) on the wire: exactly one of
//! `KeySpec` (AES_128 = 16 bytes, AES_256 = 32) and `NumberOfBytes` (1..=1024); pair specs are the
//! asymmetric key specs. Plaintext halves are answered only by the operations that return them.

use arca_crypto::KmsKeySpec;
use serde::{Deserialize, Serialize};

use super::error::KmsApiError;
use super::keys::{arn_of, key_spec};
use super::wire::{Context, b64, b64_secret, enum_value, key_ref, parse, range, required};
use super::{Answer, Ctx, ok};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyRequest {
    key_id: Option<String>,
    key_spec: Option<String>,
    number_of_bytes: Option<i64>,
    encryption_context: Option<Context>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyResponse<'a> {
    ciphertext_blob: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<&'a str>,
    key_id: String,
}

/// The data key length in bytes from exactly one of `KeySpec` and `NumberOfBytes`.
fn data_key_len(spec: Option<&str>, bytes: Option<i64>) -> Result<usize, KmsApiError> {
    match (spec, bytes) {
        (Some(_), Some(_)) => Err(KmsApiError::client(
            "ValidationException",
            "Specify either KeySpec or NumberOfBytes, not both.",
        )),
        (None, None) => Err(KmsApiError::client(
            "ValidationException",
            "Specify either KeySpec or NumberOfBytes.",
        )),
        (Some(spec), None) => enum_value(
            spec,
            "keySpec",
            |s| match s {
                "AES_128" => Some(16),
                "AES_256" => Some(32),
                _ => None,
            },
            &["AES_256", "AES_128"],
        ),
        (None, Some(n)) => {
            range(n, "numberOfBytes", 1, 1024)?;
            Ok(usize::try_from(n).unwrap_or(0))
        }
    }
}

pub(crate) async fn generate_data_key(ctx: &Ctx<'_>, body: &[u8], with_plaintext: bool) -> Answer {
    let r: DataKeyRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let len = data_key_len(r.key_spec.as_deref(), r.number_of_bytes)?;
    let context = Context::encryption_context(r.encryption_context);
    let out = ctx
        .kms()
        .generate_data_key(ctx.principal, &key, len, &context)
        .await?;
    let plaintext = with_plaintext.then(|| b64_secret(&out.plaintext));
    ok(&DataKeyResponse {
        ciphertext_blob: b64(&out.ciphertext),
        plaintext: plaintext.as_ref().map(|p| p.as_str()),
        key_id: arn_of(ctx, out.key_id),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyPairRequest {
    key_id: Option<String>,
    key_pair_spec: Option<String>,
    encryption_context: Option<Context>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyPairResponse<'a> {
    private_key_ciphertext_blob: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_plaintext: Option<&'a str>,
    public_key: String,
    key_id: String,
    key_pair_spec: &'static str,
}

pub(crate) async fn generate_data_key_pair(
    ctx: &Ctx<'_>,
    body: &[u8],
    with_plaintext: bool,
) -> Answer {
    let r: DataKeyPairRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let spec_name = required(r.key_pair_spec, "keyPairSpec")?;
    let spec = key_spec(&spec_name, "keyPairSpec")
        .ok()
        .filter(|s| s.is_asymmetric())
        .ok_or_else(|| {
            let allowed: Vec<&str> = KmsKeySpec::ALL
                .iter()
                .filter(|s| s.is_asymmetric())
                .map(|s| s.as_str())
                .collect();
            KmsApiError::validation(
                &spec_name,
                "keyPairSpec",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            )
        })?;
    let context = Context::encryption_context(r.encryption_context);
    let out = ctx
        .kms()
        .generate_data_key_pair(ctx.principal, &key, spec, &context)
        .await?;
    let plaintext = with_plaintext.then(|| b64_secret(&out.private_plaintext));
    ok(&DataKeyPairResponse {
        private_key_ciphertext_blob: b64(&out.private_ciphertext),
        private_key_plaintext: plaintext.as_ref().map(|p| p.as_str()),
        public_key: b64(&out.public_der),
        key_id: arn_of(ctx, out.key_id),
        key_pair_spec: out.spec.as_str(),
    })
}
