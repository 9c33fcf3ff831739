//! Test-only: a secret record with a sealed payload, for the unit tests of the SQLite store's modules.

use arca_core::{SOFTWARE_STORE_ID, SecretRecord, SecretType, StoredPayload};
use time::OffsetDateTime;
use uuid::Uuid;

/// A new opaque secret of project `p`, and a payload of `payload_len` bytes of `content_type`.
pub(super) fn secret_with_payload(
    payload_len: usize,
    content_type: &str,
) -> (SecretRecord, StoredPayload) {
    let now = OffsetDateTime::now_utc();
    let secret = SecretRecord {
        id: Uuid::now_v7(),
        project_id: "p".to_owned(),
        creator_id: "alice".to_owned(),
        name: None,
        algorithm: None,
        bit_length: None,
        mode: None,
        secret_type: SecretType::Opaque,
        expiration: None,
        created: now,
        updated: now,
        content_type: None,
    };
    let payload = StoredPayload {
        ciphertext: vec![7; payload_len],
        content_type: content_type.to_owned(),
        store_id: SOFTWARE_STORE_ID,
    };
    (secret, payload)
}
