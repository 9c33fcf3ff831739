//! The Barbican v1 API: `fn routes()` wires each resource's handlers to its paths (with and without a
//! trailing slash, as Pecan accepts both) and answers unknown paths with 404 and unsupported methods with 405,
//! both in Barbican's error body.

mod body;
mod hrefs;
mod list_query;
mod metadata;
pub(crate) mod microversion;
mod new_secret;
mod path;
mod payload;
mod python_int;
mod schema;
mod secrets;
mod timefmt;
mod versions;
mod wire;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
    let collection = get(secrets::list).post(secrets::create);
    let secret = get(secrets::get).put(secrets::put).delete(secrets::delete);
    let metadata = get(metadata::get_all)
        .put(metadata::put_all)
        .post(metadata::post_one);
    let metadatum = get(metadata::get_one)
        .put(metadata::put_one)
        .delete(metadata::delete_one);
    Router::new()
        .route("/", get(versions::root))
        .route("/v1", get(versions::v1))
        .route("/v1/", get(versions::v1))
        .route("/v1/secrets", collection.clone())
        .route("/v1/secrets/", collection)
        .route("/v1/secrets/{id}", secret.clone())
        .route("/v1/secrets/{id}/", secret)
        .route("/v1/secrets/{id}/payload", get(secrets::get_payload))
        .route("/v1/secrets/{id}/payload/", get(secrets::get_payload))
        .route("/v1/secrets/{id}/metadata", metadata.clone())
        .route("/v1/secrets/{id}/metadata/", metadata)
        .route("/v1/secrets/{id}/metadata/{key}", metadatum)
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
}
