//! Barbican's `ContainerValidator` (`POST /v1/containers`) and `ContainerSecretValidator` (`POST`/`DELETE
//! /v1/containers/{id}/secrets`), in their order and with their messages: the JSON schema (`type` required
//! and one of `generic`/`rsa`/`certificate`; `name` a string or null of at most 255 characters;
//! `secret_refs` an array of objects with a non-empty string `secret_ref` and an optional `name`), then
//! unique reference names, unique secret ids, every `secret_ref` under this server's host href ("no
//! spoofing"), then the names an `rsa` or `certificate` container allows and requires. As in Barbican, a
//! typed container with no references at all skips the name rules.

use std::collections::HashSet;

use arca_core::{ContainerSecretRef, ContainerType, NewContainer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ApiError;

use super::hrefs::HostHref;
use super::path::parse_id;
use super::schema::{Ty, check_enum, check_max_len, check_type, invalid, py_repr};

/// `minLength`.
pub(crate) fn check_min_len(value: &Value, min: usize) -> Result<(), String> {
    match value.as_str() {
        Some(s) if s.chars().count() < min => Err(format!("{} is too short", py_repr(value))),
        _ => Ok(()),
    }
}

/// The object of a body, or the schema's type error.
pub(crate) fn object<'a>(
    schema: &str,
    body: &'a Value,
) -> Result<&'a Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        invalid(
            schema,
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })
}

/// `required` (reported before any property error, as `jsonschema.best_match` prefers the shallower error).
pub(crate) fn require(
    schema: &str,
    map: &Map<String, Value>,
    names: &[&str],
) -> Result<(), ApiError> {
    match names.iter().find(|n| !map.contains_key(**n)) {
        Some(name) => Err(invalid(
            schema,
            &format!("'{name}' is a required property"),
            None,
        )),
        None => Ok(()),
    }
}

/// A string property: type (`string`, or also `null`), then length bounds.
pub(crate) fn string_property(
    schema: &str,
    map: &Map<String, Value>,
    name: &str,
    nullable: bool,
    min: Option<usize>,
    max: Option<usize>,
    reported_as: &str,
) -> Result<(), ApiError> {
    let Some(value) = map.get(name) else {
        return Ok(());
    };
    let types: &[Ty] = if nullable {
        &[Ty::String, Ty::Null]
    } else {
        &[Ty::String]
    };
    let fail = |r: String| invalid(schema, &r, Some(reported_as));
    check_type(value, types).map_err(fail)?;
    if let Some(min) = min {
        check_min_len(value, min).map_err(fail)?;
    }
    if let Some(max) = max {
        check_max_len(value, max).map_err(fail)?;
    }
    Ok(())
}

/// `get_secret_id_from_ref` of the container model: the last path segment (the one before a trailing
/// slash), or the whole text when it has no slash.
fn ref_tail(secret_ref: &str) -> &str {
    if let Some(trimmed) = secret_ref.strip_suffix('/') {
        trimmed.rsplit('/').next().unwrap_or_default()
    } else {
        secret_ref.rsplit('/').next().unwrap_or_default()
    }
}

/// The secret a reference names. Text that is not a canonical UUID can name no secret; it becomes the nil
/// UUID, which no secret has (ids are UUIDv7), so the lookup fails with Barbican's own 404 — after the
/// policy check, in Barbican's order.
pub(crate) fn secret_id_of(secret_ref: &str) -> Uuid {
    parse_id(ref_tail(secret_ref)).unwrap_or(Uuid::nil())
}

fn unsupported() -> ApiError {
    ApiError::bad_request("Provided field value is not supported")
}

