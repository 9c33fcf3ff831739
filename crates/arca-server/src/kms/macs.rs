//! GenerateMac and VerifyMac on the wire. A MAC that does not verify is `KMSInvalidMacException` (from the
//! service), as AWS answers.

use arca_crypto::MacAlgorithm;
use serde::{Deserialize, Serialize};

use super::error::KmsApiError;
use super::keys::arn_of;
use super::wire::{Blob, b64, blob_length, enum_value, key_ref, parse, required};
use super::{Answer, Ctx, ok};

fn mac_algorithm(value: Option<String>) -> Result<MacAlgorithm, KmsApiError> {
    let value = required(value, "macAlgorithm")?;
    let allowed: Vec<&str> = MacAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    enum_value(&value, "macAlgorithm", MacAlgorithm::parse, &allowed)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateMacRequest {
    key_id: Option<String>,
    message: Option<Blob>,
    mac_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateMacResponse {
    mac: String,
    mac_algorithm: &'static str,
    key_id: String,
}

pub(crate) async fn generate_mac(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: GenerateMacRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let message = required(r.message, "message")?;
    blob_length(&message.0, "message", 1, 4096)?;
    let algorithm = mac_algorithm(r.mac_algorithm)?;
    let out = ctx
        .kms()
        .generate_mac(ctx.principal, &key, &message.0, algorithm)
        .await?;
    ok(&GenerateMacResponse {
        mac: b64(&out.mac),
        mac_algorithm: out.algorithm.as_str(),
        key_id: arn_of(ctx, out.key_id),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyMacRequest {
    key_id: Option<String>,
    message: Option<Blob>,
    mac: Option<Blob>,
    mac_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyMacResponse {
    key_id: String,
    mac_valid: bool,
    mac_algorithm: &'static str,
}

pub(crate) async fn verify_mac(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: VerifyMacRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let message = required(r.message, "message")?;
    blob_length(&message.0, "message", 1, 4096)?;
    let mac = required(r.mac, "mac")?;
    blob_length(&mac.0, "mac", 1, 6144)?;
    let algorithm = mac_algorithm(r.mac_algorithm)?;
    let key_id = ctx
        .kms()
        .verify_mac(ctx.principal, &key, &message.0, &mac.0, algorithm)
        .await?;
    ok(&VerifyMacResponse {
        key_id: arn_of(ctx, key_id),
        mac_valid: true,
        mac_algorithm: algorithm.as_str(),
    })
}
