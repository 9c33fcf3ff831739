//! Path parameters of container and secret-store routes: the container id (a canonical UUID, as Barbican's
//! `validate_id_is_uuid` requires; anything else is its 404 "Not Found. Provided container id is invalid.")
//! and the secret store id (Barbican looks it up without validating it, so anything unknown is its 404
//! "Not Found. Secret store not found."). Never one of axum's plain-text path rejections.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;
use uuid::Uuid;

use crate::error::ApiError;

use super::path::parse_id;

async fn param<S: Send + Sync>(parts: &mut Parts, state: &S, name: &str) -> Option<String> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .ok()?;
    params.get(name).cloned()
}

/// `{id}` of `/v1/containers/{id}/...`.
#[derive(Debug)]
pub(crate) struct ContainerPath {
    /// The container.
    pub id: Uuid,
}

impl<S: Send + Sync> FromRequestParts<S> for ContainerPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        param(parts, state, "id")
            .await
            .and_then(|t| parse_id(&t))
            .map(|id| ContainerPath { id })
            .ok_or_else(|| ApiError::not_found("Not Found. Provided container id is invalid."))
    }
}

/// `{id}` of `/v1/secret-stores/{id}/...`.
#[derive(Debug)]
pub(crate) struct SecretStorePath {
    /// The store.
    pub id: Uuid,
}

/// Barbican's 404 for an unknown secret store.
pub(crate) fn store_not_found() -> ApiError {
    ApiError::not_found("Not Found. Secret store not found.")
}

impl<S: Send + Sync> FromRequestParts<S> for SecretStorePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        param(parts, state, "id")
            .await
            .and_then(|t| parse_id(&t))
            .map(|id| SecretStorePath { id })
            .ok_or_else(store_not_found)
    }
}
