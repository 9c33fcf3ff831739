//! Encrypt, Decrypt and ReEncrypt on the wire. Plaintexts arrive and leave in zeroizing buffers; key ids in
//! answers are key ARNs, as AWS returns them.

use arca_crypto::EncryptionAlgorithm;
use serde::{Deserialize, Serialize};

use super::error::KmsApiError;
use super::keys::arn_of;
use super::wire::{
    Blob, Context, SecretBlob, b64, b64_secret, blob_length, enum_value, key_ref, length, parse,
    required,
};
use super::{Answer, Ctx, ok};

/// An optional `EncryptionAlgorithm`-like member (default `SYMMETRIC_DEFAULT`).
pub(crate) fn algorithm(
    value: Option<&str>,
    field: &str,
) -> Result<EncryptionAlgorithm, KmsApiError> {
    match value {
        None => Ok(EncryptionAlgorithm::SymmetricDefault),
        Some(v) => {
            let allowed: Vec<&str> = EncryptionAlgorithm::ALL
                .iter()
                .map(|a| a.as_str())
                .collect();
            enum_value(v, field, EncryptionAlgorithm::parse, &allowed)
        }
    }
}

/// An optional key reference (1..=2048 characters when present).
pub(crate) fn optional_key_ref(
    value: Option<String>,
    field: &str,
) -> Result<Option<String>, KmsApiError> {
    if let Some(v) = &value {
        length(v, field, 1, 2048)?;
    }
    Ok(value)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptRequest {
    key_id: Option<String>,
    plaintext: Option<SecretBlob>,
    encryption_context: Option<Context>,
    encryption_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptResponse {
    ciphertext_blob: String,
    key_id: String,
    encryption_algorithm: &'static str,
}

pub(crate) async fn encrypt(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: EncryptRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let plaintext = required(r.plaintext, "plaintext")?;
    blob_length(&plaintext.0, "plaintext", 1, 4096)?;
    let algorithm = algorithm(r.encryption_algorithm.as_deref(), "encryptionAlgorithm")?;
    let context = Context::encryption_context(r.encryption_context);
    let out = ctx
        .kms()
        .encrypt(ctx.principal, &key, &plaintext.0, &context, algorithm)
        .await?;
    ok(&EncryptResponse {
        ciphertext_blob: b64(&out.ciphertext),
        key_id: arn_of(ctx, out.key_id),
        encryption_algorithm: out.algorithm.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptRequest {
    key_id: Option<String>,
    ciphertext_blob: Option<Blob>,
    encryption_context: Option<Context>,
    encryption_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptResponse<'a> {
    key_id: String,
    plaintext: &'a str,
    encryption_algorithm: &'static str,
}

pub(crate) async fn decrypt(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: DecryptRequest = parse(body)?;
    let key = optional_key_ref(r.key_id, "keyId")?;
    let blob = required(r.ciphertext_blob, "ciphertextBlob")?;
    blob_length(&blob.0, "ciphertextBlob", 1, 6144)?;
    let algorithm = algorithm(r.encryption_algorithm.as_deref(), "encryptionAlgorithm")?;
    let context = Context::encryption_context(r.encryption_context);
    let out = ctx
        .kms()
        .decrypt(ctx.principal, key.as_deref(), &blob.0, &context, algorithm)
        .await?;
    let plaintext = b64_secret(&out.plaintext);
    ok(&DecryptResponse {
        key_id: arn_of(ctx, out.key_id),
        plaintext: &plaintext,
        encryption_algorithm: out.algorithm.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReEncryptRequest {
    ciphertext_blob: Option<Blob>,
    source_encryption_context: Option<Context>,
    source_key_id: Option<String>,
    destination_key_id: Option<String>,
    destination_encryption_context: Option<Context>,
    source_encryption_algorithm: Option<String>,
    destination_encryption_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReEncryptResponse {
    ciphertext_blob: String,
    source_key_id: String,
    key_id: String,
    source_encryption_algorithm: &'static str,
    destination_encryption_algorithm: &'static str,
}

pub(crate) async fn re_encrypt(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: ReEncryptRequest = parse(body)?;
    let blob = required(r.ciphertext_blob, "ciphertextBlob")?;
    blob_length(&blob.0, "ciphertextBlob", 1, 6144)?;
    let source_key = optional_key_ref(r.source_key_id, "sourceKeyId")?;
    let destination = key_ref(r.destination_key_id, "destinationKeyId")?;
    let source_alg = algorithm(
        r.source_encryption_algorithm.as_deref(),
        "sourceEncryptionAlgorithm",
    )?;
    let destination_alg = algorithm(
        r.destination_encryption_algorithm.as_deref(),
        "destinationEncryptionAlgorithm",
    )?;
    let source_context = Context::encryption_context(r.source_encryption_context);
    let destination_context = Context::encryption_context(r.destination_encryption_context);
    let out = ctx
        .kms()
        .re_encrypt(
            ctx.principal,
            &blob.0,
            &source_context,
            source_key.as_deref(),
            &destination,
            &destination_context,
            source_alg,
            destination_alg,
        )
        .await?;
    ok(&ReEncryptResponse {
        ciphertext_blob: b64(&out.ciphertext),
        source_key_id: arn_of(ctx, out.source_key_id),
        key_id: arn_of(ctx, out.key_id),
        source_encryption_algorithm: out.source_algorithm.as_str(),
        destination_encryption_algorithm: out.algorithm.as_str(),
    })
}
