//! `SnapshotRows`: the secret rows a read connection has already answered, by id, in one state of the database.
//! While the database stays in that state, a second read of a row gets exactly what SQLite would return again,
//! without the two B-tree descents that were most of a by-id read's cost. `reads` decides how long that is
//! (`reads::KeptRows`): the rows are dropped as soon as a read finds the database in a state that may hold other
//! rows, but outlive the connection's snapshots, which a checkpoint ends without changing a row. Payloads here are
//! the sealed bytes the row holds (never plaintext), as SQLite's page cache holds them.

use std::collections::HashMap;

use arca_core::{SecretRecord, StoreError, StoredPayload};
use uuid::Uuid;

/// A secret's row as read with its payload: its record and, when it has one, its sealed payload.
pub(super) type SecretRow = (SecretRecord, Option<StoredPayload>);

/// Most bytes of rows one connection keeps (a few thousand secrets with 1 KiB payloads). A connection that has read
/// more keeps what it has and reads the rest from SQLite.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Bytes counted for each row beside its strings and payload (the map entry, the record's fixed fields).
const ROW_OVERHEAD: usize = 256;

/// What is kept of one secret: its record, and its payload once a read has asked for it (a metadata read
/// does not read the payload's bytes, which may span overflow pages).
struct Known {
    secret: SecretRecord,
    payload: Option<Option<StoredPayload>>,
}

/// Rows read in one state of the database (see the module docs). Absent secrets are not kept.
#[derive(Default)]
pub(super) struct SnapshotRows {
    rows: HashMap<Uuid, Known>,
    bytes: usize,
}

impl SnapshotRows {
    /// The secret `id`: from the rows kept, or read by `read` (its record alone) and kept.
    pub(super) fn secret(
        &mut self,
        id: Uuid,
        read: impl FnOnce() -> Result<Option<SecretRecord>, StoreError>,
    ) -> Result<Option<SecretRecord>, StoreError> {
        if let Some(known) = self.rows.get(&id) {
            return Ok(Some(known.secret.clone()));
        }
        let Some(secret) = read()? else {
            return Ok(None);
        };
        self.keep(id, &secret, None);
        Ok(Some(secret))
    }

    /// The secret `id` with its payload: from the rows kept if a read has asked for the payload before, or
    /// read by `read` and kept.
    pub(super) fn secret_with_payload(
        &mut self,
        id: Uuid,
        read: impl FnOnce() -> Result<Option<SecretRow>, StoreError>,
    ) -> Result<Option<SecretRow>, StoreError> {
        if let Some(Known {
            secret,
            payload: Some(payload),
        }) = self.rows.get(&id)
        {
            return Ok(Some((secret.clone(), payload.clone())));
        }
        let Some((secret, payload)) = read()? else {
            return Ok(None);
        };
        self.keep(id, &secret, Some(&payload));
        Ok(Some((secret, payload)))
    }

    /// Keeps a copy of `secret` (and `payload`, when read) in place of what was kept of `id`, if the bound leaves
    /// room for it; full rows copy nothing.
    fn keep(&mut self, id: Uuid, secret: &SecretRecord, payload: Option<&Option<StoredPayload>>) {
        let before = self.rows.get(&id).map_or(0, known_bytes);
        let size = row_bytes(secret, payload);
        if self.bytes - before + size <= MAX_BYTES {
            self.bytes = self.bytes - before + size;
            let known = Known {
                secret: secret.clone(),
                payload: payload.cloned(),
            };
            self.rows.insert(id, known);
        }
    }

    /// Whether no row is kept.
    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many rows are kept (for tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }
}

/// What a kept row is counted as against `MAX_BYTES`.
fn known_bytes(known: &Known) -> usize {
    row_bytes(&known.secret, known.payload.as_ref())
}

