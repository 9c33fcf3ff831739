//! Payload content types and encodings as Barbican handles them (`plugin/util/mime_types.py`,
//! `plugin/util/translations.py`): normalising client media types, decoding a create-time payload
//! (`text/plain` as UTF-8, `application/octet-stream` as base64), decoding a two-step `PUT` body
//! (`Content-Encoding: base64` or raw), and the `Accept` negotiation for reading a payload back.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::ApiError;

/// Plain text, Barbican's internal name.
pub(crate) const TEXT: &str = "text/plain";
/// Binary, Barbican's internal name.
pub(crate) const BINARY: &str = "application/octet-stream";
/// Barbican's `mime_types.SUPPORTED`, as its messages print it.
pub(crate) const SUPPORTED_LIST: &str = "['text/plain', 'text/plain;charset=utf-8', 'text/plain; charset=utf-8', 'application/octet-stream']";

/// `normalize_content_type` + `is_supported`: the internal type of a supported client media type.
pub(crate) fn normalize(mime: &str) -> Option<&'static str> {
    let mut parts = mime.split(';').map(str::trim);
    let base = parts.next().unwrap_or_default().to_ascii_lowercase();
    if let Some(param) = parts.next() {
        let (_, charset) = param
            .to_ascii_lowercase()
            .split_once('=')
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))?;
        if charset != "utf-8" {
            return None;
        }
    }
    match base.as_str() {
        TEXT => Some(TEXT),
        BINARY => Some(BINARY),
        _ => None,
    }
}

/// The encodings a normalised type accepts (`CTYPES_TO_ENCODINGS`), as Barbican prints them.
pub(crate) fn encodings_list(internal: &str) -> &'static str {
    if internal == BINARY {
        "['base64', 'binary']"
    } else {
        "None"
    }
}

/// Whether `encoding` is acceptable for `internal` (`is_content_type_with_encoding_supported`).
pub(crate) fn encoding_supported(internal: &str, encoding: Option<&str>) -> bool {
    match (internal, encoding) {
        (BINARY, Some(e)) => e == "base64" || e == "binary",
        (BINARY, None) => false,
        (_, None) => true,
        (_, Some(_)) => false,
    }
}

/// Python's lenient base64: ASCII whitespace is ignored, padding is required. Decoded with the `base64` crate,
/// as the KMS API decodes its plaintexts: the constant-time `base64ct` took 4% of a store, and this decodes a
/// request body, not key material at rest.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    if !text.bytes().any(|b| b.is_ascii_whitespace()) {
        return BASE64.decode(text).ok();
    }
    // The compacted copy holds the secret too, so it is wiped.
    let compact = zeroize::Zeroizing::new(
        text.bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect::<Vec<u8>>(),
    );
    BASE64.decode(&*compact).ok()
}

/// Decodes the body of `PUT /v1/secrets/{id}` for `internal` type and `Content-Encoding`.
pub(crate) fn decode_put(
    internal: &str,
    encoding: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    if internal == TEXT {
        return Ok(body.to_vec());
    }
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        None | Some("binary") => Ok(body.to_vec()),
        Some("base64") => std::str::from_utf8(body)
            .ok()
            .and_then(decode_base64)
            .ok_or_else(|| {
                ApiError::issue(
                    StatusCode::BAD_REQUEST,
                    "Secret update",
                    "Problem decoding payload",
                )
            }),
        Some(other) => Err(ApiError::issue(
            StatusCode::BAD_REQUEST,
            "Secret update",
            &format!("content-encoding of '{other}' not supported"),
        )),
    }
}

/// `is_json_request_accept`: no `Accept`, or exactly `application/json` or `*/*`, asks for metadata.
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    match accept_value(headers) {
        None => true,
        Some(v) => v == "application/json" || v == "*/*",
    }
}

