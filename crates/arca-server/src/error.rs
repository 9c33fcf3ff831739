//! The one place that turns failures into HTTP: every `CoreError` and every wire-level refusal becomes a
//! status and Barbican's error body `{"code": N, "title": "...", "description": "..."}` (the shape of
//! Barbican's `JSONErrorHook`, titles as webob names them). Descriptions follow Barbican's wording
//! (`"<operation> issue seen - <reason>."`, `"<operation> attempt not allowed - ..."`) and never carry key
//! material, payloads or tokens.
//!
//! Integrity failures (`CoreError::Integrity`: a stored ciphertext or wrapped key failed authentication) map
//! to **500**: they are server-side data corruption or tampering, never something the client sent or can
//! fix, so a 4xx would be wrong. The description says plainly that an integrity check failed so an
//! operator can act on it, without naming keys or echoing data. Storage and other crypto failures are 500
//! with Barbican's generic "please contact site administrator" text; details go to the log only.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use arca_core::CoreError;

/// An error response in Barbican's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    description: String,
    /// Seconds for a `Retry-After` header (429 only).
    retry_after: Option<u64>,
}

/// Barbican's error body, the answer of every refusal (`ErrorBody` in the OpenAPI document).
#[derive(Serialize, ToSchema)]
#[schema(as = ErrorBody)]
pub(crate) struct Body<'a> {
    /// The HTTP status code.
    code: u16,
    /// The status's title as webob names it (e.g. "Not Found").
    title: &'a str,
    /// What went wrong, in Barbican's words.
    description: &'a str,
}

/// webob's status titles, which Barbican puts in `title`.
fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

impl ApiError {
    /// An error with an explicit status and description.
    pub(crate) fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 with `description`.
    pub(crate) fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    /// 404 with `description`.
    pub(crate) fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    /// 409 with `description`.
    pub(crate) fn conflict(description: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, description)
    }

    /// 429 with `Retry-After: seconds`: too many authentication failures from one source (`throttle.rs`).
    pub(crate) fn throttled(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed authentication attempts from this address; retry later.",
            )
        }
    }

    /// 401 as keystonemiddleware words it.
    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The request you have made requires authentication.",
        )
    }

    /// 413 with Barbican's `LimitExceeded` client message.
    pub(crate) fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Provided information too large to process",
        )
    }

    /// 415 as Barbican's `enforce_content_types` words it.
    pub(crate) fn unsupported_media_type(expected: &[&str]) -> Self {
        let list = expected
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unexpected content type. Expected content types are: [{list}]"),
        )
    }

    /// A Barbican HTTP exception raised inside an operation: `"<op> issue seen - <reason>."`.
    pub(crate) fn issue(status: StatusCode, op: &str, reason: &str) -> Self {
        Self::new(status, format!("{op} issue seen - {reason}."))
    }

    /// 404 for a path that names nothing.
    pub(crate) fn no_route() -> Self {
        Self::not_found("The resource could not be found.")
    }

    /// 405 for a known path with a method it does not support.
    pub(crate) fn method_not_allowed(method: &http::Method) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The method {method} is not allowed for this resource."),
        )
    }

    /// The same error with a schema name `'S'` in its description made `'S' within 'parent'`, as Barbican
    /// names a schema validated inside another (`ValidatorBase._full_name`).
    pub(crate) fn within(mut self, parent: &str) -> Self {
        if let Some(rest) = self
            .description
            .strip_prefix("Provided object does not match schema '")
            && let Some((schema, tail)) = rest.split_once("':")
        {
            self.description = format!(
                "Provided object does not match schema '{schema}' within '{parent}':{tail}"
            );
        }
        self
    }

    /// Maps a domain error raised while performing `op` (Barbican's operation name, e.g. "Secret retrieval").
    pub(crate) fn core(op: &str, error: CoreError) -> Self {
        match error {
            CoreError::Unauthenticated => Self::unauthenticated(),
            CoreError::Forbidden(_) => {
                crate::metrics::denied("policy");
                Self::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "{op} attempt not allowed - please review your user/project privileges"
                    ),
                )
            }
            CoreError::NotFound(message) => Self::not_found(not_found_text(&message)),
            CoreError::Conflict(message) => Self::conflict(message),
            CoreError::Invalid(message) => Self::bad_request(message),
            // KMS failures are answered by `kms/error.rs`; none reaches a Barbican handler, but a client
            // error stays a 400 if one ever does.
            CoreError::Kms(e) => Self::bad_request(e.message),
            // Barbican's `QuotaReached`: a 403 whose client message names no project or number.
            CoreError::QuotaReached(_) => {
                crate::metrics::denied("quota");
                Self::issue(
                    StatusCode::FORBIDDEN,
                    op,
                    "Creation not allowed because a quota has been reached",
                )
            }
            CoreError::Integrity(_) => {
                tracing::error!(operation = op, "integrity check failed on stored data");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!(
                        "{op} failure seen - an integrity check of stored data failed (the data was modified or \
                         corrupted); please contact site administrator."
                    ),
                )
            }
            CoreError::Unavailable(why) => {
                tracing::warn!(operation = op, reason = %why, "root of trust unavailable");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, why)
            }
            CoreError::Storage(e) if e.is_unavailable() => {
                tracing::warn!(operation = op, reason = %e, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{op} failure seen - the database is unavailable; retry later."),
                )
            }
            // A value the database cannot hold (a NUL character in a text field on PostgreSQL): the client's.
            CoreError::Storage(e) if e.is_unstorable() => Self::bad_request(
                e.0.trim_start_matches(arca_core::StoreError::UNSTORABLE)
                    .to_owned(),
            ),
            other @ (CoreError::Storage(_) | CoreError::Crypto(_)) => {
                tracing::error!(operation = op, error = %other, "internal failure");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("{op} failure seen - please contact site administrator."),
                )
            }
        }
    }

    /// The status (for tests, logging and the audit of authentication failures).
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The description (for tests).
    #[cfg(test)]
    pub(crate) fn description(&self) -> &str {
        &self.description
    }
}

