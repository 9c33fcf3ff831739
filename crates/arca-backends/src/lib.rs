//! Roots of trust that live outside Arca's core: today a PKCS#11 HSM (`pkcs11::Pkcs11RootKey`), which keeps
//! the master KEK and the HMAC key inside the token and implements `arca_core::RootKeyProvider` over them.

pub mod kmip;
pub mod pkcs11;

pub use kmip::{KmipConfig, KmipError, KmipStore};
pub use pkcs11::{
    Pkcs11Config, Pkcs11Error, Pkcs11RootKey, WRAP_ALG_PKCS11_AES_KW, WRAP_ALG_PKCS11_AES_KWP,
    WrapMechanism,
};
