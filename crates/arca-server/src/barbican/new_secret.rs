//! Barbican's `NewSecretValidator` for `POST /v1/secrets`, in its order and with its messages: the JSON
//! schema (types, lengths, `bit_length` 1..=32767, `secret_type` and `payload_content_encoding` enums; unknown
//! fields are ignored, as the schema allows them), then `expiration` (ISO 8601, in the future), then the
//! payload rules (`payload_content_type` required and supported, encoding `base64` exactly for
//! `application/octet-stream` and none for `text/plain`, not empty, valid base64, not larger than
//! `max_payload_bytes` — measured on the payload string as sent, like Barbican's `secret_too_big`).

use arca_core::{NewSecret, Payload, SecretType};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::ApiError;

use super::payload::{self, BINARY};
use super::schema::{Ty, check_enum, check_max_len, check_type, invalid};
use super::timefmt;

const SCHEMA: &str = "Secret";
/// Barbican's `MYSQL_SMALL_INT_MAX`.
const BIT_LENGTH_MAX: i64 = 32767;
/// Secret types in the order Barbican's schema lists them.
const SECRET_TYPES: [&str; 6] = [
    "symmetric",
    "passphrase",
    "private",
    "public",
    "certificate",
    "opaque",
];

fn fail(reason: &str, property: &str) -> ApiError {
    invalid(SCHEMA, reason, Some(property))
}

/// One property's schema checks.
fn property(
    map: &Map<String, Value>,
    name: &str,
    types: &[Ty],
    max_len: Option<usize>,
) -> Result<(), ApiError> {
    let Some(value) = map.get(name) else {
        return Ok(());
    };
    check_type(value, types).map_err(|r| fail(&r, name))?;
    if let Some(max) = max_len {
        check_max_len(value, max).map_err(|r| fail(&r, name))?;
    }
    Ok(())
}

fn check_schema(map: &Map<String, Value>) -> Result<(), ApiError> {
    property(map, "name", &[Ty::String, Ty::Null], Some(255))?;
    property(map, "algorithm", &[Ty::String], Some(255))?;
    property(map, "mode", &[Ty::String], Some(255))?;
    if let Some(value) = map.get("bit_length") {
        check_type(value, &[Ty::Integer]).map_err(|r| fail(&r, "bit_length"))?;
        let n = value.as_f64().unwrap_or_default();
        if n < 1.0 {
            return Err(fail(
                &format!("{value} is less than the minimum of 1"),
                "bit_length",
            ));
        }
        if n > BIT_LENGTH_MAX as f64 {
            return Err(fail(
                &format!("{value} is greater than the maximum of {BIT_LENGTH_MAX}"),
                "bit_length",
            ));
        }
    }
    property(map, "expiration", &[Ty::String], Some(255))?;
    property(map, "payload", &[Ty::String], None)?;
    if let Some(value) = map.get("secret_type") {
        check_type(value, &[Ty::String]).map_err(|r| fail(&r, "secret_type"))?;
        check_max_len(value, 80).map_err(|r| fail(&r, "secret_type"))?;
        check_enum(value, &SECRET_TYPES).map_err(|r| fail(&r, "secret_type"))?;
    }
    property(
        map,
        "payload_content_type",
        &[Ty::String, Ty::Null],
        Some(255),
    )?;
    if let Some(value) = map.get("payload_content_encoding") {
        check_type(value, &[Ty::String]).map_err(|r| fail(&r, "payload_content_encoding"))?;
        check_max_len(value, 255).map_err(|r| fail(&r, "payload_content_encoding"))?;
        check_enum(value, &["base64"]).map_err(|r| fail(&r, "payload_content_encoding"))?;
    }
    if let Some(value) = map.get("transport_key_needed") {
        check_type(value, &[Ty::String]).map_err(|r| fail(&r, "transport_key_needed"))?;
        check_enum(value, &["true", "false"]).map_err(|r| fail(&r, "transport_key_needed"))?;
    }
    property(map, "transport_key_id", &[Ty::String], None)?;
    Ok(())
}

