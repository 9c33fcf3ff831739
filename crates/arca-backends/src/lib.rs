//! Roots of trust and secret stores that live outside Arca's core: a PKCS#11 HSM (`pkcs11::Pkcs11RootKey`),
//! which keeps the master KEK and the HMAC key inside the token and implements `arca_core::RootKeyProvider`
//! over them; a KMIP server (`kmip::KmipStore`) and a Vault/OpenBao KV v2 mount (`vault::VaultStore`), both
//! `arca_core::ExternalStore`s.

pub mod kmip;
pub mod pkcs11;
pub mod vault;

pub use kmip::{KmipConfig, KmipError, KmipStore};
pub use pkcs11::{
    Pkcs11Config, Pkcs11Error, Pkcs11RootKey, WRAP_ALG_PKCS11_AES_KW, WRAP_ALG_PKCS11_AES_KWP,
    WrapMechanism,
};
pub use vault::{VaultConfig, VaultError, VaultStore};
