//! The key objects inside the token: generating a master KEK (AES-256; token, private, sensitive,
//! non-extractable, non-modifiable, CKA_WRAP/CKA_UNWRAP only) and an HMAC key (generic secret, 256 bits,
//! CKA_SIGN/CKA_VERIFY only) under versioned labels `<label>-v<n>`, scanning which versions exist (exactly one
//! object per label, refused otherwise), destroying a version, and the RFC 5649 known-answer test that
//! `CKM_AES_KEY_WRAP_PAD` must pass before it is used.

use std::collections::BTreeMap;

use cryptoki::error::Error as CkError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use zeroize::Zeroizing;

use super::errors::{Pkcs11Error, describe};

/// The two objects of one root key version.
#[derive(Debug, Clone, Copy)]
pub struct VersionKeys {
    /// The master KEK.
    pub mkek: ObjectHandle,
    /// The HMAC key.
    pub hmac: ObjectHandle,
}

/// `<base>-v<version>`.
pub fn versioned(base: &str, version: u32) -> String {
    format!("{base}-v{version}")
}

fn parse_version(base: &str, label: &str) -> Option<u32> {
    label
        .strip_prefix(base)?
        .strip_prefix("-v")?
        .parse()
        .ok()
        .filter(|v| *v > 0)
}

/// Every secret key labelled `<base>-v<n>`, by version, with how many objects carry each label.
fn scan_one(session: &Session, base: &str) -> Result<BTreeMap<u32, Vec<ObjectHandle>>, CkError> {
    let handles = session.find_objects(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::Token(true),
    ])?;
    let mut found: BTreeMap<u32, Vec<ObjectHandle>> = BTreeMap::new();
    for handle in handles {
        let attrs = session.get_attributes(handle, &[AttributeType::Label])?;
        for attr in attrs {
            if let Attribute::Label(bytes) = attr
                && let Ok(label) = std::str::from_utf8(&bytes)
                && let Some(v) = parse_version(base, label)
            {
                found.entry(v).or_default().push(handle);
            }
        }
    }
    Ok(found)
}

/// The versions present in the token, each with exactly one master KEK and one HMAC key.
pub fn scan(
    session: &Session,
    mkek_label: &str,
    hmac_label: &str,
) -> Result<BTreeMap<u32, VersionKeys>, ScanError> {
    let mkeks = scan_one(session, mkek_label)?;
    let hmacs = scan_one(session, hmac_label)?;
    let mut out = BTreeMap::new();
    for (base, map) in [(mkek_label, &mkeks), (hmac_label, &hmacs)] {
        for (v, handles) in map {
            if handles.len() != 1 {
                return Err(ScanError::Keys(format!(
                    "{} objects in the token are labelled {:?}: a root key label must match exactly one object; remove the extra ones",
                    handles.len(),
                    versioned(base, *v)
                )));
            }
        }
    }
    for (v, mkek) in &mkeks {
        let Some(hmac) = hmacs.get(v) else {
            return Err(ScanError::Keys(format!(
                "the token holds {:?} but no {:?}",
                versioned(mkek_label, *v),
                versioned(hmac_label, *v)
            )));
        };
        out.insert(
            *v,
            VersionKeys {
                mkek: mkek[0],
                hmac: hmac[0],
            },
        );
    }
    if let Some(v) = hmacs.keys().find(|v| !mkeks.contains_key(v)) {
        return Err(ScanError::Keys(format!(
            "the token holds {:?} but no {:?}",
            versioned(hmac_label, *v),
            versioned(mkek_label, *v)
        )));
    }
    Ok(out)
}

/// Why a scan failed: the token (reconnect) or its content (a clear error).
#[derive(Debug)]
pub enum ScanError {
    /// A PKCS#11 call failed.
    Ck(CkError),
    /// The objects are not as expected.
    Keys(String),
}

impl From<CkError> for ScanError {
    fn from(e: CkError) -> Self {
        Self::Ck(e)
    }
}

