//! Wiping what a request brought once it is read: a body may hold a secret (a Barbican payload, a KMS
//! plaintext), and its buffers would otherwise go back to the allocator with the secret in them.

use axum::body::Bytes;
use serde_json::Value;
use zeroize::Zeroize;

/// Zeroes `body` when this is the last reference to its buffer. A body that hyper read in one piece may still
/// share the connection's read buffer, which hyper overwrites with the next request; that one is left alone.
pub(crate) fn wipe_body(body: Bytes) {
    if let Ok(mut owned) = body.try_into_mut() {
        owned.as_mut().zeroize();
    }
}

/// Zeroes every string of a parsed JSON document (a payload's base64 text among them) before it is dropped.
pub(crate) fn wipe_json_strings(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe_json_strings),
        Value::Object(map) => map.values_mut().for_each(wipe_json_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_zeroed_in_place() {
        let mut doc: Value =
            serde_json::from_str(r#"{"payload":"c2VjcmV0","list":["a",{"b":"c"}],"n":1}"#).unwrap();
        wipe_json_strings(&mut doc);
        assert_eq!(
            doc,
            serde_json::json!({"payload": "", "list": ["", {"b": ""}], "n": 1})
        );
    }
}