/// `ContainerValidator.validate` plus `models.Container(data)`.
pub(crate) fn validate(body: &Value, host: &HostHref) -> Result<NewContainer, ApiError> {
    const SCHEMA: &str = "Container";
    let map = object(SCHEMA, body)?;
    require(SCHEMA, map, &["type"])?;
    string_property(SCHEMA, map, "name", true, None, Some(255), "name")?;
    let kind = &map["type"];
    check_type(kind, &[Ty::String]).map_err(|r| invalid(SCHEMA, &r, Some("type")))?;
    check_enum(kind, &["generic", "rsa", "certificate"])
        .map_err(|r| invalid(SCHEMA, &r, Some("type")))?;
    let container_type = kind
        .as_str()
        .and_then(ContainerType::parse)
        .unwrap_or(ContainerType::Generic);
    let refs: &[Value] = match map.get("secret_refs") {
        None => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid(
                SCHEMA,
                &format!("{} is not of type 'array'", py_repr(other)),
                Some("secret_refs"),
            ));
        }
    };
    for item in refs {
        let fail = |r: String| invalid(SCHEMA, &r, Some("secret_refs"));
        let entry = item
            .as_object()
            .ok_or_else(|| fail(check_type(item, &[Ty::Object]).err().unwrap_or_default()))?;
        if !entry.contains_key("secret_ref") {
            return Err(fail("'secret_ref' is a required property".into()));
        }
        string_property(SCHEMA, entry, "name", true, None, Some(255), "secret_refs")?;
        string_property(
            SCHEMA,
            entry,
            "secret_ref",
            false,
            Some(1),
            None,
            "secret_refs",
        )?;
    }
    let name = map.get("name").and_then(Value::as_str).map(str::to_owned);
    if refs.is_empty() {
        return Ok(NewContainer {
            name,
            container_type,
            secret_refs: Vec::new(),
        });
    }

    // `secret_ref.get('name', '')`: a missing name is '', a JSON null is None.
    let names: Vec<Option<&str>> = refs
        .iter()
        .map(|r| match r.get("name") {
            None => Some(""),
            Some(v) => v.as_str(),
        })
        .collect();
    let texts: Vec<&str> = refs
        .iter()
        .map(|r| {
            r.get("secret_ref")
                .and_then(Value::as_str)
                .unwrap_or_default()
        })
        .collect();
    let distinct_names: HashSet<Option<&str>> = names.iter().copied().collect();
    if distinct_names.len() != refs.len() {
        return Err(invalid(
            SCHEMA,
            "Duplicate reference names are not allowed",
            Some("secret_refs"),
        ));
    }
    let distinct_ids: HashSet<&str> = texts.iter().map(|t| ref_tail(t)).collect();
    if distinct_ids.len() != refs.len() {
        return Err(invalid(
            SCHEMA,
            "Duplicate secret ids are not allowed",
            Some("secret_refs"),
        ));
    }
    if texts.iter().any(|t| !t.starts_with(host.0.as_str())) {
        return Err(unsupported());
    }
    match container_type {
        ContainerType::Generic => {}
        ContainerType::Rsa => check_names(
            &distinct_names,
            &["public_key", "private_key"],
            &["private_key_passphrase"],
            "only 'private_key', 'public_key' and 'private_key_passphrase' reference names are allowed \
             for RSA type",
            "The minimum required reference names are 'public_key' and'private_key' for RSA type",
        )?,
        ContainerType::Certificate => check_names(
            &distinct_names,
            &["certificate"],
            &["private_key", "private_key_passphrase", "intermediates"],
            "only 'private_key', 'certificate' , 'private_key_passphrase',  or 'intermediates' \
             reference names are allowed for Certificate type",
            "The minimum required reference name is 'certificate' for Certificate type",
        )?,
    }
    let secret_refs = names
        .iter()
        .zip(&texts)
        .zip(refs)
        .map(|((_, text), raw)| ContainerSecretRef {
            // The model keeps the name as sent: absent and null are both no name.
            name: raw.get("name").and_then(Value::as_str).map(str::to_owned),
            secret_id: secret_id_of(text),
        })
        .collect();
    Ok(NewContainer {
        name,
        container_type,
        secret_refs,
    })
}

/// `_validate_rsa` / `_validate_certificate`: no other names, and all the required ones.
fn check_names(
    names: &HashSet<Option<&str>>,
    required: &[&str],
    optional: &[&str],
    unsupported_message: &str,
    minimum_message: &str,
) -> Result<(), ApiError> {
    const SCHEMA: &str = "Container";
    let allowed =
        |n: &Option<&str>| n.is_some_and(|n| required.contains(&n) || optional.contains(&n));
    if !names.iter().all(allowed) {
        return Err(invalid(SCHEMA, unsupported_message, Some("secret_refs")));
    }
    if !required.iter().all(|r| names.contains(&Some(*r))) {
        return Err(invalid(SCHEMA, minimum_message, Some("secret_refs")));
    }
    Ok(())
}

