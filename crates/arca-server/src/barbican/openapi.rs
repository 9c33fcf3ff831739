//! The OpenAPI 3 document of the whole Barbican API, generated from the handlers' `#[utoipa::path]`
//! annotations and the wire types' schemas, and served unauthenticated at `GET /v1/openapi.json`. Every path
//! is listed once, without a trailing slash (the router accepts both forms). What every operation may answer
//! regardless of its handler is added here: 400 for a malformed `OpenStack-API-Version`, 406 for an
//! unsupported one, 500 for a storage or integrity failure, and — on authenticated routes — 401.

use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::openapi_types as doc;
use super::{
    acls, consumers, containers, metadata, orders, quotas, secret_stores, secrets, versions,
};

/// Where the document is served.
pub(crate) const PATH: &str = "/v1/openapi.json";

/// Routes that need no credentials.
const ANONYMOUS: [&str; 3] = ["/", "/v1", PATH];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Arca — OpenStack Barbican v1 API",
        description = "Arca's implementation of the Barbican 23 key-manager v1 API (microversions 1.0–1.2, \
            negotiated with `OpenStack-API-Version: key-manager X.Y`). Every path also answers with a trailing \
            slash. Errors carry Barbican's body `{\"code\", \"title\", \"description\"}`. Callers authenticate \
            with `X-Auth-Token` (or `Authorization: Bearer`), or in trusted-headers mode with `X-Project-Id`, \
            `X-User-Id` and `X-Roles` set by an authenticating proxy."
    ),
    paths(
        versions::root, versions::v1, document,
        secrets::list, secrets::create, secrets::get, secrets::put, secrets::delete, secrets::get_payload,
        metadata::get_all, metadata::put_all, metadata::post_one,
        metadata::get_one, metadata::put_one, metadata::delete_one,
        containers::list, containers::create, containers::get, containers::delete,
        containers::add_secret, containers::remove_secret,
        consumers::list_container_consumers, consumers::register_container_consumer,
        consumers::remove_container_consumer,
        consumers::list_secret_consumers, consumers::register_secret_consumer,
        consumers::remove_secret_consumer,
        acls::get_secret_acl, acls::put_secret_acl, acls::patch_secret_acl, acls::delete_secret_acl,
        acls::get_container_acl, acls::put_container_acl, acls::patch_container_acl,
        acls::delete_container_acl,
        orders::list, orders::create, orders::put_collection, orders::get, orders::put, orders::delete,
        quotas::effective, quotas::list, quotas::get, quotas::put, quotas::delete,
        secret_stores::list, secret_stores::global_default, secret_stores::preferred, secret_stores::get,
        secret_stores::set_preferred, secret_stores::remove_preferred,
    ),
    components(schemas(doc::ErrorBody)),
    modifiers(&CommonResponses),
    tags(
        (name = "versions", description = "Version discovery and this document"),
        (name = "secrets", description = "Secrets, their payloads and user metadata"),
        (name = "containers", description = "Containers of secret references"),
        (name = "consumers", description = "Container consumers and (1.1+) secret consumers"),
        (name = "acls", description = "Per-secret and per-container read ACLs"),
        (name = "orders", description = "Key and RSA key-pair generation"),
        (name = "quotas", description = "Effective and per-project quotas"),
        (name = "secret-stores", description = "Secret stores and a project's preferred store"),
    )
)]
struct ApiDoc;

/// Adds the answers every operation can give, and the security schemes.
struct CommonResponses;

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn add_common(operation: &mut Operation, anonymous: bool) {
    let mut common = vec![
        ("400", "Malformed `OpenStack-API-Version`"),
        ("406", "Unsupported microversion"),
        (
            "500",
            "Storage failure, or stored data failed an integrity check",
        ),
    ];
    if !anonymous {
        common.push(("401", "Missing, unknown or expired credentials"));
    }
    for (status, description) in common {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description).into());
    }
    operation.security = Some(if anonymous {
        vec![SecurityRequirement::default()]
    } else {
        vec![
            SecurityRequirement::new("token", Vec::<String>::new()),
            SecurityRequirement::new("trusted_headers", Vec::<String>::new()),
        ]
    });
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut Document) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let anonymous = ANONYMOUS.contains(&path.as_str());
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_common(operation, anonymous);
                // Handler names repeat across resources (`list`, `get`, ...): qualify them by tag.
                let tag = operation.tags.iter().flatten().next().cloned();
                if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
                    *id = format!("{}_{id}", tag.replace('-', "_"));
                }
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "An Arca token (`arca token create`); `Authorization: Bearer <token>` also works",
            ))),
        );
        components.add_security_scheme(
            "trusted_headers",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Project-Id",
                "Trusted-headers mode: `X-Project-Id`, `X-User-Id` and `X-Roles` from an authenticating proxy",
            ))),
        );
    }
}

/// The document.
pub(crate) fn document_json() -> Document {
    ApiDoc::openapi()
}

/// `GET /v1/openapi.json`: this API's OpenAPI document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "versions",
    responses((status = 200, description = "The OpenAPI 3 document of this API", content_type = "application/json", body = Object)))]
pub(crate) async fn document() -> Json<Document> {
    Json(document_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_every_routed_path() {
        let doc = serde_json::to_value(document_json()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for path in super::super::paths() {
            assert!(paths.contains_key(path), "{path} is not in the document");
        }
        assert_eq!(paths.len(), super::super::paths().len());
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }
}
