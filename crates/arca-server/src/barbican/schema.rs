//! The little of JSON Schema that Barbican's validators use, with `jsonschema`'s wording so error
//! descriptions read as Barbican's do: Python `repr` of values, type, length, range and enum checks, and the
//! `InvalidObject` message `Provided object does not match schema '<S>': <reason>. Invalid property: '<P>'`.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Python's `repr` of a JSON value, as `jsonschema` prints instances.
pub(crate) fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn py_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// Barbican's `InvalidObject` (400).
pub(crate) fn invalid(schema: &str, reason: &str, property: Option<&str>) -> ApiError {
    ApiError::bad_request(format!(
        "Provided object does not match schema '{schema}': {reason}. Invalid property: '{}'",
        property.unwrap_or("None")
    ))
}

/// JSON types as `jsonschema` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// `string`.
    String,
    /// `null`.
    Null,
    /// `integer` (a number without a fractional part; not a boolean).
    Integer,
    /// `object`.
    Object,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Null => "null",
            Ty::Integer => "integer",
            Ty::Object => "object",
        }
    }

    fn matches(self, value: &Value) -> bool {
        match self {
            Ty::String => value.is_string(),
            Ty::Null => value.is_null(),
            Ty::Integer => {
                value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            Ty::Object => value.is_object(),
        }
    }
}

/// `type` keyword: the reason when `value` is none of `types`.
pub(crate) fn check_type(value: &Value, types: &[Ty]) -> Result<(), String> {
    if types.iter().any(|t| t.matches(value)) {
        return Ok(());
    }
    let names = types
        .iter()
        .map(|t| format!("'{}'", t.name()))
        .collect::<Vec<_>>()
        .join(", ");
    Err(format!("{} is not of type {names}", py_repr(value)))
}

/// `maxLength` keyword (code points, as Python counts).
pub(crate) fn check_max_len(value: &Value, max: usize) -> Result<(), String> {
    match value.as_str() {
        Some(s) if s.chars().count() > max => Err(format!("{} is too long", py_repr(value))),
        _ => Ok(()),
    }
}

/// `enum` keyword over strings.
pub(crate) fn check_enum(value: &Value, allowed: &[&str]) -> Result<(), String> {
    if value.as_str().is_some_and(|s| allowed.contains(&s)) {
        return Ok(());
    }
    let list = allowed
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(format!("{} is not one of [{list}]", py_repr(value)))
}

/// `Additional properties are not allowed (...)`, as `jsonschema` words it (extras sorted).
pub(crate) fn additional_properties(map: &Map<String, Value>, allowed: &[&str]) -> Option<String> {
    let mut extra: Vec<&String> = map
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    if extra.is_empty() {
        return None;
    }
    extra.sort();
    let verb = if extra.len() == 1 { "was" } else { "were" };
    let list = extra
        .iter()
        .map(|k| py_repr(&Value::String((*k).clone())))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "Additional properties are not allowed ({list} {verb} unexpected)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reprs() {
        assert_eq!(py_repr(&json!(null)), "None");
        assert_eq!(py_repr(&json!("a'b")), "\"a'b\"");
        assert_eq!(py_repr(&json!({"a": [1, true]})), "{'a': [1, True]}");
    }

    #[test]
    fn checks() {
        assert_eq!(
            check_type(&json!(5), &[Ty::String, Ty::Null]).unwrap_err(),
            "5 is not of type 'string', 'null'"
        );
        assert!(check_type(&json!(256.0), &[Ty::Integer]).is_ok());
        assert!(check_type(&json!(true), &[Ty::Integer]).is_err());
        assert!(check_type(&json!(1.5), &[Ty::Integer]).is_err());
        assert_eq!(
            check_enum(&json!("x"), &["a", "b"]).unwrap_err(),
            "'x' is not one of ['a', 'b']"
        );
        assert_eq!(
            check_max_len(&json!("abc"), 2).unwrap_err(),
            "'abc' is too long"
        );
    }
}