fn string(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn expiration(
    map: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, ApiError> {
    let Some(raw) = map
        .get("expiration")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    else {
        return Ok(None);
    };
    let at =
        timefmt::parse(raw).ok_or_else(|| fail("Invalid date for 'expiration'", "expiration"))?;
    if at <= now {
        return Err(fail("'expiration' is before current time", "expiration"));
    }
    Ok(Some(at))
}

fn payload(
    map: &Map<String, Value>,
    max_payload_bytes: usize,
) -> Result<Option<Payload>, ApiError> {
    let Some(raw) = map.get("payload").and_then(Value::as_str) else {
        if map.contains_key("payload_content_type") {
            return Err(fail(
                "payload must be provided when payload_content_type is specified",
                "payload",
            ));
        }
        return Ok(None);
    };
    let content_type = map
        .get("payload_content_type")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            fail(
                "If 'payload' is supplied, 'payload_content_type' must also be supplied.",
                "payload_content_type",
            )
        })?;
    let internal = payload::normalize(content_type).ok_or_else(|| {
        fail(
            &format!(
                "payload_content_type is not one of {}",
                payload::SUPPORTED_LIST
            ),
            "payload_content_type",
        )
    })?;
    let encoding = map.get("payload_content_encoding").and_then(Value::as_str);
    if !payload::encoding_supported(internal, encoding) {
        let reason = format!(
            "payload_content_encoding is not one of {}",
            payload::encodings_list(internal)
        );
        return Err(fail(&reason, "payload_content_encoding"));
    }
    if raw.len() > max_payload_bytes {
        return Err(ApiError::too_large());
    }
    if raw.is_empty() {
        return Err(fail("If 'payload' specified, must be non empty", "payload"));
    }
    let bytes = if internal == BINARY {
        payload::decode_base64(raw)
            .ok_or_else(|| fail("Invalid payload for payload_content_encoding", "payload"))?
    } else {
        raw.as_bytes().to_vec()
    };
    if bytes.len() > max_payload_bytes {
        return Err(ApiError::too_large());
    }
    Ok(Some(Payload {
        bytes: bytes.into(),
        content_type: internal.to_owned(),
    }))
}

