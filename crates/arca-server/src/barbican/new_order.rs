//! Barbican's `TypeOrderValidator` for `POST /v1/orders`, in its order and with its messages: the `Order`
//! schema (`meta` an object and `type` one of `key`, `asymmetric`, `certificate`, both required), then `meta`
//! through `NewSecretValidator` (named `'Secret' within 'Order'`; `payload_content_type` alone is allowed
//! there), then no `payload`, a truthy `algorithm` and `bit_length`, and a `bit_length` that is a multiple of 8
//! (`UnsupportedField`: "Provided field value is not supported"). Certificate orders need a certificate
//! authority, which Arca does not have: they are refused here with a 400 rather than accepted and failed.
//!
//! The `meta` kept with the order is the request's, as Barbican keeps it after validation: `name` and
//! `expiration` normalised (null when absent) — except `passphrase` (and python-barbicanclient's `pass_phrase`,
//! which Barbican ignores), which Arca never stores in clear.

use arca_core::{KeySpec, NewOrder, OrderType};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::ApiError;

use super::new_secret;
use super::payload;
use super::schema::{Ty, check_enum, check_max_len, check_type, invalid, py_repr};
use super::timefmt;

const SCHEMA: &str = "Order";
const ORDER_TYPES: [&str; 3] = ["key", "asymmetric", "certificate"];

fn fail(reason: &str, property: Option<&str>) -> ApiError {
    invalid(SCHEMA, reason, property)
}

/// The `Order` schema (draft 3: `required` inside each property, checked in the schema's order).
fn check_schema(map: &Map<String, Value>) -> Result<(), ApiError> {
    match map.get("meta") {
        None => return Err(fail("'meta' is a required property", Some("meta"))),
        Some(meta) => check_type(meta, &[Ty::Object]).map_err(|r| fail(&r, Some("meta")))?,
    }
    match map.get("type") {
        None => Err(fail("'type' is a required property", Some("type"))),
        Some(kind) => {
            check_type(kind, &[Ty::String]).map_err(|r| fail(&r, Some("type")))?;
            check_enum(kind, &ORDER_TYPES).map_err(|r| fail(&r, Some("type")))
        }
    }
}

/// `NewSecretValidator` on `meta`, as an order's: `payload_content_type` without `payload` is allowed (a string
/// or null of at most 255 characters; a non-empty one must be a supported type).
fn check_secret_meta(
    meta: &Map<String, Value>,
    now: OffsetDateTime,
    max_payload_bytes: usize,
) -> Result<arca_core::NewSecret, ApiError> {
    const WITHIN: &str = "Secret' within 'Order";
    let mut as_secret = meta.clone();
    let lone_content_type = if meta.contains_key("payload") {
        None
    } else {
        as_secret.remove("payload_content_type")
    };
    let secret = new_secret::validate(&Value::Object(as_secret), now, max_payload_bytes)
        .map_err(|e| e.within(SCHEMA))?;
    if let Some(content_type) = lone_content_type {
        let fail = |reason: &str| invalid(WITHIN, reason, Some("payload_content_type"));
        check_type(&content_type, &[Ty::String, Ty::Null]).map_err(|r| fail(&r))?;
        check_max_len(&content_type, 255).map_err(|r| fail(&r))?;
        if let Some(text) = content_type.as_str().filter(|t| !t.is_empty())
            && payload::normalize(text).is_none()
        {
            return Err(fail(&format!(
                "payload_content_type is not one of {}",
                payload::SUPPORTED_LIST
            )));
        }
    }
    Ok(secret)
}

/// Validates a (whitespace-stripped) order body into a domain request.
pub(crate) fn validate(
    body: &Value,
    now: OffsetDateTime,
    max_payload_bytes: usize,
) -> Result<NewOrder, ApiError> {
    let map = body.as_object().ok_or_else(|| {
        fail(
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })?;
    check_schema(map)?;
    let kind = map.get("type").and_then(Value::as_str).unwrap_or_default();
    let meta = map
        .get("meta")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (order_type, label) = match kind {
        "key" => (OrderType::Key, "key"),
        "asymmetric" => (OrderType::Asymmetric, "asymmetric key"),
        _ => {
            return Err(fail(
                "certificate orders are not supported: Arca has no certificate authority",
                Some("type"),
            ));
        }
    };
    let secret = check_secret_meta(&meta, now, max_payload_bytes)?;
    if meta.get("payload").is_some_and(|p| !p.is_null()) {
        return Err(fail(
            &format!("'payload' not allowed for {kind} type order"),
            Some("meta"),
        ));
    }
    let algorithm = secret
        .algorithm
        .clone()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            fail(
                &format!("'algorithm' is required field for {label} type order"),
                Some("meta"),
            )
        })?;
    let bit_length = secret.bit_length.ok_or_else(|| {
        fail(
            &format!("'bit_length' is required field for {label} type order"),
            Some("meta"),
        )
    })?;
    if bit_length % 8 != 0 {
        return Err(ApiError::bad_request(
            "Provided field value is not supported",
        ));
    }
    let passphrase = match meta.get("passphrase") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(Zeroizing::new(p.clone())),
        Some(other) => {
            return Err(fail(
                &format!("{} is not of type 'string'", py_repr(other)),
                Some("meta"),
            ));
        }
    };
    let content_type = meta
        .get("payload_content_type")
        .and_then(Value::as_str)
        .and_then(payload::normalize)
        .unwrap_or(payload::BINARY)
        .to_owned();
    let mut kept = meta.clone();
    // Never stored in clear: `passphrase`, and `pass_phrase`, which python-barbicanclient sends and Barbican's
    // order task ignores (it reads `passphrase` only), so such a key pair is generated unencrypted, as there.
    kept.remove("passphrase");
    kept.remove("pass_phrase");
    kept.insert(
        "name".into(),
        secret.name.clone().map_or(Value::Null, Value::String),
    );
    kept.insert(
        "expiration".into(),
        secret
            .expiration
            .map_or(Value::Null, |at| Value::String(timefmt::format(at))),
    );
    Ok(NewOrder {
        order_type,
        meta: Value::Object(kept).to_string(),
        spec: KeySpec {
            algorithm,
            bit_length: u32::try_from(bit_length).unwrap_or(u32::MAX),
            mode: secret.mode.clone(),
            name: secret.name.clone(),
            expiration: secret.expiration,
            content_type,
            passphrase,
        },
    })
}
