//! The audit chain (`audit_log`). Appends run only on the writer thread, inside its transaction: the head is read
//! and the next record inserted in the same savepoint, so `seq` has no gaps and two appends never share a head.
//! The whole chain is read on a pooled read connection for `arca audit verify`. Within one pass of the writer's
//! transaction the head is read once and then carried from append to append (`HEAD`), since nothing but the
//! writer's own appends can move it while the transaction holds the write lock.

use std::cell::RefCell;
use std::sync::Mutex;

use arca_core::{AuditRecord, AuditSealer, GENESIS_MAC, StoreError};
use rusqlite::{Connection, params};

use super::codec::{execute, query_all, query_opt, sql_err};

/// Appends queued for the writer (one or a batch, chained in order in one savepoint); the records they made are
/// left in `done` for the caller once committed.
pub(super) struct AuditAppend {
    pub(super) events: Vec<Vec<u8>>,
    pub(super) sealer: AuditSealer,
    pub(super) done: std::sync::Arc<Mutex<Vec<AuditRecord>>>,
}

thread_local! {
    /// The chain's head (`seq`, `mac`) after the last append of the writer's current pass, or `None` when it must
    /// be read. Lives on the writer thread, which forgets it when a pass begins and after an operation is rolled
    /// back (`forget_head`), so it never outlives the transaction that wrote it.
    static HEAD: RefCell<Option<(i64, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Makes the next append read the chain's head from the database.
pub(super) fn forget_head() {
    HEAD.with(RefCell::take);
}

/// The chain's head: the one carried from this pass's last append (taken, so it is read again if the append
/// that takes it fails), or read.
fn take_head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    if let Some(carried) = HEAD.with(RefCell::take) {
        return Ok(Some(carried));
    }
    query_opt(
        conn,
        "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1",
        [],
        "reading the audit chain head",
        |row| {
            let get = sql_err("reading the audit chain head");
            Ok((row.get(0).map_err(&get)?, row.get(1).map_err(&get)?))
        },
    )
}

impl AuditAppend {
    /// Appends `event` instead of the queued events (a write's refusal record).
    pub(super) fn apply_event(&self, conn: &Connection, event: &[u8]) -> Result<bool, StoreError> {
        AuditAppend {
            events: vec![event.to_vec()],
            sealer: self.sealer.clone(),
            done: self.done.clone(),
        }
        .apply(conn)
    }

    pub(super) fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        let (mut last, mut prev_mac) = take_head(conn)?.unwrap_or((0, GENESIS_MAC.to_vec()));
        let mut records = Vec::with_capacity(self.events.len());
        for event in &self.events {
            let seq = u64::try_from(last)
                .map_err(|_| StoreError("SQLite store: negative audit sequence".into()))?
                + 1;
            let (key_version, mac) = (self.sealer)(seq, &prev_mac, event);
            execute(
                conn,
                "INSERT INTO audit_log (seq, key_version, prev_mac, mac, event) VALUES (?, ?, ?, ?, ?)",
                params![last + 1, key_version, prev_mac, mac, event],
                "appending an audit record",
            )?;
            last += 1;
            let record = AuditRecord {
                seq,
                key_version,
                prev_mac: std::mem::replace(&mut prev_mac, mac.clone()),
                mac,
                event: event.clone(),
            };
            records.push(record);
        }
        HEAD.with(|head| *head.borrow_mut() = Some((last, prev_mac)));
        *self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = records;
        Ok(true)
    }
}

/// Every record in `seq` order.
pub(super) fn all(conn: &Connection) -> Result<Vec<AuditRecord>, StoreError> {
    query_all(
        conn,
        "SELECT seq, key_version, prev_mac, mac, event FROM audit_log ORDER BY seq",
        [],
        "reading the audit chain",
        |row| {
            let get = sql_err("reading an audit record");
            let seq: i64 = row.get(0).map_err(&get)?;
            Ok(AuditRecord {
                seq: u64::try_from(seq)
                    .map_err(|_| StoreError("SQLite store: negative audit sequence".into()))?,
                key_version: row.get(1).map_err(&get)?,
                prev_mac: row.get(2).map_err(&get)?,
                mac: row.get(3).map_err(&get)?,
                event: row.get(4).map_err(&get)?,
            })
        },
    )
}
