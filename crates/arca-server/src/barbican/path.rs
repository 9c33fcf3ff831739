//! Path parameters of secret routes: the secret id (canonical lower-case hyphenated UUID text, as
//! Barbican's `validate_id_is_uuid` requires; anything else is the same 404 as an unknown secret) and the
//! metadata key. Never one of axum's plain-text path rejections.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;
use uuid::Uuid;

use crate::error::ApiError;

/// `{id}` and, on metadatum routes, `{key}`.
#[derive(Debug)]
pub(crate) struct SecretPath {
    /// The secret.
    pub id: Uuid,
    /// The metadata key, when the route has one.
    pub key: Option<String>,
}

/// Barbican's 404 for an id that is not a UUID.
fn invalid_id() -> ApiError {
    ApiError::not_found("Not Found. Provided secret id is invalid.")
}

/// Parses a secret id as Barbican accepts it.
pub(crate) fn parse_id(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text)
        .ok()
        .filter(|id| id.hyphenated().to_string() == text)
}

impl<S: Send + Sync> FromRequestParts<S> for SecretPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid_id())?;
        let id = params
            .get("id")
            .and_then(|t| parse_id(t))
            .ok_or_else(invalid_id)?;
        Ok(SecretPath {
            id,
            key: params.get("key").cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_uuids() {
        let id = Uuid::now_v7();
        assert_eq!(parse_id(&id.to_string()), Some(id));
        assert_eq!(parse_id(&id.to_string().to_uppercase()), None);
        assert_eq!(parse_id(&id.simple().to_string()), None);
        assert_eq!(parse_id(&format!("{{{id}}}")), None);
        assert_eq!(parse_id("not-a-uuid"), None);
    }
}
