//! Key management on the wire: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey,
//! DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, and the `KeyMetadata` shape they answer with.

use arca_crypto::{KmsKeySpec, KmsKeyUsage};
use serde::{Deserialize, Serialize};

use arca_core::{KmsKey, key_arn};

use super::error::KmsApiError;
use super::wire::{enum_value, epoch, key_ref, length, limit, marker, parse, range};
use super::{Answer, Ctx, ok, tags};

/// AWS's `KeyMetadata`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    aws_account_id: String,
    key_id: String,
    arn: String,
    creation_date: f64,
    enabled: bool,
    description: String,
    key_usage: &'static str,
    key_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<f64>,
    origin: &'static str,
    key_manager: &'static str,
    customer_master_key_spec: &'static str,
    key_spec: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac_algorithms: Option<Vec<&'static str>>,
    multi_region: bool,
}

/// A list of algorithm names, or `None` when empty (AWS omits the member).
fn names<T: Copy>(list: &[T], name: impl Fn(T) -> &'static str) -> Option<Vec<&'static str>> {
    (!list.is_empty()).then(|| list.iter().map(|a| name(*a)).collect())
}

/// The metadata of `key` as seen from `region`.
pub(crate) fn metadata(key: &KmsKey, region: &str) -> KeyMetadata {
    let spec = key.key_spec;
    let usage = key.key_usage;
    KeyMetadata {
        aws_account_id: key.project_id.clone(),
        key_id: key.id.to_string(),
        arn: key.arn(region),
        creation_date: epoch(key.created),
        enabled: key.enabled(),
        description: key.description.clone(),
        key_usage: usage.as_str(),
        key_state: key.state.as_str(),
        deletion_date: key.deletion_date.map(epoch),
        origin: "AWS_KMS",
        key_manager: "CUSTOMER",
        customer_master_key_spec: spec.as_str(),
        key_spec: spec.as_str(),
        encryption_algorithms: (usage == KmsKeyUsage::EncryptDecrypt)
            .then(|| names(spec.encryption_algorithms(), |a| a.as_str()))
            .flatten(),
        signing_algorithms: (usage == KmsKeyUsage::SignVerify)
            .then(|| names(spec.signing_algorithms(), |a| a.as_str()))
            .flatten(),
        mac_algorithms: (usage == KmsKeyUsage::GenerateVerifyMac)
            .then(|| names(spec.mac_algorithms(), |a| a.as_str()))
            .flatten(),
        multi_region: false,
    }
}

/// The ARN of the key `id` of the caller's project.
pub(crate) fn arn_of(ctx: &Ctx<'_>, id: uuid::Uuid) -> String {
    key_arn(ctx.region, &ctx.principal.project_id, id)
}

/// Parses a `KeySpec`-like member.
pub(crate) fn key_spec(value: &str, field: &str) -> Result<KmsKeySpec, KmsApiError> {
    let allowed: Vec<&str> = KmsKeySpec::ALL.iter().map(|s| s.as_str()).collect();
    enum_value(value, field, KmsKeySpec::parse, &allowed)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKeyRequest {
    description: Option<String>,
    key_usage: Option<String>,
    key_spec: Option<String>,
    customer_master_key_spec: Option<String>,
    origin: Option<String>,
    multi_region: Option<bool>,
    tags: Option<Vec<tags::Tag>>,
    policy: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataResponse {
    key_metadata: KeyMetadata,
}

pub(crate) async fn create_key(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: CreateKeyRequest = parse(body)?;
    let description = r.description.unwrap_or_default();
    length(&description, "description", 0, 8192)?;
    if let Some(policy) = &r.policy {
        length(policy, "policy", 1, 32768)?;
    }
    if r.key_spec.is_some() && r.customer_master_key_spec.is_some() {
        return Err(KmsApiError::client(
            "ValidationException",
            "You cannot specify both KeySpec and CustomerMasterKeySpec; use KeySpec.",
        ));
    }
    let key_spec = match r.key_spec.as_deref() {
        Some(s) => Some(key_spec(s, "keySpec")?),
        None => match r.customer_master_key_spec.as_deref() {
            Some(s) => Some(key_spec(s, "customerMasterKeySpec")?),
            None => None,
        },
    };
    let key_usage = match r.key_usage.as_deref() {
        Some(u) => {
            let allowed: Vec<&str> = KmsKeyUsage::ALL.iter().map(|s| s.as_str()).collect();
            Some(enum_value(u, "keyUsage", KmsKeyUsage::parse, &allowed)?)
        }
        None => None,
    };
    match r.origin.as_deref() {
        None | Some("AWS_KMS") => {}
        Some(other @ ("EXTERNAL" | "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE")) => {
            return Err(KmsApiError::client(
                "UnsupportedOperationException",
                format!(
                    "Origin {other} is not supported; Arca makes key material itself (AWS_KMS)."
                ),
            ));
        }
        Some(other) => {
            return Err(KmsApiError::validation(
                other,
                "origin",
                "Member must satisfy enum value set: [EXTERNAL_KEY_STORE, AWS_CLOUDHSM, AWS_KMS, EXTERNAL]",
            ));
        }
    }
    if r.multi_region == Some(true) {
        return Err(KmsApiError::client(
            "UnsupportedOperationException",
            "Multi-Region keys are not supported.",
        ));
    }
    let request = arca_core::CreateKeyRequest {
        description,
        key_spec,
        key_usage,
        tags: tags::pairs(r.tags)?,
    };
    let key = ctx.kms().create_key(ctx.principal, request).await?;
    ok(&MetadataResponse {
        key_metadata: metadata(&key, ctx.region),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdRequest {
    key_id: Option<String>,
}

pub(crate) async fn describe_key(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let key = ctx.kms().describe_key(ctx.principal, &key).await?;
    ok(&MetadataResponse {
        key_metadata: metadata(&key, ctx.region),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyListEntry {
    key_id: String,
    key_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListKeysResponse {
    keys: Vec<KeyListEntry>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) async fn list_keys(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: ListRequest = parse(body)?;
    let limit = limit(r.limit, 1000)?;
    marker(&r.marker)?;
    let page = ctx
        .kms()
        .list_keys(ctx.principal, limit, r.marker.as_deref())
        .await?;
    ok(&ListKeysResponse {
        keys: page
            .keys
            .iter()
            .map(|k| KeyListEntry {
                key_id: k.id.to_string(),
                key_arn: k.arn(ctx.region),
            })
            .collect(),
        truncated: page.next_marker.is_some(),
        next_marker: page.next_marker,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateDescriptionRequest {
    key_id: Option<String>,
    description: Option<String>,
}

pub(crate) async fn update_key_description(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: UpdateDescriptionRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let description = super::wire::required(r.description, "description")?;
    length(&description, "description", 0, 8192)?;
    ctx.kms()
        .update_key_description(ctx.principal, &key, &description)
        .await?;
    ok(&serde_json::json!({}))
}

pub(crate) async fn enable_key(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    ctx.kms().enable_key(ctx.principal, &key).await?;
    ok(&serde_json::json!({}))
}

pub(crate) async fn disable_key(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    ctx.kms().disable_key(ctx.principal, &key).await?;
    ok(&serde_json::json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleDeletionRequest {
    key_id: Option<String>,
    pending_window_in_days: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleDeletionResponse {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<f64>,
    key_state: &'static str,
    pending_window_in_days: i64,
}

pub(crate) async fn schedule_key_deletion(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: ScheduleDeletionRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let days = r.pending_window_in_days.unwrap_or(30);
    range(days, "pendingWindowInDays", 7, 30)?;
    let window = u32::try_from(days).unwrap_or(30);
    let key = ctx
        .kms()
        .schedule_key_deletion(ctx.principal, &key, Some(window))
        .await?;
    ok(&ScheduleDeletionResponse {
        key_id: key.arn(ctx.region),
        deletion_date: key.deletion_date.map(epoch),
        key_state: key.state.as_str(),
        pending_window_in_days: days,
    })
}

pub(crate) async fn cancel_key_deletion(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let key = ctx.kms().cancel_key_deletion(ctx.principal, &key).await?;
    ok(&serde_json::json!({"KeyId": key.arn(ctx.region)}))
}
