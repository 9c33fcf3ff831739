//! Barbican's consumer validators: `ContainerConsumerValidator` (schema `Consumer`: `name` 1–36 characters
//! and `URL` 1–255, both required strings) and `SecretConsumerValidator` (schema `Secret Consumer`:
//! `service` and `resource_type` 1–255 characters, `resource_id` non-empty; all required strings). Unknown
//! properties are ignored, as the schemas allow them.

use serde_json::Value;

use crate::error::ApiError;

use super::new_container::{object, require, string_property};

/// `{"name", "URL"}` → (name, URL).
pub(crate) fn container_consumer(body: &Value) -> Result<(String, String), ApiError> {
    const SCHEMA: &str = "Consumer";
    let map = object(SCHEMA, body)?;
    require(SCHEMA, map, &["name", "URL"])?;
    string_property(SCHEMA, map, "URL", false, Some(1), Some(255), "URL")?;
    string_property(SCHEMA, map, "name", false, Some(1), Some(36), "name")?;
    let text = |k: &str| map[k].as_str().unwrap_or_default().to_owned();
    Ok((text("name"), text("URL")))
}

/// A secret consumer's identity.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SecretConsumerBody {
    /// The consuming service.
    pub service: String,
    /// The consuming resource's type.
    pub resource_type: String,
    /// The consuming resource's id.
    pub resource_id: String,
}

/// `{"service", "resource_type", "resource_id"}`.
pub(crate) fn secret_consumer(body: &Value) -> Result<SecretConsumerBody, ApiError> {
    const SCHEMA: &str = "Secret Consumer";
    let map = object(SCHEMA, body)?;
    require(SCHEMA, map, &["service", "resource_type", "resource_id"])?;
    for name in ["service", "resource_type"] {
        string_property(SCHEMA, map, name, false, Some(1), Some(255), name)?;
    }
    string_property(
        SCHEMA,
        map,
        "resource_id",
        false,
        Some(1),
        None,
        "resource_id",
    )?;
    let text = |k: &str| map[k].as_str().unwrap_or_default().to_owned();
    Ok(SecretConsumerBody {
        service: text("service"),
        resource_type: text("resource_type"),
        resource_id: text("resource_id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_consumers() {
        assert_eq!(
            container_consumer(&json!({"name": "n", "URL": "u"})).unwrap(),
            ("n".to_owned(), "u".to_owned())
        );
        let e = container_consumer(&json!({"URL": "u"})).unwrap_err();
        assert_eq!(
            e.description(),
            "Provided object does not match schema 'Consumer': 'name' is a required property. Invalid property: 'None'"
        );
        let long = "x".repeat(37);
        assert!(container_consumer(&json!({"name": long, "URL": "u"})).is_err());
        assert!(container_consumer(&json!({"name": "", "URL": "u"})).is_err());
        assert!(container_consumer(&json!({"name": 1, "URL": "u"})).is_err());
        assert!(container_consumer(&json!([])).is_err());
    }

    #[test]
    fn secret_consumers() {
        let ok =
            secret_consumer(&json!({"service": "s", "resource_type": "t", "resource_id": "i"}));
        assert_eq!(ok.unwrap().resource_id, "i");
        for bad in [
            json!({"service": "s", "resource_type": "t"}),
            json!({"service": "", "resource_type": "t", "resource_id": "i"}),
            json!({"service": "s", "resource_type": 5, "resource_id": "i"}),
            json!({"service": "s", "resource_type": "t", "resource_id": null}),
        ] {
            assert!(secret_consumer(&bad).is_err(), "{bad}");
        }
    }
}
