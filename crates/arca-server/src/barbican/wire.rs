//! The JSON shapes of Barbican's secrets API: what a secret looks like on the wire (per microversion), the
//! create response, lists, metadata bodies and the versions documents. Only this crate knows them; domain
//! types stay free of `Serialize`.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use arca_core::{SecretConsumer, SecretRecord};

use super::container_wire::EmbeddedSecretConsumer;
use super::hrefs::HostHref;
use super::microversion::ApiVersion;
use super::timefmt;

/// `content_types` of a secret with a payload.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContentTypes {
    default: String,
}

/// A secret's metadata as Barbican renders it (`Secret.to_dict_fields` + `secret_ref` + `content_types`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Secret {
    status: &'static str,
    created: String,
    updated: String,
    expiration: Option<String>,
    algorithm: Option<String>,
    bit_length: Option<i64>,
    mode: Option<String>,
    name: Option<String>,
    secret_ref: String,
    secret_type: &'static str,
    creator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_types: Option<ContentTypes>,
    /// Secret consumers, from microversion 1.1.
    #[serde(skip_serializing_if = "Option::is_none")]
    consumers: Option<Vec<EmbeddedSecretConsumer>>,
}

impl Secret {
    /// Renders `record` with its `consumers` (shown from microversion 1.1).
    pub(crate) fn with_consumers(
        record: SecretRecord,
        host: &HostHref,
        version: ApiVersion,
        consumers: &[SecretConsumer],
    ) -> Self {
        Secret {
            status: "ACTIVE",
            created: timefmt::format(record.created),
            updated: timefmt::format(record.updated),
            expiration: record.expiration.map(timefmt::format),
            algorithm: record.algorithm,
            bit_length: record.bit_length,
            mode: record.mode,
            name: record.name,
            secret_ref: host.secret(record.id),
            secret_type: record.secret_type.as_str(),
            creator_id: (!record.creator_id.is_empty()).then_some(record.creator_id),
            content_types: record.content_type.map(|default| ContentTypes { default }),
            consumers: version
                .at_least(1)
                .then(|| consumers.iter().map(EmbeddedSecretConsumer::new).collect()),
        }
    }
}

/// `POST /v1/secrets` → 201.
#[derive(Serialize, ToSchema)]
pub(crate) struct SecretRef {
    /// The new secret's reference.
    pub secret_ref: String,
}

/// `GET /v1/secrets`.
#[derive(Serialize, ToSchema)]
pub(crate) struct SecretList {
    /// This page.
    pub secrets: Vec<Secret>,
    /// How many match in all.
    pub total: u64,
    /// The next page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// `GET /v1/secrets/{id}/metadata`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Metadata {
    /// All user metadata.
    pub metadata: BTreeMap<String, String>,
}

/// `PUT /v1/secrets/{id}/metadata` → 201.
#[derive(Serialize, ToSchema)]
pub(crate) struct MetadataRef {
    /// The metadata's reference.
    pub metadata_ref: String,
}

/// One metadatum (`{"key": ..., "value": ...}`, keys in sorted order as Barbican returns them).
#[derive(Serialize, ToSchema)]
pub(crate) struct Metadatum {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A link in a version document.
#[derive(Serialize, ToSchema)]
pub(crate) struct Link {
    rel: &'static str,
    href: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

/// A media type in a 1.0 version document.
#[derive(Serialize, ToSchema)]
pub(crate) struct MediaType {
    base: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The v1 version description (`BaseVersionController.get_version_info`). In the 1.0 form Barbican drops
/// `min_version`/`max_version`, reports `status: stable` and adds `media-types` (its `updated` field is never
/// set, a quirk kept here).
#[derive(Serialize, ToSchema)]
pub(crate) struct VersionInfo {
    id: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_version: Option<&'static str>,
    links: Vec<Link>,
    #[serde(rename = "media-types", skip_serializing_if = "Option::is_none")]
    media_types: Option<Vec<MediaType>>,
}

impl VersionInfo {
    /// The v1 description for a client speaking `version`.
    pub(crate) fn v1(host: &HostHref, version: ApiVersion) -> Self {
        let links = vec![
            Link {
                rel: "self",
                href: format!("{}/v1/", host.0),
                kind: None,
            },
            Link {
                rel: "describedby",
                href: "https://docs.openstack.org/".into(),
                kind: Some("text/html"),
            },
        ];
        if version.at_least(1) {
            VersionInfo {
                id: "v1",
                status: "CURRENT",
                min_version: Some(super::microversion::MIN.as_str()),
                max_version: Some(super::microversion::MAX.as_str()),
                links,
                media_types: None,
            }
        } else {
            VersionInfo {
                id: "v1",
                status: "stable",
                min_version: None,
                max_version: None,
                links,
                media_types: Some(vec![MediaType {
                    base: "application/json",
                    kind: "application/vnd.openstack.key-manager-v1+json",
                }]),
            }
        }
    }
}

/// `GET /` at 1.0: `{"versions": {"values": [...]}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct VersionsLegacy {
    /// The wrapper.
    pub versions: VersionValues,
}

/// `{"values": [...]}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct VersionValues {
    /// The versions.
    pub values: Vec<VersionInfo>,
}

/// `GET /` at 1.1+: `{"versions": [...]}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Versions {
    /// The versions.
    pub versions: Vec<VersionInfo>,
}

/// `GET /v1`: `{"version": {...}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Version {
    /// The version.
    pub version: VersionInfo,
}

/// `GET /?build`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Build {
    /// The server's build version.
    pub build: &'static str,
}