/// Generates version `version`: a master KEK and an HMAC key, refusing if either label is already taken.
pub fn generate(
    session: &Session,
    mkek_label: &str,
    hmac_label: &str,
    version: u32,
) -> Result<VersionKeys, Pkcs11Error> {
    let ck = |e: CkError| {
        Pkcs11Error::Keys(format!(
            "generating root key version {version} failed: {}",
            describe(&e)
        ))
    };
    for base in [mkek_label, hmac_label] {
        let label = versioned(base, version);
        let existing = session
            .find_objects(&[Attribute::Label(label.clone().into_bytes())])
            .map_err(ck)?;
        if !existing.is_empty() {
            return Err(Pkcs11Error::Keys(format!(
                "the token already holds an object labelled {label:?}: refusing to create another"
            )));
        }
    }
    let common = |label: String| {
        vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Modifiable(false),
            Attribute::Derive(false),
            Attribute::Label(label.into_bytes()),
            Attribute::ValueLen(32.into()),
        ]
    };
    let mut mkek_template = common(versioned(mkek_label, version));
    mkek_template.extend([
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
        Attribute::Encrypt(false),
        Attribute::Decrypt(false),
        Attribute::Sign(false),
        Attribute::Verify(false),
    ]);
    let mkek = session
        .generate_key(&Mechanism::AesKeyGen, &mkek_template)
        .map_err(ck)?;
    let mut hmac_template = common(versioned(hmac_label, version));
    hmac_template.extend([
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Sign(true),
        Attribute::Verify(true),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Encrypt(false),
        Attribute::Decrypt(false),
    ]);
    let hmac = match session.generate_key(&Mechanism::GenericSecretKeyGen, &hmac_template) {
        Ok(h) => h,
        Err(e) => {
            let _ = session.destroy_object(mkek);
            return Err(ck(e));
        }
    };
    Ok(VersionKeys { mkek, hmac })
}

/// A session object destroyed when this guard drops, on every path.
pub struct TempObject<'a> {
    session: &'a Session,
    /// The object.
    pub handle: ObjectHandle,
}

impl<'a> TempObject<'a> {
    /// Guards `handle`.
    pub fn new(session: &'a Session, handle: ObjectHandle) -> Self {
        Self { session, handle }
    }
}

impl Drop for TempObject<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.session.destroy_object(self.handle) {
            tracing::warn!(error = %describe(&e), "could not destroy a temporary HSM session object");
        }
    }
}

/// Imports `value` as an extractable session secret key that the master KEK can wrap.
pub fn import_session_key<'a>(
    session: &'a Session,
    key_type: KeyType,
    value: &[u8],
) -> Result<TempObject<'a>, CkError> {
    let mut template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(key_type),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::Value(value.to_vec()),
    ];
    let created = session.create_object(&template);
    for attr in &mut template {
        if let Attribute::Value(v) = attr {
            zeroize::Zeroize::zeroize(v);
        }
    }
    Ok(TempObject::new(session, created?))
}

/// Reads a session object's value into a zeroizing buffer.
pub fn read_value(session: &Session, handle: ObjectHandle) -> Result<Zeroizing<Vec<u8>>, CkError> {
    let mut out = Zeroizing::new(Vec::new());
    for attr in session.get_attributes(handle, &[AttributeType::Value])? {
        if let Attribute::Value(mut v) = attr {
            out.extend_from_slice(&v);
            zeroize::Zeroize::zeroize(&mut v);
        }
    }
    Ok(out)
}

/// The known answer: RFC 5649 with the KEK of RFC 5649 section 6 over the 32 bytes 00..1f — the length Arca
/// wraps (RFC 5649's own examples are 20 and 7 bytes; SoftHSM2 zero-pads such lengths to a multiple of 8
/// before wrapping, so it fails them while being RFC 5649 for 32-byte keys). Computed with pyca/cryptography's
/// `aes_key_wrap_with_padding`.
const KWP_KEK: [u8; 24] = [
    0x58, 0x40, 0xdf, 0x6e, 0x29, 0xb0, 0x2a, 0xf1, 0xab, 0x49, 0x3b, 0x70, 0x5b, 0xf1, 0x6e, 0xa1,
    0xae, 0x83, 0x38, 0xf4, 0xdc, 0xc1, 0x76, 0xa8,
];
const KWP_WRAPPED: [u8; 40] = [
    0xfe, 0x6a, 0x03, 0x20, 0x61, 0x7d, 0x94, 0xd5, 0xab, 0xcd, 0x3c, 0xad, 0xbb, 0x5a, 0x15, 0xee,
    0x23, 0x57, 0x4a, 0xd2, 0xa6, 0x50, 0x9b, 0x3f, 0x5a, 0x2b, 0x3b, 0x9d, 0x96, 0xfd, 0xa7, 0x66,
    0xe6, 0xd1, 0x20, 0x42, 0x53, 0x50, 0x38, 0x95,
];

/// Whether the token's `CKM_AES_KEY_WRAP_PAD` is RFC 5649 for 32-byte keys: wraps the known answer and compares.
pub fn kwp_known_answer(session: &Session) -> Result<bool, CkError> {
    let kek = session.create_object(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(false),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
        Attribute::Value(KWP_KEK.to_vec()),
    ])?;
    let kek = TempObject::new(session, kek);
    let value: Vec<u8> = (0u8..32).collect();
    let key = import_session_key(session, KeyType::GENERIC_SECRET, &value)?;
    match session.wrap_key(&Mechanism::AesKeyWrapPad, kek.handle, key.handle) {
        Ok(wrapped) => Ok(wrapped == KWP_WRAPPED),
        Err(CkError::Pkcs11(_, _)) => Ok(false),
        Err(e) => Err(e),
    }
}