/// The whole `Accept` value as webob's `header_value` gives it (repeated headers joined).
pub(crate) fn accept_value(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The internal type to return a payload stored as `stored` to a client sending `accept`: absent → binary
/// (Barbican's default), `*/*` → the stored type, else a supported type; `None` means 406.
pub(crate) fn negotiate(accept: Option<&str>, stored: &str) -> Option<&'static str> {
    match accept.map(str::trim) {
        None | Some("") => Some(BINARY),
        Some("*/*") => normalize(stored),
        Some(other) => normalize(other),
    }
}

/// Barbican's 406 for a payload that cannot be given in the accepted type.
pub(crate) fn not_acceptable(op: &str) -> ApiError {
    ApiError::issue(StatusCode::NOT_ACCEPTABLE, op, "Wrong payload content-type")
}

/// Renders a decrypted payload as `internal`; text must be UTF-8 (else 406, as Barbican's
/// `denormalize_after_decryption`).
pub(crate) fn render(internal: &'static str, bytes: &[u8], op: &str) -> Result<Response, ApiError> {
    if internal == TEXT {
        let text = std::str::from_utf8(bytes).map_err(|_| not_acceptable(op))?;
        let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
        return Ok((
            [(http::header::CONTENT_TYPE, content_type)],
            text.to_owned(),
        )
            .into_response());
    }
    let content_type = HeaderValue::from_static(BINARY);
    Ok(([(http::header::CONTENT_TYPE, content_type)], bytes.to_vec()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_decoded_as_python_does() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(
            decode_base64(" aGVs\nbG8=\r\n\t").as_deref(),
            Some(&b"hello"[..]),
            "ASCII whitespace anywhere is ignored"
        );
        assert_eq!(decode_base64("aGVsbG8"), None, "padding is required");
        assert_eq!(decode_base64("aGVs bG8"), None);
        assert_eq!(decode_base64("aGVsbG8=é"), None);
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize("text/plain"), Some(TEXT));
        assert_eq!(normalize("TEXT/Plain; charset=UTF-8"), Some(TEXT));
        assert_eq!(normalize("text/plain;charset=utf-8"), Some(TEXT));
        assert_eq!(normalize("text/plain; charset=latin-1"), None);
        assert_eq!(normalize("text/plain;"), None);
        assert_eq!(normalize("text/plain; q=0.9"), None);
        assert_eq!(normalize("application/octet-stream"), Some(BINARY));
        assert_eq!(normalize("application/json"), None);
        assert_eq!(normalize("application/aes"), None);
        assert_eq!(normalize("*/*"), None);
    }

    #[test]
    fn encodings() {
        assert!(encoding_supported(TEXT, None));
        assert!(!encoding_supported(TEXT, Some("base64")));
        assert!(encoding_supported(BINARY, Some("base64")));
        assert!(!encoding_supported(BINARY, None));
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None, TEXT), Some(BINARY));
        assert_eq!(negotiate(Some("*/*"), TEXT), Some(TEXT));
        assert_eq!(negotiate(Some("*/*"), BINARY), Some(BINARY));
        assert_eq!(negotiate(Some("text/plain"), BINARY), Some(TEXT));
        assert_eq!(negotiate(Some("application/json"), TEXT), None);
        assert_eq!(negotiate(Some("text/plain, */*"), TEXT), None);
    }

    #[test]
    fn text_must_be_utf8() {
        assert!(render(TEXT, b"\xff\xfe", "Secret payload retrieval").is_err());
        assert!(render(BINARY, b"\xff\xfe", "Secret payload retrieval").is_ok());
    }

    #[test]
    fn put_decoding() {
        assert_eq!(
            decode_put(BINARY, Some("base64"), b"YmVlcg==").unwrap(),
            b"beer"
        );
        assert_eq!(
            decode_put(BINARY, Some("BASE64"), b"YmVl\ncg==").unwrap(),
            b"beer"
        );
        assert_eq!(decode_put(BINARY, None, b"\x00\x01").unwrap(), b"\x00\x01");
        assert_eq!(
            decode_put(TEXT, Some("base64"), b"YmVlcg==").unwrap(),
            b"YmVlcg=="
        );
        assert!(decode_put(BINARY, Some("base64"), b"not base64!").is_err());
        assert!(decode_put(BINARY, Some("gzip"), b"x").is_err());
    }
}