/// `ContainerSecretValidator`: `{"secret_ref": <non-empty string>, "name"?: <string ≤255>}` → the
/// reference and the `secret_ref` text as sent.
pub(crate) fn validate_container_secret(
    body: &Value,
) -> Result<(ContainerSecretRef, String), ApiError> {
    const SCHEMA: &str = "ContainerSecret";
    let map = object(SCHEMA, body)?;
    require(SCHEMA, map, &["secret_ref"])?;
    string_property(SCHEMA, map, "name", false, None, Some(255), "name")?;
    string_property(
        SCHEMA,
        map,
        "secret_ref",
        false,
        Some(1),
        None,
        "secret_ref",
    )?;
    let text = map["secret_ref"].as_str().unwrap_or_default().to_owned();
    // `hrefs.get_secret_id_from_ref`: the text after the last slash.
    let tail = text.rsplit_once('/').map(|(_, t)| t).unwrap_or_default();
    Ok((
        ContainerSecretRef {
            name: map.get("name").and_then(Value::as_str).map(str::to_owned),
            secret_id: parse_id(tail).unwrap_or(Uuid::nil()),
        },
        text,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host() -> HostHref {
        HostHref("http://h:1".into())
    }

    fn r(name: &str, id: &str) -> Value {
        json!({"name": name, "secret_ref": format!("http://h:1/v1/secrets/{id}")})
    }

    const A: &str = "0190a0f0-0000-7000-8000-000000000001";
    const B: &str = "0190a0f0-0000-7000-8000-000000000002";

    fn err(body: Value) -> String {
        validate(&body, &host())
            .unwrap_err()
            .description()
            .to_owned()
    }

    #[test]
    fn schema_rules() {
        assert!(err(json!({})).contains("'type' is a required property"));
        assert!(err(json!({"type": "dsa"})).contains("is not one of"));
        assert!(err(json!({"type": "generic", "name": 5})).contains("Invalid property: 'name'"));
        assert!(
            err(json!({"type": "generic", "secret_refs": {}})).contains("is not of type 'array'")
        );
        assert!(
            err(json!({"type": "generic", "secret_refs": [{"name": "x"}]}))
                .contains("'secret_ref' is a required property")
        );
        assert!(
            err(json!({"type": "generic", "secret_refs": [{"secret_ref": ""}]}))
                .contains("is too short")
        );
    }

    #[test]
    fn reference_rules() {
        assert!(
            err(json!({"type": "generic", "secret_refs": [r("a", A), r("a", B)]}))
                .contains("Duplicate reference names")
        );
        assert!(
            err(json!({"type": "generic", "secret_refs": [r("a", A), r("b", A)]}))
                .contains("Duplicate secret ids")
        );
        assert_eq!(
            err(
                json!({"type": "generic", "secret_refs": [{"secret_ref": format!("http://evil/v1/secrets/{A}")}]})
            ),
            "Provided field value is not supported"
        );
        assert!(
            err(json!({"type": "rsa", "secret_refs": [r("public_key", A), r("x", B)]}))
                .contains("only 'private_key', 'public_key'")
        );
        assert!(
            err(json!({"type": "rsa", "secret_refs": [r("public_key", A)]}))
                .contains("minimum required reference names")
        );
        assert!(
            err(json!({"type": "certificate", "secret_refs": [r("private_key", A)]}))
                .contains("'certificate' for Certificate type")
        );
        let ok = validate(
            &json!({"type": "rsa", "name": "k", "secret_refs": [r("public_key", A), r("private_key", B)]}),
            &host(),
        )
        .unwrap();
        assert_eq!(ok.secret_refs.len(), 2);
        assert_eq!(ok.secret_refs[0].secret_id.to_string(), A);
        // A typed container without references is accepted, as in Barbican.
        assert!(validate(&json!({"type": "certificate"}), &host()).is_ok());
    }

    #[test]
    fn container_secret() {
        let (r, text) =
            validate_container_secret(&json!({"secret_ref": format!("http://x/v1/secrets/{A}")}))
                .unwrap();
        assert_eq!(r.secret_id.to_string(), A);
        assert!(text.ends_with(A));
        assert!(
            validate_container_secret(&json!({"secret_ref": "nothing"}))
                .unwrap()
                .0
                .secret_id
                .is_nil()
        );
        assert!(validate_container_secret(&json!({"name": null, "secret_ref": "x/y"})).is_err());
    }
}
