//! The unseal share file: `magic ‖ version ‖ deployment_id ‖ M ‖ N ‖ index(≠0) ‖ share ‖ CRC32`, text-armoured
//! as comment lines (for the custodian: which share of which deployment) and one line of base64 (decoded in
//! constant time). The CRC catches typing and copying errors; authenticity comes from the share digests kept in
//! `root.sealed` and from the key check value.

use base64ct::{Base64, Encoding};
use uuid::Uuid;
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"ARCS";
const VERSION: u8 = 1;
/// Bytes of one share's value (the unseal key is 256 bits).
pub const SHARE_LEN: usize = 32;
const BODY_LEN: usize = 4 + 1 + 16 + 1 + 1 + 1 + SHARE_LEN;
const FILE_LEN: usize = BODY_LEN + 4;

/// One custodian's share of the unseal key. No `Debug`: the value is secret.
pub struct UnsealShare {
    /// The deployment it belongs to.
    pub deployment_id: Uuid,
    /// Shares needed to unseal (M).
    pub threshold: u8,
    /// Shares made (N).
    pub shares: u8,
    /// This share's x-coordinate, 1..=N.
    pub index: u8,
    /// The share's y-values.
    pub value: Zeroizing<[u8; SHARE_LEN]>,
}

/// Why a share file was refused. Says nothing about key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareFormatError {
    /// Not base64 of the right length, wrong magic or version, or a zero index.
    #[error("this is not an Arca unseal share file")]
    Malformed,
    /// The checksum does not match: the share was damaged in transit.
    #[error("the share is damaged (checksum mismatch): copy the share file again")]
    Checksum,
}

impl UnsealShare {
    fn body(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(FILE_LEN));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(self.deployment_id.as_bytes());
        out.extend_from_slice(&[self.threshold, self.shares, self.index]);
        out.extend_from_slice(&self.value[..]);
        out
    }

    /// The share file's text.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut bytes = self.body();
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_be_bytes());
        Zeroizing::new(format!(
            "# Arca unseal share {index} of {n} (any {m} unseal), deployment {id}\n\
             # Keep it offline; give it only to `arca unseal --share FILE`.\n{body}\n",
            index = self.index,
            n = self.shares,
            m = self.threshold,
            id = self.deployment_id,
            body = Zeroizing::new(Base64::encode_string(&bytes)).as_str(),
        ))
    }

    /// Parses a share file's text (comment lines starting with `#` are ignored).
    pub fn parse(text: &str) -> Result<Self, ShareFormatError> {
        let encoded: String = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let encoded = Zeroizing::new(encoded);
        let mut raw = Zeroizing::new([0u8; FILE_LEN + 3]);
        let decoded = Base64::decode(encoded.as_bytes(), &mut raw[..])
            .map_err(|_| ShareFormatError::Malformed)?;
        if decoded.len() != FILE_LEN || &decoded[..4] != MAGIC || decoded[4] != VERSION {
            return Err(ShareFormatError::Malformed);
        }
        let (body, crc) = decoded.split_at(BODY_LEN);
        if crc32fast::hash(body).to_be_bytes() != crc {
            return Err(ShareFormatError::Checksum);
        }
        let deployment_id =
            Uuid::from_slice(&body[5..21]).map_err(|_| ShareFormatError::Malformed)?;
        let (threshold, shares, index) = (body[21], body[22], body[23]);
        if index == 0 || index > shares || threshold < 2 || threshold > shares {
            return Err(ShareFormatError::Malformed);
        }
        let mut value = Zeroizing::new([0u8; SHARE_LEN]);
        value.copy_from_slice(&body[24..24 + SHARE_LEN]);
        Ok(Self {
            deployment_id,
            threshold,
            shares,
            index,
            value,
        })
    }

    /// `SHA-256("arca/v1/share" ‖ deployment_id ‖ index ‖ share)`, kept in `root.sealed` to recognise the share.
    pub fn digest(&self) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"arca/v1/share");
        ctx.update(self.deployment_id.as_bytes());
        ctx.update(&[self.index]);
        ctx.update(&self.value[..]);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> UnsealShare {
        UnsealShare {
            deployment_id: Uuid::new_v4(),
            threshold: 3,
            shares: 5,
            index: 2,
            value: Zeroizing::new([7u8; SHARE_LEN]),
        }
    }

    #[test]
    fn round_trip_and_damage() {
        let share = sample();
        let text = share.to_text();
        let back = UnsealShare::parse(&text).unwrap();
        assert_eq!(
            (back.deployment_id, back.threshold, back.shares, back.index),
            (share.deployment_id, 3, 5, 2)
        );
        assert_eq!(back.value[..], share.value[..]);
        assert_eq!(back.digest(), share.digest());
        let body = text.lines().last().unwrap();
        let mut bytes = Base64::decode_vec(body).unwrap();
        bytes[30] ^= 1;
        let damaged = Base64::encode_string(&bytes);
        assert_eq!(
            UnsealShare::parse(&damaged).err(),
            Some(ShareFormatError::Checksum)
        );
        assert_eq!(
            UnsealShare::parse("hello").err(),
            Some(ShareFormatError::Malformed)
        );
    }
}