/// Validates a (whitespace-stripped) create body into a domain request.
pub(crate) fn validate(
    body: &Value,
    now: OffsetDateTime,
    max_payload_bytes: usize,
) -> Result<NewSecret, ApiError> {
    let map = body.as_object().ok_or_else(|| {
        invalid(
            SCHEMA,
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })?;
    check_schema(map)?;
    let expiration = expiration(map, now)?;
    let payload = payload(map, max_payload_bytes)?;
    let secret_type = map
        .get("secret_type")
        .and_then(Value::as_str)
        .and_then(SecretType::parse)
        .unwrap_or(SecretType::Opaque);
    Ok(NewSecret {
        name: string(map, "name"),
        algorithm: string(map, "algorithm"),
        bit_length: map
            .get("bit_length")
            .and_then(Value::as_f64)
            .map(|f| f as i64),
        mode: string(map, "mode"),
        secret_type,
        expiration,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn err(body: Value) -> String {
        match validate(&body, NOW, 20_000) {
            Ok(_) => panic!("accepted {body}"),
            Err(e) => e.description().to_owned(),
        }
    }

    #[test]
    fn accepts_full_secret_and_ignores_unknown_fields() {
        let s = validate(
            &json!({"name": "k", "expiration": "2030-01-01T00:00:00Z", "algorithm": "aes", "bit_length": 256,
                    "mode": "cbc", "secret_type": "symmetric", "payload": "YmVlcg==",
                    "payload_content_type": "application/octet-stream", "payload_content_encoding": "base64",
                    "surprise": [1, 2]}),
            NOW,
            20_000,
        )
        .unwrap();
        assert_eq!(s.secret_type, SecretType::Symmetric);
        assert_eq!(s.bit_length, Some(256));
        assert_eq!(&s.payload.unwrap().bytes[..], b"beer");
        let s = validate(&json!({}), NOW, 20_000).unwrap();
        assert_eq!(s.secret_type, SecretType::Opaque);
        assert!(s.payload.is_none());
    }

    #[test]
    fn barbican_messages() {
        let p = |reason: &str, prop: &str| {
            format!(
                "Provided object does not match schema 'Secret': {reason}. Invalid property: '{prop}'"
            )
        };
        assert_eq!(err(json!([])), p("[] is not of type 'object'", "None"));
        assert_eq!(
            err(json!({"name": 5})),
            p("5 is not of type 'string', 'null'", "name")
        );
        assert_eq!(
            err(json!({"name": "x".repeat(256)})),
            p(&format!("'{}' is too long", "x".repeat(256)), "name")
        );
        assert_eq!(
            err(json!({"bit_length": 0})),
            p("0 is less than the minimum of 1", "bit_length")
        );
        assert_eq!(
            err(json!({"bit_length": "256"})),
            p("'256' is not of type 'integer'", "bit_length")
        );
        assert_eq!(
            err(json!({"bit_length": 40000})),
            p("40000 is greater than the maximum of 32767", "bit_length")
        );
        assert_eq!(
            err(json!({"secret_type": "bogus"})),
            p(
                "'bogus' is not one of ['symmetric', 'passphrase', 'private', 'public', 'certificate', 'opaque']",
                "secret_type"
            )
        );
        assert_eq!(
            err(json!({"expiration": "soon"})),
            p("Invalid date for 'expiration'", "expiration")
        );
        assert_eq!(
            err(json!({"expiration": "2020-01-01"})),
            p("'expiration' is before current time", "expiration")
        );
        assert_eq!(
            err(json!({"payload": "x"})),
            p(
                "If 'payload' is supplied, 'payload_content_type' must also be supplied.",
                "payload_content_type"
            )
        );
        assert_eq!(
            err(json!({"payload": "x", "payload_content_type": "application/json"})),
            p(
                &format!(
                    "payload_content_type is not one of {}",
                    payload::SUPPORTED_LIST
                ),
                "payload_content_type"
            )
        );
        assert_eq!(
            err(json!({"payload": "x", "payload_content_type": "application/octet-stream"})),
            p(
                "payload_content_encoding is not one of ['base64', 'binary']",
                "payload_content_encoding"
            )
        );
        assert_eq!(
            err(
                json!({"payload": "x", "payload_content_type": "text/plain", "payload_content_encoding": "base64"})
            ),
            p(
                "payload_content_encoding is not one of None",
                "payload_content_encoding"
            )
        );
        assert_eq!(
            err(json!({"payload": "", "payload_content_type": "text/plain"})),
            p("If 'payload' specified, must be non empty", "payload")
        );
        assert_eq!(
            err(
                json!({"payload": "%%%", "payload_content_type": "application/octet-stream", "payload_content_encoding": "base64"})
            ),
            p("Invalid payload for payload_content_encoding", "payload")
        );
        assert_eq!(
            err(json!({"payload_content_type": "text/plain"})),
            p(
                "payload must be provided when payload_content_type is specified",
                "payload"
            )
        );
        assert_eq!(
            err(json!({"payload": null, "payload_content_type": "text/plain"})),
            p("None is not of type 'string'", "payload")
        );
    }

    #[test]
    fn size_limit_is_413() {
        let Err(e) = validate(
            &json!({"payload": "x".repeat(11), "payload_content_type": "text/plain"}),
            NOW,
            10,
        ) else {
            panic!("accepted an oversized payload")
        };
        assert_eq!(e.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    }
}
