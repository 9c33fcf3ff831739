//! GenerateRandom on the wire: `NumberOfBytes` 1..=1024, answered as a base64 `Plaintext`.

use serde::{Deserialize, Serialize};

use super::error::KmsApiError;
use super::wire::{b64_secret, parse, range, required};
use super::{Answer, Ctx, ok};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RandomRequest {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RandomResponse<'a> {
    plaintext: &'a str,
}

pub(crate) async fn generate_random(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: RandomRequest = parse(body)?;
    if r.custom_key_store_id.is_some() {
        return Err(KmsApiError::client(
            "CustomKeyStoreNotFoundException",
            "Custom key stores are not supported.",
        ));
    }
    let n = required(r.number_of_bytes, "numberOfBytes")?;
    range(n, "numberOfBytes", 1, 1024)?;
    let bytes = ctx
        .kms()
        .generate_random(ctx.principal, usize::try_from(n).unwrap_or(0))
        .await?;
    let plaintext = b64_secret(&bytes);
    ok(&RandomResponse {
        plaintext: &plaintext,
    })
}
