//! `EncryptionContext` and its canonical encoding (CRYPTO.md): `"arca/v1/ec" ‖ u32 n ‖ (lp(key) ‖ lp(value))*`,
//! pairs sorted by the raw UTF-8 bytes of the key (no Unicode normalisation). An empty context encodes exactly
//! like an absent one. Rejecting duplicate JSON keys and AWS's size limits are the caller's job.

use std::collections::BTreeMap;

use crate::Binding;

const EC_LABEL: &[u8] = b"arca/v1/ec";

/// The encryption context of a KMS Encrypt/Decrypt. Not secret (AWS logs it), hence `Debug`/`Clone`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    /// A context of these pairs (`String`'s order is the order of its UTF-8 bytes).
    pub fn new(pairs: BTreeMap<String, String>) -> Self {
        Self(pairs)
    }

    /// The empty context (the same as no context).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, sorted by key.
    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The canonical encoding bound into a ciphertext blob's associated data.
    pub fn encode(&self) -> Vec<u8> {
        let n = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        let mut binding = Binding::new().raw(EC_LABEL).u32(n);
        for (key, value) in &self.0 {
            binding = binding.lp(key.as_bytes()).lp(value.as_bytes());
        }
        binding.as_bytes().to_vec()
    }
}

impl From<BTreeMap<String, String>> for EncryptionContext {
    fn from(pairs: BTreeMap<String, String>) -> Self {
        Self(pairs)
    }
}

impl FromIterator<(String, String)> for EncryptionContext {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layout_and_order() {
        let encoded = ctx(&[("b", "2"), ("a", "1")]).encode();
        let mut expected = b"arca/v1/ec".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 2]);
        for part in ["a", "1", "b", "2"] {
            expected.extend_from_slice(&[0, 0, 0, 1]);
            expected.extend_from_slice(part.as_bytes());
        }
        assert_eq!(encoded, expected);
    }

    #[test]
    fn boundaries_are_unambiguous() {
        assert_ne!(ctx(&[("ab", "c")]).encode(), ctx(&[("a", "bc")]).encode());
        assert_ne!(ctx(&[("a", "")]).encode(), ctx(&[]).encode());
    }

    #[test]
    fn sorted_by_raw_bytes() {
        // "Z" (0x5a) < "a" (0x61) < "é" (0xc3 0xa9), whatever the locale.
        let c = ctx(&[("é", "3"), ("a", "2"), ("Z", "1")]);
        let keys: Vec<&str> = c.pairs().keys().map(String::as_str).collect();
        assert_eq!(keys, ["Z", "a", "é"]);
    }

    #[test]
    fn empty_equals_absent() {
        assert!(EncryptionContext::empty().is_empty());
        assert_eq!(
            EncryptionContext::new(BTreeMap::new()).encode(),
            EncryptionContext::default().encode()
        );
    }
}
