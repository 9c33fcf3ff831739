//! The OpenAPI descriptions of what clients send: request bodies, path and query parameters. The handlers
//! validate bodies by hand (`new_secret`, `new_container`, `new_order`, `acls`, `quotas`, ...) to reproduce
//! Barbican's validators and their messages, so these types are never deserialised: they exist only to be
//! described in `GET /v1/openapi.json`, next to the response shapes of `wire`, `container_wire` and
//! `order_wire`.
// Description-only types: never constructed, only rendered as schemas.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// Barbican's error body (`{"code", "title", "description"}`).
pub(crate) type ErrorBody = crate::error::Body<'static>;

/// A JSON `null` (what `DELETE .../acl` answers, as Pecan renders the controller's `None`).
pub(crate) struct JsonNull;

impl PartialSchema for JsonNull {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for JsonNull {}

/// Secret types.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum SecretTypeName {
    Symmetric,
    Passphrase,
    Private,
    Public,
    Certificate,
    Opaque,
}

/// `POST /v1/secrets` (`NewSecretValidator`). Unknown fields are ignored. A `payload` needs a
/// `payload_content_type`; `application/octet-stream` needs `payload_content_encoding: base64`.
#[derive(ToSchema)]
pub(crate) struct NewSecret {
    #[schema(max_length = 255)]
    name: Option<String>,
    /// ISO 8601, in the future.
    #[schema(max_length = 255)]
    expiration: String,
    #[schema(max_length = 255)]
    algorithm: String,
    #[schema(max_length = 255)]
    mode: String,
    #[schema(minimum = 1, maximum = 32767)]
    bit_length: i64,
    /// The payload (base64 when `payload_content_encoding` is `base64`). Without it the secret is created
    /// empty and its payload uploaded later with `PUT /v1/secrets/{id}`.
    payload: String,
    /// `text/plain` or `application/octet-stream` (and their Barbican aliases).
    #[schema(max_length = 255)]
    payload_content_type: String,
    #[schema(pattern = "^base64$")]
    payload_content_encoding: String,
    secret_type: SecretTypeName,
}

/// `PUT /v1/secrets/{id}/metadata`: every user metadatum at once (keys are lower-cased and URL safe).
#[derive(ToSchema)]
pub(crate) struct MetadataBody {
    metadata: BTreeMap<String, String>,
}

/// `POST /v1/secrets/{id}/metadata` and `PUT /v1/secrets/{id}/metadata/{key}`: one metadatum.
#[derive(ToSchema)]
pub(crate) struct MetadatumBody {
    key: String,
    value: String,
}

/// Container types.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum ContainerTypeName {
    Generic,
    Rsa,
    Certificate,
}

/// One secret reference of a new container, or the body of `POST`/`DELETE /v1/containers/{id}/secrets`.
#[derive(ToSchema)]
pub(crate) struct ContainerSecretBody {
    /// The reference's name (`rsa`: public_key, private_key, private_key_passphrase; `certificate`:
    /// certificate, private_key, private_key_passphrase, intermediates).
    #[schema(max_length = 255)]
    name: Option<String>,
    /// A secret reference under this server (`<host>/v1/secrets/<id>`).
    #[schema(min_length = 1)]
    secret_ref: String,
}

/// `POST /v1/containers` (`ContainerValidator`).
#[derive(ToSchema)]
pub(crate) struct NewContainer {
    #[serde(rename = "type")]
    kind: ContainerTypeName,
    #[schema(max_length = 255)]
    name: Option<String>,
    secret_refs: Option<Vec<ContainerSecretBody>>,
}

/// `POST`/`DELETE /v1/containers/{id}/consumers`.
#[derive(ToSchema)]
pub(crate) struct ContainerConsumerBody {
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    #[serde(rename = "URL")]
    #[schema(min_length = 1, max_length = 255)]
    url: String,
}

/// `POST`/`DELETE /v1/secrets/{id}/consumers` (microversion 1.1 and later).
#[derive(ToSchema)]
pub(crate) struct SecretConsumerBody {
    #[schema(min_length = 1, max_length = 255)]
    service: String,
    #[schema(min_length = 1, max_length = 255)]
    resource_type: String,
    #[schema(min_length = 1, max_length = 36)]
    resource_id: String,
}

/// The `read` entry of an ACL change.
#[derive(ToSchema)]
pub(crate) struct AclReadBody {
    /// User ids allowed to read.
    users: Option<Vec<String>>,
    /// Whether the owning project's users may read as their roles allow.
    #[serde(rename = "project-access")]
    project_access: Option<bool>,
}

/// `PUT`/`PATCH .../acl` (`ACLValidator`): `PUT` replaces, `PATCH` changes the given fields.
#[derive(ToSchema)]
pub(crate) struct AclBody {
    read: Option<AclReadBody>,
}

