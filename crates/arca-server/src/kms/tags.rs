//! TagResource, UntagResource and ListResourceTags, and the `{TagKey, TagValue}` shape CreateKey shares.

use serde::{Deserialize, Serialize};

use super::wire::{key_ref, limit, marker, parse, required};
use super::{Answer, Ctx, ok};
use crate::kms::error::KmsApiError;

/// One tag on the wire.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct Tag {
    #[serde(rename = "TagKey")]
    pub key: Option<String>,
    #[serde(rename = "TagValue")]
    pub value: Option<String>,
}

/// Wire tags as (key, value) pairs; a tag without `TagKey` or `TagValue` is a `ValidationException`.
pub(crate) fn pairs(tags: Option<Vec<Tag>>) -> Result<Vec<(String, String)>, KmsApiError> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|t| {
            Ok((
                required(t.key, "tags.member.tagKey")?,
                required(t.value, "tags.member.tagValue")?,
            ))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceRequest {
    key_id: Option<String>,
    tags: Option<Vec<Tag>>,
}

pub(crate) async fn tag_resource(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: TagResourceRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let tags = pairs(Some(required(r.tags, "tags")?))?;
    ctx.kms().tag_resource(ctx.principal, &key, tags).await?;
    ok(&serde_json::json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceRequest {
    key_id: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub(crate) async fn untag_resource(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: UntagResourceRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let keys = required(r.tag_keys, "tagKeys")?;
    ctx.kms().untag_resource(ctx.principal, &key, keys).await?;
    ok(&serde_json::json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResourceTagsRequest {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListResourceTagsResponse {
    tags: Vec<Tag>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) async fn list_resource_tags(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let r: ListResourceTagsRequest = parse(body)?;
    let key = key_ref(r.key_id, "keyId")?;
    let limit = limit(r.limit, 50)?;
    marker(&r.marker)?;
    let page = ctx
        .kms()
        .list_resource_tags(ctx.principal, &key, limit, r.marker.as_deref())
        .await?;
    ok(&ListResourceTagsResponse {
        tags: page
            .tags
            .into_iter()
            .map(|(k, v)| Tag {
                key: Some(k),
                value: Some(v),
            })
            .collect(),
        truncated: page.next_marker.is_some(),
        next_marker: page.next_marker,
    })
}
