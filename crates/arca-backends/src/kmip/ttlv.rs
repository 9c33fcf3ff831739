//! The KMIP binary TTLV codec: an item is a 3-byte tag, a 1-byte type, a 4-byte big-endian length and a value
//! padded to a multiple of 8 bytes. `Item` is the decoded tree; [`encode`] writes one, [`decode`] reads one from
//! untrusted bytes and answers a [`TtlvError`] (never a panic) for truncated, oversized, badly padded, too
//! deeply nested or otherwise malformed input. Byte strings live in `Zeroizing` buffers because they carry
//! payloads.

use zeroize::Zeroizing;

/// The deepest structure nesting [`decode`] accepts (KMIP messages need about 7).
pub const MAX_DEPTH: usize = 16;

/// The TTLV item types of KMIP 1.x.
const T_STRUCTURE: u8 = 0x01;
const T_INTEGER: u8 = 0x02;
const T_LONG_INTEGER: u8 = 0x03;
const T_BIG_INTEGER: u8 = 0x04;
const T_ENUMERATION: u8 = 0x05;
const T_BOOLEAN: u8 = 0x06;
const T_TEXT_STRING: u8 = 0x07;
const T_BYTE_STRING: u8 = 0x08;
const T_DATE_TIME: u8 = 0x09;
const T_INTERVAL: u8 = 0x0A;
const T_DATE_TIME_EXTENDED: u8 = 0x0B;

/// A TTLV value.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Structure(Vec<Item>),
    Integer(i32),
    LongInteger(i64),
    BigInteger(Vec<u8>),
    Enumeration(u32),
    Boolean(bool),
    TextString(String),
    ByteString(Zeroizing<Vec<u8>>),
    DateTime(i64),
    Interval(u32),
    DateTimeExtended(i64),
}

/// One tagged TTLV item.
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    pub tag: u32,
    pub value: Value,
}

impl std::fmt::Debug for Item {
    // Byte strings are never shown: they may be payloads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:06X}:", self.tag)?;
        match &self.value {
            Value::Structure(items) => f.debug_list().entries(items).finish(),
            Value::Integer(v) => write!(f, "Integer({v})"),
            Value::LongInteger(v) => write!(f, "LongInteger({v})"),
            Value::BigInteger(v) => write!(f, "BigInteger({} bytes)", v.len()),
            Value::Enumeration(v) => write!(f, "Enumeration({v:#x})"),
            Value::Boolean(v) => write!(f, "Boolean({v})"),
            Value::TextString(v) => write!(f, "TextString({v:?})"),
            Value::ByteString(v) => write!(f, "ByteString({} bytes)", v.len()),
            Value::DateTime(v) => write!(f, "DateTime({v})"),
            Value::Interval(v) => write!(f, "Interval({v})"),
            Value::DateTimeExtended(v) => write!(f, "DateTimeExtended({v})"),
        }
    }
}