/// Order types (`certificate` is refused: Arca has no certificate authority).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum OrderTypeName {
    Key,
    Asymmetric,
    Certificate,
}

/// An order's `meta`: the secret (or RSA key pair) to generate.
#[derive(ToSchema)]
pub(crate) struct OrderMeta {
    #[schema(max_length = 255)]
    name: Option<String>,
    /// `aes`, `des`, `3des`, `hmacsha*` for keys; `rsa` for asymmetric orders.
    algorithm: String,
    /// A multiple of 8 (RSA: 2048, 3072 or 4096).
    bit_length: i64,
    mode: Option<String>,
    expiration: Option<String>,
    payload_content_type: Option<String>,
    /// Asymmetric orders: encrypts the generated private key (never stored).
    passphrase: Option<String>,
}

/// `POST /v1/orders` (`TypeOrderValidator`).
#[derive(ToSchema)]
pub(crate) struct NewOrder {
    #[serde(rename = "type")]
    kind: OrderTypeName,
    meta: OrderMeta,
}

/// Quota values to configure (negative: unlimited, 0: disabled).
#[derive(ToSchema)]
pub(crate) struct QuotaSettings {
    secrets: Option<i64>,
    orders: Option<i64>,
    containers: Option<i64>,
    consumers: Option<i64>,
    cas: Option<i64>,
}

/// `PUT /v1/project-quotas/{id}` (`ProjectQuotaValidator`).
#[derive(ToSchema)]
pub(crate) struct ProjectQuotasPut {
    project_quotas: QuotaSettings,
}

/// `{id}`: a secret's id (a UUID; anything else is an unknown secret, 404).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct SecretId {
    /// The secret's id.
    id: String,
}

/// `{id}` and `{key}` of one metadatum.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct MetadatumKey {
    /// The secret's id.
    id: String,
    /// The metadatum's key.
    key: String,
}

/// `{id}`: a container's id (a UUID; anything else is an unknown container, 404).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ContainerId {
    /// The container's id.
    id: String,
}

/// `{id}`: an order's id (a UUID; anything else is an unknown order, 404).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OrderId {
    /// The order's id.
    id: String,
}

/// `{id}`: a project's id.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ProjectId {
    /// The project's id.
    id: String,
}

/// `{id}`: a secret store's id.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct SecretStoreId {
    /// The secret store's id.
    id: String,
}

/// Paging of a list (never refused: `limit` is clamped to 1..=100, default 10; bad values fall back).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Paging {
    /// Page size (default 10, at most 100).
    limit: Option<String>,
    /// Items to skip (default 0).
    offset: Option<String>,
}

/// `GET /v1/containers`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ContainerFilters {
    /// Page size (default 10, at most 100).
    limit: Option<String>,
    /// Items to skip (default 0).
    offset: Option<String>,
    /// A SQL `LIKE` pattern on the name.
    name: Option<String>,
    /// `generic`, `rsa` or `certificate`.
    #[param(rename = "type")]
    kind: Option<String>,
}

/// `GET /v1/secrets`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SecretFilters {
    /// Page size (default 10, at most 100).
    limit: Option<String>,
    /// Items to skip (default 0).
    offset: Option<String>,
    /// Exact name.
    name: Option<String>,
    /// Algorithm.
    alg: Option<String>,
    /// Mode.
    mode: Option<String>,
    /// Bit length (ignored unless a positive integer).
    bits: Option<String>,
    /// Secret type (an unknown type matches nothing).
    secret_type: Option<String>,
    /// `true`: the secrets shared with the caller through read ACLs.
    acl_only: Option<String>,
    /// Comma-separated `gt:`/`gte:`/`lt:`/`lte:`/plain ISO 8601 times.
    created: Option<String>,
    /// As `created`.
    updated: Option<String>,
    /// As `created`.
    expiration: Option<String>,
    /// `key[:asc|desc],...` over algorithm, bit_length, created, expiration, mode, name, secret_type,
    /// status, updated.
    sort: Option<String>,
}

/// `DELETE /v1/secrets/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ForceDelete {
    /// From microversion 1.2: delete even when the secret has consumers.
    force: Option<String>,
}

/// `GET /`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BuildQuery {
    /// Present: answer the build version instead of the versions document.
    build: Option<String>,
}

/// `GET /` at 300: the 1.0 form or the 1.1+ form of the versions document.
#[derive(ToSchema)]
#[serde(untagged)]
pub(crate) enum VersionsDocument {
    /// Microversion 1.0: `{"versions": {"values": [...]}}`.
    Legacy(super::wire::VersionsLegacy),
    /// Microversion 1.1 and later: `{"versions": [...]}`.
    Current(super::wire::Versions),
}
