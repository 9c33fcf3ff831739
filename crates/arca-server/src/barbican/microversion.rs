//! Microversion negotiation as Barbican does it through `microversion_parse`'s middleware: the
//! `OpenStack-API-Version: key-manager X.Y` header (the last entry for our service wins, other services are
//! ignored), absent → the minimum 1.0, `latest` → the maximum 1.2. A version string that is not `X.Y` integers
//! is a 400; a well-formed version outside 1.0–1.2 is a 406. The negotiated version is echoed in
//! `OpenStack-API-Version` with `Vary: OpenStack-API-Version` and handed to handlers as `ApiVersion`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::ApiError;

use super::python_int::python_int;

/// The microversion header.
pub(crate) const HEADER: http::HeaderName = http::HeaderName::from_static("openstack-api-version");
/// Our service type in that header.
const SERVICE_TYPE: &str = "key-manager";
/// Supported versions, oldest first (Barbican's `VERSIONS`).
pub(crate) const VERSIONS: [&str; 3] = ["1.0", "1.1", "1.2"];
/// The oldest supported version.
pub(crate) const MIN: ApiVersion = ApiVersion(0);
/// The newest supported version.
pub(crate) const MAX: ApiVersion = ApiVersion(2);

/// A negotiated `1.<minor>` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ApiVersion(pub u8);

impl ApiVersion {
    /// `1.<minor>`.
    pub(crate) fn as_str(self) -> &'static str {
        VERSIONS[usize::from(self.0)]
    }

    /// Whether this is at least `1.<minor>`.
    pub(crate) fn at_least(self, minor: u8) -> bool {
        self.0 >= minor
    }
}

/// Why negotiation failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not `X.Y` integers (400).
    Malformed(String),
    /// Well-formed but not supported (406).
    Unsupported(String),
}

/// The requested version string for our service, if any (`check_standard_header`).
fn requested(headers: &HeaderMap) -> Option<String> {
    let folded: Vec<&str> = headers
        .get_all(HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if folded.is_empty() {
        return None;
    }
    let joined = folded.join(",");
    joined.split(',').rev().find_map(|entry| {
        let entry = entry.trim();
        let (service, version) = entry.split_once(char::is_whitespace)?;
        let version = version.trim();
        (service.eq_ignore_ascii_case(SERVICE_TYPE) && !version.is_empty())
            .then(|| version.to_owned())
    })
}

/// Negotiates the version from request headers.
pub(crate) fn negotiate_headers(headers: &HeaderMap) -> Result<ApiVersion, Refusal> {
    let Some(raw) = requested(headers) else {
        return Ok(MIN);
    };
    if raw == "latest" {
        return Ok(MAX);
    }
    let malformed = || Refusal::Malformed(raw.clone());
    let (major, minor) = raw.split_once('.').ok_or_else(malformed)?;
    let major = python_int(major).ok_or_else(malformed)?;
    let minor = python_int(minor).ok_or_else(malformed)?;
    match (major, minor) {
        (1, m) if (0..=i128::from(MAX.0)).contains(&m) => Ok(ApiVersion(m as u8)),
        _ => Err(Refusal::Unsupported(raw)),
    }
}

/// Middleware: negotiates, refuses, or runs the request and stamps the response.
pub(crate) async fn negotiate(mut request: Request, next: Next) -> Response {
    let version = match negotiate_headers(request.headers()) {
        Ok(v) => v,
        Err(Refusal::Malformed(v)) => {
            return ApiError::bad_request(format!(
                "Invalid microversion: invalid version string: {v}"
            ))
            .into_response();
        }
        Err(Refusal::Unsupported(v)) => {
            return ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                format!("Invalid microversion: Unacceptable version header: {v}"),
            )
            .into_response();
        }
    };
    request.extensions_mut().insert(version);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        HEADER,
        HeaderValue::from_static(match version.0 {
            0 => "key-manager 1.0",
            1 => "key-manager 1.1",
            _ => "key-manager 1.2",
        }),
    );
    headers.append(
        http::header::VARY,
        HeaderValue::from_static("OpenStack-API-Version"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> Result<ApiVersion, Refusal> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, v.parse().unwrap());
        }
        negotiate_headers(&h)
    }

    #[test]
    fn defaults_and_latest() {
        assert_eq!(with(&[]), Ok(MIN));
        assert_eq!(with(&["key-manager latest"]), Ok(MAX));
        assert_eq!(with(&["key-manager 1.1"]), Ok(ApiVersion(1)));
        assert_eq!(with(&["KEY-MANAGER 1.2"]), Ok(ApiVersion(2)));
        assert_eq!(with(&["key-manager  1.01 "]), Ok(ApiVersion(1)));
        // Other services and entries without a version are ignored.
        assert_eq!(with(&["compute 2.1"]), Ok(MIN));
        assert_eq!(with(&["key-manager"]), Ok(MIN));
        // The last entry for our service wins, across folded and repeated headers.
        assert_eq!(
            with(&["key-manager 1.0, compute 2.5, key-manager 1.2"]),
            Ok(ApiVersion(2))
        );
        assert_eq!(with(&["key-manager 1.1", "compute 3.0"]), Ok(ApiVersion(1)));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            with(&["key-manager 1.3"]),
            Err(Refusal::Unsupported("1.3".into()))
        );
        assert_eq!(
            with(&["key-manager 2.0"]),
            Err(Refusal::Unsupported("2.0".into()))
        );
        assert_eq!(
            with(&["key-manager 1.99999999999999999999"]),
            Err(Refusal::Unsupported("1.99999999999999999999".into()))
        );
        assert_eq!(
            with(&["key-manager abc"]),
            Err(Refusal::Malformed("abc".into()))
        );
        assert_eq!(
            with(&["key-manager 1"]),
            Err(Refusal::Malformed("1".into()))
        );
        assert_eq!(
            with(&["key-manager 1.x"]),
            Err(Refusal::Malformed("1.x".into()))
        );
        assert_eq!(
            with(&["key-manager 1.1.1"]),
            Err(Refusal::Malformed("1.1.1".into()))
        );
        assert_eq!(
            with(&["key-manager LATEST"]),
            Err(Refusal::Malformed("LATEST".into()))
        );
    }
}
