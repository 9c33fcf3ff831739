//! Request bodies, read by our own extractors so every refusal is a Barbican error and never one of axum's
//! plain-text rejections: the size limit (`max_request_bytes` → 413), `Content-Type` enforcement (415, worded
//! as Barbican's `enforce_content_types`), JSON parsing (`Malformed JSON` → 400) and Barbican's
//! `strip_whitespace` of every string in the document.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// The media type of a request (webob's `content_type`: the part before `;`, trimmed), lower-cased.
pub(crate) fn media_type(request_headers: &http::HeaderMap) -> Option<String> {
    let raw = request_headers
        .get(http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let mime = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    (!mime.is_empty()).then_some(mime)
}

/// Reads the whole body, refusing more than `limit` bytes with a 413.
async fn read_limited(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large());
    }
    // The only failures are exceeding the limit or a broken connection; either way nothing is processed.
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| ApiError::too_large())
}

/// Trims every string in a JSON document, recursively (Barbican's `strip_whitespace`).
fn strip_whitespace(value: &mut Value) {
    match value {
        Value::String(s) => {
            let trimmed = s.trim();
            if trimmed.len() != s.len() {
                let mut untrimmed = std::mem::replace(s, trimmed.to_owned());
                zeroize::Zeroize::zeroize(&mut untrimmed);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_whitespace),
        Value::Object(map) => map.values_mut().for_each(strip_whitespace),
        _ => {}
    }
}

/// Parses a JSON request body as Barbican's `load_body` does.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::bad_request("Malformed JSON"))?;
    strip_whitespace(&mut value);
    Ok(value)
}

/// A JSON body of a request whose `Content-Type` must be `application/json`.
#[derive(Debug)]
pub(crate) struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if media_type(request.headers()).as_deref() != Some("application/json") {
            return Err(ApiError::unsupported_media_type(&["application/json"]));
        }
        let bytes = read_limited(request, state.config.limits.max_request_bytes).await?;
        let parsed = parse_json(&bytes);
        crate::wipe::wipe_body(bytes);
        Ok(JsonBody(parsed?))
    }
}

/// A raw body with its media type and `Content-Encoding` (the two-step payload upload).
pub(crate) struct RawBody {
    /// The media type, lower-cased, without parameters.
    pub media_type: Option<String>,
    /// The `Content-Encoding` header, if any.
    pub encoding: Option<String>,
    /// The bytes.
    pub bytes: Bytes,
}

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let media_type = media_type(request.headers());
        let encoding = request
            .headers()
            .get(http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let bytes = read_limited(request, state.config.limits.max_request_bytes).await?;
        Ok(RawBody {
            media_type,
            encoding,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_strings_everywhere() {
        let v = parse_json(br#"{"a": "  x ", "b": [" y"], "c": {"d": "z\n"}, "e": 1}"#).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": "x", "b": ["y"], "c": {"d": "z"}, "e": 1})
        );
    }

    #[test]
    fn malformed() {
        for bad in [&b""[..], b"{", b"{'a': 1}", b"\xff"] {
            let e = parse_json(bad).unwrap_err();
            assert_eq!(e.description(), "Malformed JSON");
        }
    }

    #[test]
    fn media_types() {
        let mut h = http::HeaderMap::new();
        assert_eq!(media_type(&h), None);
        h.insert(
            http::header::CONTENT_TYPE,
            "Application/JSON; charset=utf-8".parse().unwrap(),
        );
        assert_eq!(media_type(&h).as_deref(), Some("application/json"));
    }
}
