//! Sign, Verify and GetPublicKey on the wire. `MessageType` defaults to RAW; `SigningAlgorithm` is required.
//! A signature that does not verify is `KMSInvalidSignatureException` (from the service), as AWS answers.

use arca_crypto::{KmsKeyUsage, MessageType, SigningAlgorithm};
use serde::{Deserialize, Serialize};

use super::error::KmsApiError;
use super::keys::arn_of;
use super::wire::{Blob, b64, blob_length, enum_value, key_ref, parse, required};
use super::{Answer, Ctx, ok};

fn signing_algorithm(value: Option<String>) -> Result<SigningAlgorithm, KmsApiError> {
    let value = required(value, "signingAlgorithm")?;
    let allowed: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    enum_value(
        &value,
        "signingAlgorithm",
        SigningAlgorithm::parse,
        &allowed,
    )
}

fn message_type(value: Option<&str>) -> Result<MessageType, KmsApiError> {
    match value {
        None => Ok(MessageType::Raw),
        Some(v) => {
            let allowed: Vec<&str> = MessageType::ALL.iter().map(|a| a.as_str()).collect();
            enum_value(v, "messageType", MessageType::parse, &allowed)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignRequest {
    key_id: Option<String>,
    message: Option<Blob>,
    message_type: Option<String>,
    signing_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SignResponse {
    key_id: String,
    signature: String,
    signing_algorithm: &'static str,
}

pub(crate) async fn sign(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: SignRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let message = required(r.message, "message")?;
    blob_length(&message.0, "message", 1, 4096)?;
    let message_type = message_type(r.message_type.as_deref())?;
    let algorithm = signing_algorithm(r.signing_algorithm)?;
    let out = ctx
        .kms()
        .sign(ctx.principal, &key, &message.0, message_type, algorithm)
        .await?;
    ok(&SignResponse {
        key_id: arn_of(ctx, out.key_id),
        signature: b64(&out.signature),
        signing_algorithm: out.algorithm.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyRequest {
    key_id: Option<String>,
    message: Option<Blob>,
    message_type: Option<String>,
    signature: Option<Blob>,
    signing_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyResponse {
    key_id: String,
    signature_valid: bool,
    signing_algorithm: &'static str,
}

pub(crate) async fn verify(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: VerifyRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let message = required(r.message, "message")?;
    blob_length(&message.0, "message", 1, 4096)?;
    let signature = required(r.signature, "signature")?;
    blob_length(&signature.0, "signature", 1, 6144)?;
    let message_type = message_type(r.message_type.as_deref())?;
    let algorithm = signing_algorithm(r.signing_algorithm)?;
    let out = ctx
        .kms()
        .verify(
            ctx.principal,
            &key,
            &message.0,
            message_type,
            &signature.0,
            algorithm,
        )
        .await?;
    ok(&VerifyResponse {
        key_id: arn_of(ctx, out.key_id),
        signature_valid: true,
        signing_algorithm: out.algorithm.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublicKeyRequest {
    key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PublicKeyResponse {
    key_id: String,
    public_key: String,
    customer_master_key_spec: &'static str,
    key_spec: &'static str,
    key_usage: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_algorithms: Option<Vec<&'static str>>,
}

pub(crate) async fn get_public_key(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: PublicKeyRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let out = ctx.kms().get_public_key(ctx.principal, &key).await?;
    let spec = out.key.key_spec;
    let usage = out.key.key_usage;
    ok(&PublicKeyResponse {
        key_id: out.key.arn(ctx.region),
        public_key: b64(&out.der),
        customer_master_key_spec: spec.as_str(),
        key_spec: spec.as_str(),
        key_usage: usage.as_str(),
        encryption_algorithms: (usage == KmsKeyUsage::EncryptDecrypt).then(|| {
            spec.encryption_algorithms()
                .iter()
                .map(|a| a.as_str())
                .collect()
        }),
        signing_algorithms: (usage == KmsKeyUsage::SignVerify).then(|| {
            spec.signing_algorithms()
                .iter()
                .map(|a| a.as_str())
                .collect()
        }),
    })
}
