//! Shared test keys: one key per spec, generated once for the whole test binary.

use std::sync::OnceLock;

use arca_crypto::{KeyMaterial, KmsKeySpec};

static KEYS: OnceLock<Vec<KeyMaterial>> = OnceLock::new();

/// The shared key of `spec`.
pub fn key(spec: KmsKeySpec) -> &'static KeyMaterial {
    let keys = KEYS.get_or_init(|| {
        KmsKeySpec::ALL
            .iter()
            .map(|spec| KeyMaterial::generate(*spec).unwrap())
            .collect()
    });
    keys.iter().find(|k| k.spec() == spec).unwrap()
}

/// The RSA specs.
pub const RSA: [KmsKeySpec; 3] = [
    KmsKeySpec::Rsa2048,
    KmsKeySpec::Rsa3072,
    KmsKeySpec::Rsa4096,
];