/// Barbican's words for the domain's not-found cases.
fn not_found_text(message: &str) -> String {
    match message {
        "Secret not found." => "Not Found. Sorry but your secret is in another castle.".into(),
        "Order not found." => "Not Found. Sorry but your order is in another castle.".into(),
        "Project quotas not found." => {
            "Not Found. Sorry but your project quotas are in another castle.".into()
        }
        "No payload is stored for this secret." => {
            "Not Found. Sorry but your secret has no payload.".into()
        }
        other => other.into(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.status.as_u16(),
            title: title(self.status),
            description: &self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        response
    }
}

/// `result.op("Secret retrieval")?` maps a domain error with the operation's name.
pub(crate) trait CoreResultExt<T> {
    /// Maps the error of a domain call made while performing `op`.
    fn op(self, op: &str) -> Result<T, ApiError>;
}

impl<T> CoreResultExt<T> for Result<T, CoreError> {
    fn op(self, op: &str) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::core(op, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_the_operation() {
        let e = ApiError::core("Secret retrieval", CoreError::Forbidden("x".into()));
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            e.description(),
            "Secret retrieval attempt not allowed - please review your user/project privileges"
        );
    }

    #[test]
    fn database_unavailable_is_503_and_says_so() {
        let e = ApiError::core(
            "Secret retrieval",
            CoreError::Storage(arca_core::StoreError::unavailable("pool timed out")),
        );
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.description().contains("database is unavailable"));
        let e = ApiError::core(
            "Secret retrieval",
            CoreError::Storage(arca_core::StoreError("disk full".into())),
        );
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_unstorable_value_is_400_and_says_why() {
        let e = ApiError::core(
            "Secret creation",
            CoreError::Storage(arca_core::StoreError::unstorable("no NUL in text")),
        );
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.description(), "no NUL in text");
        let e = ApiError::core(
            "Secret creation",
            CoreError::Storage(arca_core::StoreError("disk on fire".into())),
        );
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn integrity_is_500_and_says_so() {
        let e = ApiError::core(
            "Secret payload retrieval",
            CoreError::Integrity("the payload".into()),
        );
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(e.description().contains("integrity"));
    }

    #[test]
    fn not_found_uses_barbican_words() {
        let e = ApiError::core(
            "Secret retrieval",
            CoreError::NotFound("Secret not found.".into()),
        );
        assert_eq!(
            e.description(),
            "Not Found. Sorry but your secret is in another castle."
        );
    }
}
