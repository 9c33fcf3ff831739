//! HMAC-SHA256 over a sequence of parts, and its constant-time verification.

use aws_lc_rs::hmac;

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
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
}
