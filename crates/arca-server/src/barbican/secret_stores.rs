//! The secret-stores resource (`barbican/api/controllers/secretstores.py`): `GET /v1/secret-stores`,
//! `GET /v1/secret-stores/global-default`, `GET /v1/secret-stores/preferred`, `GET
//! /v1/secret-stores/{id}` and `POST`/`DELETE /v1/secret-stores/{id}/preferred` (204).
//!
//! Choice for a single store: Barbican answers every one of these routes with 404 "Not Found. Multiple
//! backends support is not enabled in service configuration." unless `enable_multiple_secret_stores` is
//! set. Arca's design has several stores with one global default and a per-project preference, so it
//! answers as Barbican does with multiple backends enabled and exactly one store configured: the list holds
//! that one store (`Software Only Crypto`, `store_crypto` + `simple_crypto`, the global default), the global
//! default is it, a project has no preferred store (404 "Not Found. No preferred secret store defined for
//! this project.") until a project admin sets it with `POST .../{id}/preferred`. Clients that only know a
//! default Barbican never call these routes; clients that probe them get Barbican's enabled-mode answers.

use super::json_out::Json;
use axum::extract::State;
use http::StatusCode;

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::container_wire::{SecretStore, SecretStoreList};
use super::hrefs::HostHref;
use super::openapi_types as doc;
use super::resource_path::SecretStorePath;

/// `GET /v1/secret-stores`.
#[utoipa::path(get, path = "/v1/secret-stores", tag = "secret-stores",
    responses(
        (status = 200, description = "The configured secret stores", body = SecretStoreList),
        (status = 403, description = "The caller has no key-manager role", body = doc::ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
) -> Result<Json<SecretStoreList>, ApiError> {
    let stores = state
        .services
        .secret_stores
        .list(&caller)
        .await
        .op("List available secret stores")?;
    Ok(Json(SecretStoreList {
        secret_stores: stores.iter().map(|s| SecretStore::new(s, &host)).collect(),
    }))
}

/// `GET /v1/secret-stores/global-default`.
#[utoipa::path(get, path = "/v1/secret-stores/global-default", tag = "secret-stores",
    responses(
        (status = 200, description = "The global default store", body = SecretStore),
        (status = 403, description = "The caller has no key-manager role", body = doc::ErrorBody),
    ))]
pub(crate) async fn global_default(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
) -> Result<Json<SecretStore>, ApiError> {
    let store = state
        .services
        .secret_stores
        .global_default(&caller)
        .await
        .op("Retrieve global default secret store")?;
    Ok(Json(SecretStore::new(&store, &host)))
}

/// `GET /v1/secret-stores/preferred`.
#[utoipa::path(get, path = "/v1/secret-stores/preferred", tag = "secret-stores",
    responses(
        (status = 200, description = "The project's preferred store", body = SecretStore),
        (status = 403, description = "The caller has no key-manager role", body = doc::ErrorBody),
        (status = 404, description = "No preferred store is set", body = doc::ErrorBody),
    ))]
pub(crate) async fn preferred(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
) -> Result<Json<SecretStore>, ApiError> {
    let store = state
        .services
        .secret_stores
        .preferred(&caller)
        .await
        .op("Retrieve project preferred store")?;
    Ok(Json(SecretStore::new(&store, &host)))
}

/// `GET /v1/secret-stores/{id}`.
#[utoipa::path(get, path = "/v1/secret-stores/{id}", tag = "secret-stores", params(doc::SecretStoreId),
    responses(
        (status = 200, description = "The store", body = SecretStore),
        (status = 403, description = "The caller has no key-manager role", body = doc::ErrorBody),
        (status = 404, description = "No such store", body = doc::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretStorePath,
    host: HostHref,
) -> Result<Json<SecretStore>, ApiError> {
    let store = state
        .services
        .secret_stores
        .get(&caller, path.id)
        .await
        .op("Secret store retrieval")?;
    Ok(Json(SecretStore::new(&store, &host)))
}

/// `POST /v1/secret-stores/{id}/preferred` → 204.
#[utoipa::path(post, path = "/v1/secret-stores/{id}/preferred", tag = "secret-stores", params(doc::SecretStoreId),
    responses(
        (status = 204, description = "The store is now the project's preferred one"),
        (status = 403, description = "Only the project admin", body = doc::ErrorBody),
        (status = 404, description = "No such store", body = doc::ErrorBody),
    ))]
pub(crate) async fn set_preferred(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretStorePath,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .secret_stores
        .set_preferred(&caller, path.id)
        .await
        .op("Setting preferred secret store")?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/secret-stores/{id}/preferred` → 204.
#[utoipa::path(delete, path = "/v1/secret-stores/{id}/preferred", tag = "secret-stores", params(doc::SecretStoreId),
    responses(
        (status = 204, description = "The project has no preferred store any more"),
        (status = 403, description = "Only the project admin", body = doc::ErrorBody),
        (status = 404, description = "No such store, or it is not the preferred one", body = doc::ErrorBody),
    ))]
pub(crate) async fn remove_preferred(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretStorePath,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .secret_stores
        .remove_preferred(&caller, path.id)
        .await
        .op("Removing preferred secret store")?;
    Ok(StatusCode::NO_CONTENT)
}