/// What a row of `secret` with `payload` (when read) is counted as against `MAX_BYTES`.
fn row_bytes(secret: &SecretRecord, payload: Option<&Option<StoredPayload>>) -> usize {
    let strings = [
        Some(&secret.project_id),
        Some(&secret.creator_id),
        secret.name.as_ref(),
        secret.algorithm.as_ref(),
        secret.mode.as_ref(),
        secret.content_type.as_ref(),
    ];
    let text: usize = strings.iter().flatten().map(|s| s.len()).sum();
    let sealed = payload
        .and_then(Option::as_ref)
        .map_or(0, |p| p.ciphertext.len() + p.content_type.len());
    ROW_OVERHEAD + text + sealed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::test_secret::secret_with_payload;

    /// A new secret's row with a payload of `payload_len` bytes.
    fn row(payload_len: usize) -> SecretRow {
        let (secret, payload) = secret_with_payload(payload_len, "application/octet-stream");
        (secret, Some(payload))
    }

    /// A row read once is answered from the rows kept the second time, without reading again.
    #[test]
    fn a_second_read_of_a_kept_row_is_not_read_again() {
        let mut rows = SnapshotRows::default();
        let stored = row(16);
        let id = stored.0.id;
        let mut reads = 0;
        for _ in 0..3 {
            let got = rows
                .secret_with_payload(id, || {
                    reads += 1;
                    Ok(Some(stored.clone()))
                })
                .unwrap();
            assert_eq!(got.unwrap().0.id, id);
        }
        assert_eq!(reads, 1);
    }

    /// A metadata read keeps the record alone: a payload read of the same secret then reads the row with its
    /// payload once, and every read after it, of either kind, is answered from the rows kept.
    #[test]
    fn a_payload_read_after_a_metadata_read_reads_the_payload_once() {
        let mut rows = SnapshotRows::default();
        let stored = row(16);
        let id = stored.0.id;
        let (mut metadata_reads, mut payload_reads) = (0, 0);
        let secret = rows
            .secret(id, || {
                metadata_reads += 1;
                Ok(Some(stored.0.clone()))
            })
            .unwrap();
        assert_eq!(secret.as_ref(), Some(&stored.0));
        assert_eq!(rows.bytes, known_bytes(&rows.rows[&id]));
        for _ in 0..2 {
            let got = rows
                .secret_with_payload(id, || {
                    payload_reads += 1;
                    Ok(Some(stored.clone()))
                })
                .unwrap();
            assert_eq!(got.as_ref(), Some(&stored));
        }
        let again = rows.secret(id, || {
            metadata_reads += 1;
            Ok(None)
        });
        assert_eq!(again.unwrap().as_ref(), Some(&stored.0));
        assert_eq!((metadata_reads, payload_reads), (1, 1));
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows.bytes,
            known_bytes(&rows.rows[&id]),
            "the row is counted once"
        );
        assert!(rows.bytes >= 16);
    }

    /// Absent secrets and failed reads are not kept: the next read asks again.
    #[test]
    fn absent_rows_and_errors_are_not_kept() {
        let mut rows = SnapshotRows::default();
        let stored = row(16);
        let id = stored.0.id;
        assert!(rows.secret_with_payload(id, || Ok(None)).unwrap().is_none());
        assert!(
            rows.secret_with_payload(id, || Err(StoreError("boom".into())))
                .is_err()
        );
        assert_eq!(rows.len(), 0);
        assert!(
            rows.secret_with_payload(id, || Ok(Some(stored)))
                .unwrap()
                .is_some()
        );
        assert_eq!(rows.len(), 1);
    }

    /// Past `MAX_BYTES` rows are still answered but no longer kept.
    #[test]
    fn rows_past_the_byte_bound_are_not_kept() {
        let mut rows = SnapshotRows::default();
        let per_row = 64 * 1024;
        let fit = MAX_BYTES / (per_row + ROW_OVERHEAD + 64);
        for _ in 0..fit + 10 {
            let stored = row(per_row);
            let id = stored.0.id;
            assert!(
                rows.secret_with_payload(id, || Ok(Some(stored)))
                    .unwrap()
                    .is_some()
            );
        }
        assert!(rows.len() <= fit + 1, "kept {} rows", rows.len());
        assert!(rows.bytes <= MAX_BYTES);
        assert!(rows.len() >= fit - 1);
    }
}