impl Drop for Item {
    // Text strings may be credentials (the request header's password): wipe them like byte strings.
    fn drop(&mut self) {
        if let Value::TextString(s) = &mut self.value {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

/// Why bytes are not a valid TTLV item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TtlvError {
    #[error("truncated TTLV: {0}")]
    Truncated(&'static str),
    #[error("TTLV item of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("TTLV nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("invalid TTLV: {0}")]
    Invalid(String),
    #[error("trailing bytes after the TTLV item")]
    Trailing,
}

impl Item {
    pub fn new(tag: u32, value: Value) -> Self {
        Item { tag, value }
    }
    pub fn structure(tag: u32, items: Vec<Item>) -> Self {
        Item::new(tag, Value::Structure(items))
    }
    pub fn integer(tag: u32, v: i32) -> Self {
        Item::new(tag, Value::Integer(v))
    }
    pub fn enumeration(tag: u32, v: u32) -> Self {
        Item::new(tag, Value::Enumeration(v))
    }
    pub fn text(tag: u32, v: impl Into<String>) -> Self {
        Item::new(tag, Value::TextString(v.into()))
    }
    pub fn bytes(tag: u32, v: &[u8]) -> Self {
        Item::new(tag, Value::ByteString(Zeroizing::new(v.to_vec())))
    }

    /// The children of a structure (empty for any other type).
    pub fn children(&self) -> &[Item] {
        match &self.value {
            Value::Structure(items) => items,
            _ => &[],
        }
    }

    /// The first child with `tag`.
    pub fn child(&self, tag: u32) -> Option<&Item> {
        self.children().iter().find(|i| i.tag == tag)
    }

    /// Every child with `tag`.
    pub fn children_with(&self, tag: u32) -> impl Iterator<Item = &Item> {
        self.children().iter().filter(move |i| i.tag == tag)
    }
}

fn padded(len: usize) -> Option<usize> {
    len.checked_next_multiple_of(8)
}

/// Appends the encoding of `item` to `out`.
pub fn encode(item: &Item, out: &mut Vec<u8>) {
    let start = out.len();
    let (len_at, body_start) = (start + 4, start + 8);
    let tag = item.tag.to_be_bytes();
    out.extend_from_slice(&tag[1..4]);
    out.push(type_of(&item.value));
    out.extend_from_slice(&[0; 4]);
    match &item.value {
        Value::Structure(items) => items.iter().for_each(|i| encode(i, out)),
        Value::Integer(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::Enumeration(v) | Value::Interval(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::LongInteger(v) | Value::DateTime(v) | Value::DateTimeExtended(v) => {
            out.extend_from_slice(&v.to_be_bytes())
        }
        Value::Boolean(v) => out.extend_from_slice(&u64::from(*v).to_be_bytes()),
        Value::BigInteger(v) => out.extend_from_slice(v),
        Value::TextString(v) => out.extend_from_slice(v.as_bytes()),
        Value::ByteString(v) => out.extend_from_slice(v),
    }
    let len = out.len() - body_start;
    // Lengths above 4 GiB cannot be expressed; callers never build such messages.
    let len32 = u32::try_from(len).unwrap_or(u32::MAX);
    out[len_at..len_at + 4].copy_from_slice(&len32.to_be_bytes());
    out.resize(body_start + len.next_multiple_of(8), 0);
}

/// The encoding of `item` in a buffer that is zeroized when dropped.
pub fn to_bytes(item: &Item) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    encode(item, &mut out);
    out
}

fn type_of(v: &Value) -> u8 {
    match v {
        Value::Structure(_) => T_STRUCTURE,
        Value::Integer(_) => T_INTEGER,
        Value::LongInteger(_) => T_LONG_INTEGER,
        Value::BigInteger(_) => T_BIG_INTEGER,
        Value::Enumeration(_) => T_ENUMERATION,
        Value::Boolean(_) => T_BOOLEAN,
        Value::TextString(_) => T_TEXT_STRING,
        Value::ByteString(_) => T_BYTE_STRING,
        Value::DateTime(_) => T_DATE_TIME,
        Value::Interval(_) => T_INTERVAL,
        Value::DateTimeExtended(_) => T_DATE_TIME_EXTENDED,
    }
}

/// The length of the whole item announced by an 8-byte TTLV header (header + padded value), for framing.
pub fn framed_len(header: &[u8; 8]) -> Option<usize> {
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    padded(len)?.checked_add(8)
}

/// Decodes exactly one item from `bytes` (nothing may follow it); `max_len` bounds the total size.
pub fn decode(bytes: &[u8], max_len: usize) -> Result<Item, TtlvError> {
    if bytes.len() > max_len {
        return Err(TtlvError::TooLarge {
            len: bytes.len(),
            max: max_len,
        });
    }
    let (item, used) = decode_at(bytes, 0)?;
    if used != bytes.len() {
        return Err(TtlvError::Trailing);
    }
    Ok(item)
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Decodes one item at the start of `bytes`; answers it and the number of bytes it took (padding included).
fn decode_at(bytes: &[u8], depth: usize) -> Result<(Item, usize), TtlvError> {
    if depth > MAX_DEPTH {
        return Err(TtlvError::TooDeep);
    }
    let header = bytes.get(..8).ok_or(TtlvError::Truncated("item header"))?;
    let tag = u32::from_be_bytes([0, header[0], header[1], header[2]]);
    let ty = header[3];
    let len = be_u32(&header[4..8]) as usize;
    let total = padded(len)
        .and_then(|p| p.checked_add(8))
        .ok_or(TtlvError::Truncated("item value"))?;
    let padded_body = bytes
        .get(8..total)
        .ok_or(TtlvError::Truncated("item value"))?;
    let (body, padding) = padded_body.split_at(len);
    if padding.iter().any(|&b| b != 0) {
        return Err(TtlvError::Invalid(format!(
            "non-zero padding in item {tag:06X}"
        )));
    }
    let fixed = |want: usize| -> Result<(), TtlvError> {
        if len == want {
            Ok(())
        } else {
            Err(TtlvError::Invalid(format!(
                "item {tag:06X} of type {ty:#04x} has length {len}, expected {want}"
            )))
        }
    };
    let value = match ty {
        T_STRUCTURE => {
            if !len.is_multiple_of(8) {
                return Err(TtlvError::Invalid(format!(
                    "structure {tag:06X} has length {len}, not a multiple of 8"
                )));
            }
            let mut items = Vec::new();
            let mut at = 0;
            while at < body.len() {
                let (child, used) = decode_at(&body[at..], depth + 1)?;
                items.push(child);
                at += used;
            }
            Value::Structure(items)
        }
        T_INTEGER => {
            fixed(4)?;
            Value::Integer(be_u32(body) as i32)
        }
        T_ENUMERATION => {
            fixed(4)?;
            Value::Enumeration(be_u32(body))
        }
        T_INTERVAL => {
            fixed(4)?;
            Value::Interval(be_u32(body))
        }
        T_LONG_INTEGER => {
            fixed(8)?;
            Value::LongInteger(be_u64(body) as i64)
        }
        T_DATE_TIME => {
            fixed(8)?;
            Value::DateTime(be_u64(body) as i64)
        }
        T_DATE_TIME_EXTENDED => {
            fixed(8)?;
            Value::DateTimeExtended(be_u64(body) as i64)
        }
        T_BOOLEAN => {
            fixed(8)?;
            match be_u64(body) {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                other => {
                    return Err(TtlvError::Invalid(format!(
                        "boolean {tag:06X} has value {other}"
                    )));
                }
            }
        }
        T_BIG_INTEGER => {
            if !len.is_multiple_of(8) {
                return Err(TtlvError::Invalid(format!(
                    "big integer {tag:06X} has length {len}, not a multiple of 8"
                )));
            }
            Value::BigInteger(body.to_vec())
        }
        T_TEXT_STRING => match std::str::from_utf8(body) {
            Ok(s) => Value::TextString(s.to_owned()),
            Err(_) => {
                return Err(TtlvError::Invalid(format!(
                    "text string {tag:06X} is not UTF-8"
                )));
            }
        },
        T_BYTE_STRING => Value::ByteString(Zeroizing::new(body.to_vec())),
        other => {
            return Err(TtlvError::Invalid(format!(
                "item {tag:06X} has unknown type {other:#04x}"
            )));
        }
    };
    Ok((Item { tag, value }, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Item {
        Item::structure(
            0x420078,
            vec![
                Item::integer(0x42006A, -1),
                Item::new(0x420001, Value::LongInteger(i64::MIN)),
                Item::new(0x420002, Value::BigInteger(vec![0; 8])),
                Item::enumeration(0x42005C, 3),
                Item::new(0x420003, Value::Boolean(true)),
                Item::text(0x420094, "héllo"),
                Item::bytes(0x420043, &[0, 1, 2, 0, 255]),
                Item::new(0x420092, Value::DateTime(1_700_000_000)),
                Item::new(0x420004, Value::Interval(7)),
                Item::structure(0x420005, vec![]),
                Item::text(0x420006, ""),
            ],
        )
    }

    #[test]
    fn round_trip() {
        let item = sample();
        let bytes = to_bytes(&item);
        assert_eq!(bytes.len() % 8, 0);
        assert_eq!(decode(&bytes, 1 << 20).unwrap(), item);
        let mut header = [0u8; 8];
        header.copy_from_slice(&bytes[..8]);
        assert_eq!(framed_len(&header), Some(bytes.len()));
    }

    #[test]
    fn known_encoding() {
        // KMIP 1.2 test vector: an Integer 8 with tag Compromise Date (0x420020).
        let bytes = to_bytes(&Item::integer(0x420020, 8));
        assert_eq!(
            &bytes[..],
            &[0x42, 0x00, 0x20, 0x02, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 0]
        );
        let bytes = to_bytes(&Item::text(0x420020, "Hello World"));
        assert_eq!(&bytes[4..8], &[0, 0, 0, 11]);
        assert_eq!(bytes.len(), 24);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = to_bytes(&sample());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn oversized_trailing_deep_and_garbage() {
        let bytes = to_bytes(&sample());
        assert!(matches!(
            decode(&bytes, 16),
            Err(TtlvError::TooLarge { .. })
        ));
        let mut longer = bytes.to_vec();
        longer.extend_from_slice(&[0; 8]);
        assert_eq!(decode(&longer, 1 << 20), Err(TtlvError::Trailing));
        // A length field of 0xFFFFFFFF must not overflow or allocate.
        let huge = [0x42, 0, 0x78, 0x08, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(decode(&huge, 1 << 20).is_err());
        // Non-zero padding.
        let mut bad = to_bytes(&Item::integer(0x420020, 8)).to_vec();
        bad[15] = 1;
        assert!(decode(&bad, 1 << 20).is_err());
        // Wrong fixed length, unknown type, bad boolean, bad UTF-8.
        for raw in [
            vec![0x42, 0, 0x20, 0x02, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0x42, 0, 0x20, 0x0F, 0, 0, 0, 0],
            vec![0x42, 0, 0x20, 0x06, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2],
            vec![0x42, 0, 0x20, 0x07, 0, 0, 0, 1, 0xFF, 0, 0, 0, 0, 0, 0, 0],
        ] {
            assert!(decode(&raw, 1 << 20).is_err(), "{raw:?}");
        }
        // Nesting beyond MAX_DEPTH.
        let mut deep = Item::integer(0x420020, 1);
        for _ in 0..=MAX_DEPTH {
            deep = Item::structure(0x420021, vec![deep]);
        }
        assert_eq!(decode(&to_bytes(&deep), 1 << 20), Err(TtlvError::TooDeep));
    }

    /// A small xorshift generator: the tests need no extra crates and stay reproducible.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let valid = to_bytes(&sample()).to_vec();
        for round in 0..20_000 {
            let mut bytes = if round % 2 == 0 {
                // Mutations of a valid message reach deep into the decoder.
                let mut b = valid.clone();
                for _ in 0..(xorshift(&mut state) % 4 + 1) {
                    let at = (xorshift(&mut state) as usize) % b.len();
                    b[at] = xorshift(&mut state) as u8;
                }
                b
            } else {
                let len = (xorshift(&mut state) % 64) as usize;
                (0..len).map(|_| xorshift(&mut state) as u8).collect()
            };
            if round % 3 == 0 {
                let cut = (xorshift(&mut state) as usize) % (bytes.len() + 1);
                bytes.truncate(cut);
            }
            let _ = decode(&bytes, 1 << 20);
        }
    }

    #[test]
    fn structure_headers_exhaustively() {
        // Every type byte and small length in an item header, with and without a body.
        for ty in 0..=255u8 {
            for len in 0..=24u32 {
                let mut b = vec![0x42, 0, 0x20, ty];
                b.extend_from_slice(&len.to_be_bytes());
                let _ = decode(&b, 1 << 20);
                b.extend_from_slice(&[1; 24]);
                let _ = decode(&b, 1 << 20);
            }
        }
    }
}
