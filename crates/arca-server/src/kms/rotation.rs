//! EnableKeyRotation (with `RotationPeriodInDays` 90..=2560), DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand and ListKeyRotations on the wire.

use serde::{Deserialize, Serialize};

use super::keys::arn_of;
use super::wire::{epoch, key_ref, limit, marker, parse, range};
use super::{Answer, Ctx, ok};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnableRequest {
    key_id: Option<String>,
    rotation_period_in_days: Option<i64>,
}

pub(crate) async fn enable_key_rotation(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: EnableRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let period = match r.rotation_period_in_days {
        Some(days) => {
            range(days, "rotationPeriodInDays", 90, 2560)?;
            u32::try_from(days).ok()
        }
        None => None,
    };
    ctx.kms()
        .enable_key_rotation(ctx.principal, &key, period)
        .await?;
    ok(&serde_json::json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdRequest {
    key_id: Option<String>,
}

pub(crate) async fn disable_key_rotation(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    ctx.kms().disable_key_rotation(ctx.principal, &key).await?;
    ok(&serde_json::json!({}))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusResponse {
    key_rotation_enabled: bool,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_demand_rotation_start_date: Option<f64>,
}

pub(crate) async fn get_key_rotation_status(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let status = ctx
        .kms()
        .get_key_rotation_status(ctx.principal, &key)
        .await?;
    ok(&StatusResponse {
        key_rotation_enabled: status.enabled,
        key_id: arn_of(ctx, status.key_id),
        rotation_period_in_days: status.period_days,
        next_rotation_date: status.next_rotation.map(epoch),
        on_demand_rotation_start_date: status.on_demand_started.map(epoch),
    })
}

pub(crate) async fn rotate_key_on_demand(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: KeyIdRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let id = ctx.kms().rotate_key_on_demand(ctx.principal, &key).await?;
    ok(&serde_json::json!({"KeyId": arn_of(ctx, id)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRotationsRequest {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RotationEntry {
    key_id: String,
    rotation_date: f64,
    rotation_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListRotationsResponse {
    rotations: Vec<RotationEntry>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) async fn list_key_rotations(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: ListRotationsRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let limit = limit(r.limit, 1000)?;
    marker(&r.marker)?;
    let page = ctx
        .kms()
        .list_key_rotations(ctx.principal, &key, limit, r.marker.as_deref())
        .await?;
    ok(&ListRotationsResponse {
        rotations: page
            .rotations
            .iter()
            .map(|r| RotationEntry {
                key_id: r.key_id.to_string(),
                rotation_date: epoch(r.rotation_date),
                rotation_type: r.kind.as_str(),
            })
            .collect(),
        truncated: page.next_marker.is_some(),
        next_marker: page.next_marker,
    })
}
