//! API tokens: 256 random bits shown once as `arca_<id>_<base64url>_<crc32>`, so secret scanners can match
//! them. The id (16 hex digits) is for lookup; only an HMAC digest of the whole token is ever stored.

use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use crate::{CryptoError, MacKey, random_array};

const PREFIX: &str = "arca_";

/// A freshly minted token. Shown once; not `Debug`.
pub struct ApiToken {
    /// The lookup id (not secret).
    pub id: String,
    /// The full token string the client sends.
    pub token: Zeroizing<String>,
}

/// A token string split into its parts after its checksum was verified.
pub struct ParsedToken<'a> {
    /// The lookup id.
    pub id: &'a str,
    /// The whole token string, the input of the digest.
    pub whole: &'a str,
}

fn checksum(body: &str) -> String {
    format!("{:08x}", crc32fast::hash(body.as_bytes()))
}

impl ApiToken {
    /// Mints a new random token.
    pub fn generate() -> Result<Self, CryptoError> {
        let id_bytes = random_array::<8>()?;
        let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let secret = Zeroizing::new(random_array::<32>()?);
        let encoded = Zeroizing::new(Base64UrlUnpadded::encode_string(&secret[..]));
        let body = Zeroizing::new(format!("{PREFIX}{id}_{}", encoded.as_str()));
        let token = Zeroizing::new(format!("{}_{}", body.as_str(), checksum(&body)));
        Ok(Self { id, token })
    }

    /// The digest stored in place of the token: `HMAC(K_token, token)`.
    pub fn digest(token_key: &MacKey, whole: &str) -> [u8; 32] {
        token_key.sign(&[whole.as_bytes()])
    }
}

impl<'a> ParsedToken<'a> {
    /// Splits a presented token and checks its shape and checksum; `None` for anything else.
    pub fn parse(whole: &'a str) -> Option<Self> {
        let rest = whole.strip_prefix(PREFIX)?;
        let (id, _) = rest.split_once('_')?;
        let (body, crc) = whole.rsplit_once('_')?;
        let valid_id = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid_id
            || crc.len() != 8
            || body.len() <= PREFIX.len() + id.len() + 1
            || checksum(body) != crc
        {
            return None;
        }
        Some(Self { id, whole })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_parse_and_corrupted_ones_do_not() {
        for _ in 0..50 {
            let t = ApiToken::generate().unwrap();
            let parsed = ParsedToken::parse(&t.token).expect("parses");
            assert_eq!(parsed.id, t.id);
            let mut bad = t.token.as_bytes().to_vec();
            let i = PREFIX.len() + 20;
            bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
            assert!(ParsedToken::parse(std::str::from_utf8(&bad).unwrap()).is_none());
        }
        assert!(ParsedToken::parse("arca_").is_none());
        assert!(ParsedToken::parse("bearer").is_none());
        assert!(ParsedToken::parse("arca_0123456789abcdef__00000000").is_none());
    }
}
