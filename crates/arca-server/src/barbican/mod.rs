//! The Barbican v1 API: `fn routes()` wires each resource's handlers to its paths (with and without a
//! trailing slash, as Pecan accepts both) and answers unknown paths with 404 and unsupported methods with 405,
//! both in Barbican's error body.

mod acls;
mod body;
mod consumer_schema;
mod consumers;
mod container_wire;
mod containers;
mod hrefs;
mod json_out;
mod list_query;
mod metadata;
pub(crate) mod microversion;
mod new_container;
mod new_order;
mod new_secret;
mod openapi;
mod openapi_types;
mod order_wire;
mod orders;
mod page_query;
mod path;
mod payload;
mod python_int;
mod quotas;
mod resource_path;
mod schema;
mod secret_stores;
mod secrets;
mod timefmt;
mod versions;
mod wire;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use http::Method;

use crate::error::ApiError;
use crate::state::AppState;

async fn no_route() -> Response {
    ApiError::no_route().into_response()
}

async fn method_not_allowed(method: Method) -> Response {
    ApiError::method_not_allowed(&method).into_response()
}

/// Every Barbican route.
pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (path, route, with_slash) in table() {
        if with_slash {
            router = router.route(&format!("{path}/"), route.clone());
        }
        router = router.route(path, route);
    }
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The path templates the router serves (each also with a trailing slash, except `/`, a metadatum and the
/// OpenAPI document): what the OpenAPI document must describe.
pub fn paths() -> Vec<&'static str> {
    table().into_iter().map(|(path, _, _)| path).collect()
}

/// Every route: its path, handlers, and whether the path also answers with a trailing slash.
fn table() -> Vec<(&'static str, MethodRouter<AppState>, bool)> {
    let collection = get(secrets::list).post(secrets::create);
    let secret = get(secrets::get).put(secrets::put).delete(secrets::delete);
    let metadata = get(metadata::get_all)
        .put(metadata::put_all)
        .post(metadata::post_one);
    let metadatum = get(metadata::get_one)
        .put(metadata::put_one)
        .delete(metadata::delete_one);
    let mut table = vec![
        ("/", get(versions::root), false),
        ("/v1", get(versions::v1), true),
        (openapi::PATH, get(openapi::document), false),
        ("/v1/secrets", collection, true),
        ("/v1/secrets/{id}", secret, true),
        ("/v1/secrets/{id}/payload", get(secrets::get_payload), true),
        ("/v1/secrets/{id}/metadata", metadata, true),
        ("/v1/secrets/{id}/metadata/{key}", metadatum, false),
    ];
    table.extend(
        container_routes()
            .into_iter()
            .chain(acl_order_quota_routes())
            .map(|(path, route)| (path, route, true)),
    );
    table
}

/// Secret ACLs, orders and quotas.
fn acl_order_quota_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let secret_acl = get(acls::get_secret_acl)
        .put(acls::put_secret_acl)
        .patch(acls::patch_secret_acl)
        .delete(acls::delete_secret_acl);
    let container_acl = get(acls::get_container_acl)
        .put(acls::put_container_acl)
        .patch(acls::patch_container_acl)
        .delete(acls::delete_container_acl);
    let orders = get(orders::list)
        .post(orders::create)
        .put(orders::put_collection);
    let order = get(orders::get).put(orders::put).delete(orders::delete);
    let project_quotas = get(quotas::get).put(quotas::put).delete(quotas::delete);
    vec![
        ("/v1/secrets/{id}/acl", secret_acl),
        ("/v1/containers/{id}/acl", container_acl),
        ("/v1/orders", orders),
        ("/v1/orders/{id}", order),
        ("/v1/quotas", get(quotas::effective)),
        ("/v1/project-quotas", get(quotas::list)),
        ("/v1/project-quotas/{id}", project_quotas),
    ]
}

/// Containers, their secrets and consumers, secret consumers and secret stores.
fn container_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let containers = get(containers::list).post(containers::create);
    let container = get(containers::get).delete(containers::delete);
    let container_secrets = post(containers::add_secret).delete(containers::remove_secret);
    let container_consumers = get(consumers::list_container_consumers)
        .post(consumers::register_container_consumer)
        .delete(consumers::remove_container_consumer);
    let secret_consumers = get(consumers::list_secret_consumers)
        .post(consumers::register_secret_consumer)
        .delete(consumers::remove_secret_consumer);
    let preferred = post(secret_stores::set_preferred).delete(secret_stores::remove_preferred);
    vec![
        ("/v1/containers", containers),
        ("/v1/containers/{id}", container),
        ("/v1/containers/{id}/secrets", container_secrets),
        ("/v1/containers/{id}/consumers", container_consumers),
        ("/v1/secrets/{id}/consumers", secret_consumers),
        ("/v1/secret-stores", get(secret_stores::list)),
        (
            "/v1/secret-stores/global-default",
            get(secret_stores::global_default),
        ),
        ("/v1/secret-stores/preferred", get(secret_stores::preferred)),
        ("/v1/secret-stores/{id}", get(secret_stores::get)),
        ("/v1/secret-stores/{id}/preferred", preferred),
    ]
}
