//! Wire building blocks shared by every KMS operation: base64 blobs (plaintexts in zeroizing buffers), the
//! encryption context read by hand so that a repeated key is refused (serde would keep the last), request
//! parsing into `SerializationException`s, AWS-worded validation of lengths and ranges, and epoch-seconds
//! timestamps.

use std::collections::BTreeMap;
use std::fmt;

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::error::KmsApiError;

/// A base64 blob that is not secret (ciphertexts, signatures, messages, MACs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Blob(pub Vec<u8>);

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        BASE64
            .decode(text.as_bytes())
            .map(Blob)
            .map_err(|_| serde::de::Error::custom("a blob member is not valid base64"))
    }
}

/// A base64 blob that is secret (plaintexts): decoded straight into a zeroizing buffer.
#[derive(Default)]
pub(crate) struct SecretBlob(pub Zeroizing<Vec<u8>>);

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Borrowed from the request body when it holds no escapes (the body buffer is the server's to drop).
        let text = Cow::<'de, str>::deserialize(d)?;
        let decoded = BASE64.decode(text.as_bytes());
        if let Cow::Owned(owned) = text {
            drop(Zeroizing::new(owned));
        }
        decoded
            .map(|v| SecretBlob(Zeroizing::new(v)))
            .map_err(|_| serde::de::Error::custom("a blob member is not valid base64"))
    }
}

/// Base64 of `bytes` for a response.
pub(crate) fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Base64 of secret `bytes` (the string is zeroized when dropped).
pub(crate) fn b64_secret(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(BASE64.encode(bytes))
}

/// An encryption context map; a repeated key is a `SerializationException`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Context;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Context, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate key '{k}' in the encryption context"
                        )));
                    }
                    out.insert(k, v);
                }
                Ok(Context(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Context {
    /// The context as the crypto layer binds it.
    pub(crate) fn encryption_context(opt: Option<Context>) -> arca_crypto::EncryptionContext {
        arca_crypto::EncryptionContext::new(opt.unwrap_or_default().0)
    }
}

/// Parses a request body (empty reads as `{}`) into `T`; any failure is a `SerializationException`.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => {
                format!("The request body does not fit the operation: {e}")
            }
            _ => format!("The request body is not valid JSON: {e}"),
        };
        KmsApiError::serialization(message)
    })
}

/// A required member.
pub(crate) fn required<T>(value: Option<T>, field: &str) -> Result<T, KmsApiError> {
    value.ok_or_else(|| KmsApiError::missing(field))
}

/// A string member of `min..=max` characters.
pub(crate) fn length(value: &str, field: &str, min: usize, max: usize) -> Result<(), KmsApiError> {
    let n = value.chars().count();
    if n < min {
        return Err(KmsApiError::validation(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        let shown: String = value.chars().take(64).collect();
        return Err(KmsApiError::validation(
            &shown,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// A required key reference (`KeyId`, `DestinationKeyId`, `TargetKeyId`): 1..=2048 characters.
pub(crate) fn key_ref(value: Option<String>, field: &str) -> Result<String, KmsApiError> {
    let value = required(value, field)?;
    length(&value, field, 1, 2048)?;
    Ok(value)
}

/// A blob member of `min..=max` bytes (AWS words it as a length constraint too).
pub(crate) fn blob_length(
    bytes: &[u8],
    field: &str,
    min: usize,
    max: usize,
) -> Result<(), KmsApiError> {
    if bytes.len() < min || bytes.len() > max {
        let bound = if bytes.len() < min {
            format!("Member must have length greater than or equal to {min}")
        } else {
            format!("Member must have length less than or equal to {max}")
        };
        return Err(KmsApiError::validation(
            "java.nio.HeapByteBuffer[...]",
            field,
            &bound,
        ));
    }
    Ok(())
}

/// An integer member in `min..=max`.
pub(crate) fn range(value: i64, field: &str, min: i64, max: i64) -> Result<(), KmsApiError> {
    if value < min {
        return Err(KmsApiError::validation(
            &value.to_string(),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(KmsApiError::validation(
            &value.to_string(),
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// An optional `Limit` in 1..=`max` (AWS's bound for the operation); absent leaves the service's default.
pub(crate) fn limit(value: Option<i64>, max: i64) -> Result<Option<u32>, KmsApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    range(value, "limit", 1, max)?;
    Ok(u32::try_from(value).ok())
}

/// An optional `Marker` (1..=320 characters).
pub(crate) fn marker(value: &Option<String>) -> Result<(), KmsApiError> {
    if let Some(m) = value {
        length(m, "marker", 1, 320)?;
    }
    Ok(())
}

/// An enum member: `parse` it or refuse with AWS's enum-constraint wording listing `allowed`.
pub(crate) fn enum_value<T>(
    value: &str,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Result<T, KmsApiError> {
    parse(value).ok_or_else(|| {
        KmsApiError::validation(
            value,
            field,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        )
    })
}

/// Seconds since the epoch as AWS's JSON timestamps (a float).
pub(crate) fn epoch(t: OffsetDateTime) -> f64 {
    // Millisecond precision, as AWS returns.
    let millis = t.unix_timestamp_nanos() / 1_000_000;
    #[allow(clippy::cast_precision_loss)]
    // epoch milliseconds fit a f64 exactly for millions of years
    let millis = millis as f64;
    millis / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct R {
        encryption_context: Option<Context>,
        plaintext: Option<SecretBlob>,
    }

    #[test]
    fn contexts_and_blobs() {
        let r: R = parse(br#"{"EncryptionContext":{"a":"1","b":"2"},"Plaintext":"aGk="}"#).unwrap();
        assert_eq!(r.encryption_context.unwrap().0.len(), 2);
        assert_eq!(&r.plaintext.unwrap().0[..], b"hi");
        let refused = |body: &[u8]| parse::<R>(body).err().unwrap().type_name();
        assert_eq!(
            refused(br#"{"EncryptionContext":{"a":"1","a":"2"}}"#),
            "SerializationException"
        );
        assert_eq!(refused(br#"{"Plaintext":"!!"}"#), "SerializationException");
        assert_eq!(refused(br#"{"Plaintext":"#), "SerializationException");
        assert!(parse::<R>(b"").is_ok());
        assert_eq!(epoch(OffsetDateTime::from_unix_timestamp(5).unwrap()), 5.0);
        assert_eq!(
            limit(Some(0), 1000).unwrap_err().type_name(),
            "ValidationException"
        );
        assert_eq!(
            limit(Some(51), 50).unwrap_err().type_name(),
            "ValidationException"
        );
        assert_eq!(limit(None, 1000).unwrap(), None);
    }
}
