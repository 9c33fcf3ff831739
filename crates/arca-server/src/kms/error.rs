//! The one place KMS failures become HTTP: AWS's JSON error body `{"__type": "...", "message": "..."}` with
//! AWS's statuses — 400 for every client exception, 500 only for `KMSInternalException` (storage, integrity or
//! crypto failures on Arca's side). `CoreError::Kms` kinds map 1:1 to AWS exception names; other core errors
//! map generically (Forbidden → AccessDenied, Invalid → Validation, NotFound → NotFound). Messages never carry
//! key material; internal details go to the log only.

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use arca_core::CoreError;

use super::sigv4::SigV4Error;

/// The KMS protocol's content type, on every response.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A KMS error response.
#[derive(Debug)]
pub(crate) struct KmsApiError {
    status: StatusCode,
    type_name: &'static str,
    message: String,
}

impl KmsApiError {
    /// A client exception (400) named `type_name`.
    pub(crate) fn client(type_name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            type_name,
            message: message.into(),
        }
    }

    /// `KMSInternalException` (500) with a message that names the failing part, never its details.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            type_name: "KMSInternalException",
            message: message.into(),
        }
    }

    /// 413: the body is over the cap.
    pub(crate) fn too_large(max: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            type_name: "RequestEntityTooLargeException",
            message: format!("The request body is larger than {max} bytes."),
        }
    }

    /// `ValidationException` in AWS's "1 validation error detected" wording.
    pub(crate) fn validation(value: &str, field: &str, constraint: &str) -> Self {
        Self::client(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: \
                 {constraint}"
            ),
        )
    }

    /// `ValidationException` for a missing required member.
    pub(crate) fn missing(field: &str) -> Self {
        Self::validation("null", field, "Member must not be null")
    }

    /// `SerializationException`: the body is not the JSON the operation takes.
    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }

    /// The `__type` name (tests and metrics).
    pub(crate) fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<SigV4Error> for KmsApiError {
    fn from(e: SigV4Error) -> Self {
        let message = e.to_string();
        match e {
            SigV4Error::Missing => Self::client("MissingAuthenticationTokenException", message),
            SigV4Error::Incomplete(_) => Self::client("IncompleteSignatureException", message),
            SigV4Error::Invalid(_) | SigV4Error::Expired(_) | SigV4Error::Mismatch => {
                Self::client("InvalidSignatureException", message)
            }
        }
    }
}

impl From<CoreError> for KmsApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Kms(k) => Self::client(k.kind.aws_name(), k.message),
            CoreError::Unauthenticated => Self::client(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            CoreError::Forbidden(m) => Self::client("AccessDeniedException", m),
            CoreError::NotFound(m) => Self::client("NotFoundException", m),
            CoreError::Invalid(m) => Self::client("ValidationException", m),
            CoreError::Conflict(m) => Self::client("KMSInvalidStateException", m),
            CoreError::QuotaReached(m) => Self::client("LimitExceededException", m),
            CoreError::Storage(err) if err.is_unavailable() => {
                tracing::warn!(error = %err, "KMS request failed: database unavailable");
                Self {
                    type_name: "DependencyTimeoutException",
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: "The database is unavailable; retry later.".into(),
                }
            }
            CoreError::Storage(err) if err.is_unstorable() => Self::client(
                "ValidationException",
                err.0.trim_start_matches(arca_core::StoreError::UNSTORABLE),
            ),
            CoreError::Storage(err) => {
                tracing::error!(error = %err, "KMS request failed in storage");
                Self::internal(
                    "The request failed in Arca's storage; retry, and tell the operator if it persists.",
                )
            }
            CoreError::Unavailable(why) => Self {
                type_name: "DependencyTimeoutException",
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: why,
            },
            CoreError::Integrity(what) => {
                tracing::error!(what = %what, "KMS integrity check failed");
                Self::internal(
                    "An integrity check on stored key material failed; tell the operator.",
                )
            }
            other => {
                tracing::error!(error = %other, "KMS request failed");
                Self::internal("The request failed inside Arca; tell the operator if it persists.")
            }
        }
    }
}

impl IntoResponse for KmsApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.type_name, "message": self.message});
        (
            self.status,
            [(http::header::CONTENT_TYPE, CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        let e = KmsApiError::from(SigV4Error::Missing);
        assert_eq!(e.type_name(), "MissingAuthenticationTokenException");
        assert_eq!(
            KmsApiError::from(SigV4Error::Mismatch).type_name(),
            "InvalidSignatureException"
        );
        let e = KmsApiError::from(CoreError::Forbidden("no".into()));
        assert_eq!(
            (e.type_name(), e.status()),
            ("AccessDeniedException", StatusCode::BAD_REQUEST)
        );
        let e = KmsApiError::from(CoreError::Integrity("x".into()));
        assert_eq!(
            (e.type_name(), e.status()),
            ("KMSInternalException", StatusCode::INTERNAL_SERVER_ERROR)
        );
        let e = KmsApiError::from(CoreError::Storage(arca_core::StoreError::unavailable(
            "connection refused",
        )));
        assert_eq!(
            (e.type_name(), e.status()),
            (
                "DependencyTimeoutException",
                StatusCode::SERVICE_UNAVAILABLE
            )
        );
        assert!(e.message.contains("database is unavailable"));
        let e = KmsApiError::validation(
            "",
            "keyId",
            "Member must have length greater than or equal to 1",
        );
        assert!(
            e.message
                .starts_with("1 validation error detected: Value '' at 'keyId'")
        );
    }
}
