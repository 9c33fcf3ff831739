//! CreateAlias, UpdateAlias, DeleteAlias and ListAliases on the wire. Alias names are checked by the service
//! (`InvalidAliasNameException`); here only lengths.

use serde::{Deserialize, Serialize};

use arca_core::alias_arn;

use super::crypto::optional_key_ref;
use super::wire::{epoch, key_ref, length, limit, marker, parse, required};
use super::{Answer, Ctx, ok};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasRequest {
    alias_name: Option<String>,
    target_key_id: Option<String>,
}

fn alias_name(value: Option<String>) -> Result<String, super::error::KmsApiError> {
    let name = required(value, "aliasName")?;
    length(&name, "aliasName", 1, 256)?;
    Ok(name)
}

pub(crate) async fn create_alias(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: AliasRequest = parse(body)?;
    let name = alias_name(r.alias_name)?;
    let target = key_ref(r.target_key_id, "targetKeyId")?;
    ctx.kms()
        .create_alias(ctx.principal, &name, &target)
        .await?;
    ok(&serde_json::json!({}))
}

pub(crate) async fn update_alias(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: AliasRequest = parse(body)?;
    let name = alias_name(r.alias_name)?;
    let target = key_ref(r.target_key_id, "targetKeyId")?;
    ctx.kms()
        .update_alias(ctx.principal, &name, &target)
        .await?;
    ok(&serde_json::json!({}))
}

pub(crate) async fn delete_alias(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: AliasRequest = parse(body)?;
    let name = alias_name(r.alias_name)?;
    ctx.kms().delete_alias(ctx.principal, &name).await?;
    ok(&serde_json::json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesRequest {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasEntry {
    alias_name: String,
    alias_arn: String,
    target_key_id: String,
    creation_date: f64,
    last_updated_date: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesResponse {
    aliases: Vec<AliasEntry>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) async fn list_aliases(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: ListAliasesRequest = parse(body)?;
    let key = optional_key_ref(r.key_id, "keyId")?;
    let limit = limit(r.limit, 100)?;
    marker(&r.marker)?;
    let page = ctx
        .kms()
        .list_aliases(ctx.principal, key.as_deref(), limit, r.marker.as_deref())
        .await?;
    ok(&ListAliasesResponse {
        aliases: page
            .aliases
            .into_iter()
            .map(|a| AliasEntry {
                alias_arn: alias_arn(ctx.region, &a.project_id, &a.name),
                alias_name: a.name,
                target_key_id: a.key_id.to_string(),
                creation_date: epoch(a.created),
                last_updated_date: epoch(a.updated),
            })
            .collect(),
        truncated: page.next_marker.is_some(),
        next_marker: page.next_marker,
    })
}
