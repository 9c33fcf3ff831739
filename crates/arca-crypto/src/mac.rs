//! HMAC-SHA256 over a sequence of parts, with a key prepared once (`MacKey`) or per call, and its constant-time
//! verification.

use aws_lc_rs::hmac;

use crate::Key256;

/// An HMAC-SHA256 key prepared once — its inner and outer hash states computed — for a long-lived key that MACs
/// a message per request (the audit chain, token digests), so each MAC skips hashing the padded key twice. The
/// states are key material: aws-lc wipes them when this is dropped, and it is neither `Debug` nor `Clone`.
pub struct MacKey(hmac::Key);

impl MacKey {
    /// Prepares `key`.
    pub fn new(key: &Key256) -> Self {
        Self::from_bytes(key.expose())
    }

    fn from_bytes(key: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key))
    }

    /// HMAC-SHA256 of the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    MacKey::from_bytes(key).sign(parts)
}

/// Checks `tag` against the HMAC of `parts` in constant time.
pub fn hmac_sha256_verify(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    let expected = hmac_sha256(key, parts);
    aws_lc_rs::constant_time::verify_slices_are_equal(&expected, tag).is_ok()
}

/// Compares two byte strings in constant time (for digests and tags).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2.
    #[test]
    fn rfc4231_case_2() {
        let tag = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let hex: String = tag.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_sha256_verify(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &tag
        ));
        assert!(!hmac_sha256_verify(
            b"Jeff",
            &[b"what do ya want for nothing?"],
            &tag
        ));
    }

    #[test]
    fn a_prepared_key_macs_as_a_key_per_call() {
        let key = Key256::from_bytes([0x5a; 32]);
        let prepared = MacKey::new(&key);
        for parts in [
            &[][..],
            &[&b"one"[..]][..],
            &[&b"split "[..], &b"in parts"[..]][..],
        ] {
            assert_eq!(prepared.sign(parts), hmac_sha256(key.expose(), parts));
        }
        assert_ne!(prepared.sign(&[b"a"]), prepared.sign(&[b"b"]));
    }
}
