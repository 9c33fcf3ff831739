//! The audit chain on PostgreSQL (`audit_log`, with its one-row head `audit_head`). Several nodes append to one
//! chain: every append locks the head row (`SELECT … FOR UPDATE`), seals and inserts its records after it and moves
//! the head, all in one transaction — the action's own when it has one ([`append_audit_in`]) — so sequence numbers
//! start at 1, have no gaps and never fork, and a rolled-back action leaves no record. A batch is one transaction
//! and one multi-row insert. Because the head stays locked until commit, appends are serialised across the cluster
//! one commit (one WAL flush) at a time; so the single appends of one node that arrive together are combined
//! ([`AuditGroup`]) into one such transaction. The whole chain is read in `seq` order for `arca audit verify`.

use std::sync::{Mutex, PoisonError};

use arca_core::{AuditRecord, AuditSealer, GENESIS_MAC, StoreError};
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::oneshot;

use super::error::{db_error, err, narrow};

/// One node's single appends waiting to be combined: whoever holds `leader` takes every waiting append and writes
/// them as one transaction (group commit), the others wait for their record. Holds no data beyond the appends in
/// flight (nothing is cached).
#[derive(Default)]
pub(super) struct AuditGroup {
    waiting: Mutex<Vec<Waiting>>,
    leader: tokio::sync::Mutex<()>,
    /// How many transactions the group wrote (tests check that appends were combined).
    #[cfg(test)]
    batches: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for AuditGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditGroup")
    }
}

/// An append waiting for its group's transaction.
struct Waiting {
    event: Vec<u8>,
    sealer: AuditSealer,
    done: oneshot::Sender<Result<AuditRecord, StoreError>>,
}

/// Appends `event` as the next record; durable when this returns. Appends of this node that arrive while another
/// is being written share the next transaction.
pub(super) async fn append_audit(
    pool: &PgPool,
    group: &AuditGroup,
    event: Vec<u8>,
    sealer: AuditSealer,
) -> Result<AuditRecord, StoreError> {
    let (done, mut record) = oneshot::channel();
    group
        .waiting
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Waiting {
            event,
            sealer,
            done,
        });
    loop {
        tokio::select! {
            biased;
            result = &mut record => {
                return result.map_err(|_| {
                    StoreError("PostgreSQL store: an audit append was abandoned".into())
                })?;
            }
            _leader = group.leader.lock() => {
                let batch = std::mem::take(
                    &mut *group.waiting.lock().unwrap_or_else(PoisonError::into_inner),
                );
                if !batch.is_empty() {
                    #[cfg(test)]
                    group
                        .batches
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // In a task of its own: a caller that goes away (a cancelled request) cannot abandon the
                    // records of the others in its batch. A panic there drops their senders: they get an error.
                    let _ = tokio::spawn(append_group(pool.clone(), batch)).await;
                }
            }
        }
    }
}

/// Writes a group's appends in one transaction and answers each.
async fn append_group(pool: PgPool, batch: Vec<Waiting>) {
    let (events, answers): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|w| ((w.event, w.sealer), w.done))
        .unzip();
    let written = async {
        let mut tx = pool
            .begin()
            .await
            .map_err(err("starting an audit append"))?;
        let records = append_all(&mut tx, events).await?;
        tx.commit()
            .await
            .map_err(err("committing an audit append"))?;
        Ok::<_, StoreError>(records)
    }
    .await;
    match written {
        Ok(records) => {
            for (record, answer) in records.into_iter().zip(answers) {
                let _ = answer.send(Ok(record));
            }
        }
        Err(e) => {
            for answer in answers {
                let _ = answer.send(Err(StoreError(e.0.clone())));
            }
        }
    }
}

/// Appends `events` in order as consecutive records, in one transaction; durable when this returns.
pub(super) async fn append_audit_batch(
    pool: &PgPool,
    events: Vec<Vec<u8>>,
    sealer: AuditSealer,
) -> Result<Vec<AuditRecord>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool
        .begin()
        .await
        .map_err(err("starting an audit append"))?;
    let events = events.into_iter().map(|e| (e, sealer.clone())).collect();
    let records = append_all(&mut tx, events).await?;
    tx.commit()
        .await
        .map_err(err("committing an audit append"))?;
    Ok(records)
}

/// Appends one record inside the caller's transaction (on `conn`, which must be in one): the head stays locked
/// until that transaction ends, and the record exists only if it commits.
pub(super) async fn append_audit_in(
    conn: &mut PgConnection,
    event: Vec<u8>,
    sealer: AuditSealer,
) -> Result<AuditRecord, StoreError> {
    let mut records = append_all(conn, vec![(event, sealer)]).await?;
    records
        .pop()
        .ok_or_else(|| StoreError("PostgreSQL store: an audit append made no record".into()))
}

/// Locks the head, seals (each with its sealer) and inserts `events` after it (one statement), and moves the head.
async fn append_all(
    conn: &mut PgConnection,
    events: Vec<(Vec<u8>, AuditSealer)>,
) -> Result<Vec<AuditRecord>, StoreError> {
    let head = sqlx::query("SELECT seq, mac FROM audit_head WHERE id = 1 FOR UPDATE")
        .fetch_optional(&mut *conn)
        .await
        .map_err(err("locking the audit chain head"))?
        .ok_or_else(|| {
            StoreError("PostgreSQL store: the audit chain head row is missing".into())
        })?;
    let last: i64 = head
        .try_get("seq")
        .map_err(|e| db_error("reading the audit chain head", e))?;
    let mut prev_mac: Vec<u8> = head
        .try_get("mac")
        .map_err(|e| db_error("reading the audit chain head", e))?;
    let mut seq = u64::try_from(last)
        .map_err(|_| StoreError("PostgreSQL store: negative audit sequence".into()))?;
    if seq == 0 {
        prev_mac = GENESIS_MAC.to_vec();
    }

    let mut records = Vec::with_capacity(events.len());
    for (event, sealer) in events {
        seq = seq
            .checked_add(1)
            .ok_or_else(|| StoreError("PostgreSQL store: audit sequence overflow".into()))?;
        let (key_version, mac) = sealer(seq, &prev_mac, &event);
        records.push(AuditRecord {
            seq,
            key_version,
            prev_mac: std::mem::replace(&mut prev_mac, mac.clone()),
            mac,
            event,
        });
    }

    let mut seqs = Vec::with_capacity(records.len());
    let mut versions = Vec::with_capacity(records.len());
    let mut prevs = Vec::with_capacity(records.len());
    let mut macs = Vec::with_capacity(records.len());
    let mut bodies = Vec::with_capacity(records.len());
    for r in &records {
        seqs.push(
            i64::try_from(r.seq)
                .map_err(|_| StoreError("PostgreSQL store: audit sequence overflow".into()))?,
        );
        versions.push(i64::from(r.key_version));
        prevs.push(r.prev_mac.as_slice());
        macs.push(r.mac.as_slice());
        bodies.push(r.event.as_slice());
    }
    sqlx::query(
        "INSERT INTO audit_log (seq, key_version, prev_mac, mac, event) \
         SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[], $4::BYTEA[], $5::BYTEA[])",
    )
    .bind(&seqs)
    .bind(&versions)
    .bind(&prevs)
    .bind(&macs)
    .bind(&bodies)
    .execute(&mut *conn)
    .await
    .map_err(err("appending audit records"))?;

    let head_seq = seqs.last().copied().unwrap_or(last);
    sqlx::query("UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1")
        .bind(head_seq)
        .bind(&prev_mac)
        .execute(&mut *conn)
        .await
        .map_err(err("moving the audit chain head"))?;
    Ok(records)
}

/// Every record in `seq` order.
pub(super) async fn audit_records(pool: &PgPool) -> Result<Vec<AuditRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT seq, key_version, prev_mac, mac, event FROM audit_log ORDER BY seq")
            .fetch_all(pool)
            .await
            .map_err(err("reading the audit chain"))?;
    rows.iter()
        .map(|row| {
            let get = |e| db_error("reading an audit record", e);
            let seq: i64 = row.try_get("seq").map_err(get)?;
            Ok(AuditRecord {
                seq: u64::try_from(seq)
                    .map_err(|_| StoreError("PostgreSQL store: negative audit sequence".into()))?,
                key_version: narrow(row.try_get("key_version").map_err(get)?, "key_version")?,
                prev_mac: row.try_get("prev_mac").map_err(get)?,
                mac: row.try_get("mac").map_err(get)?,
                event: row.try_get("event").map_err(get)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::postgres::testing::TempPostgres;
    use crate::postgres::{PostgresOptions, PostgresStore};

    /// A stand-in sealer: the MAC names the sequence number and the predecessor, so the test can check both.
    fn sealer() -> AuditSealer {
        Arc::new(|seq, prev_mac, _event| {
            let mut mac = seq.to_be_bytes().to_vec();
            mac.extend_from_slice(prev_mac.get(..8).unwrap_or(prev_mac));
            (1, mac)
        })
    }

    /// An append inside a transaction that rolls back leaves no record and no gap; one that commits holds the
    /// head until then, so an append from another connection waits and chains after it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn append_in_belongs_to_the_callers_transaction() {
        let pg = TempPostgres::new();
        let store = PostgresStore::connect(&pg.url(), PostgresOptions::default())
            .await
            .expect("connect");
        let pool = store.pool().clone();

        let mut tx = pool.begin().await.expect("begin");
        let rolled_back = append_audit_in(&mut tx, b"undone".to_vec(), sealer())
            .await
            .expect("append");
        assert_eq!(
            (rolled_back.seq, rolled_back.prev_mac.as_slice()),
            (1, &GENESIS_MAC[..])
        );
        tx.rollback().await.expect("rollback");
        assert!(audit_records(&pool).await.expect("read").is_empty());

        let mut tx = pool.begin().await.expect("begin");
        let first = append_audit_in(&mut tx, b"kept".to_vec(), sealer())
            .await
            .expect("append");
        assert_eq!(first.seq, 1, "the rolled-back record left no gap");
        // Another connection's append waits on the locked head until this transaction commits.
        let other = tokio::spawn({
            let pool = pool.clone();
            async move {
                append_audit(&pool, &AuditGroup::default(), b"second".to_vec(), sealer()).await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !other.is_finished(),
            "the head is locked by the open transaction"
        );
        tx.commit().await.expect("commit");
        let second = other.await.expect("join").expect("append");
        assert_eq!(
            (second.seq, second.prev_mac.clone()),
            (2, first.mac.clone())
        );

        let all = audit_records(&pool).await.expect("read");
        assert_eq!(all, vec![first, second]);
        store.close().await;
    }

    /// Many single appends of one node at once share transactions; callers that go away mid-append (cancelled
    /// requests) abandon nobody else's record, and the chain stays gapless.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_appends_of_a_node_are_combined() {
        let pg = TempPostgres::new();
        let store = PostgresStore::connect(&pg.url(), PostgresOptions::default())
            .await
            .expect("connect");
        let pool = store.pool().clone();
        let group = Arc::new(AuditGroup::default());
        // Another node holds the head: every append of this one waits, the leader's inside the database.
        let mut other_node = pool.begin().await.expect("begin");
        sqlx::query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
            .execute(&mut *other_node)
            .await
            .expect("lock the head");
        const APPENDS: usize = 200;
        let mut tasks = Vec::new();
        for i in 0..APPENDS {
            let (pool, group) = (pool.clone(), group.clone());
            tasks.push(tokio::spawn(async move {
                append_audit(&pool, &group, format!("{i}").into_bytes(), sealer()).await
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Cancel every tenth caller (the leader among them, whichever it is) while all of them wait.
        for task in tasks.iter().step_by(10) {
            task.abort();
        }
        other_node.commit().await.expect("release the head");
        let mut finished = 0usize;
        for task in tasks {
            match task.await {
                Ok(result) => {
                    result.expect("no append fails");
                    finished += 1;
                }
                Err(e) => assert!(e.is_cancelled()),
            }
        }
        assert_eq!(finished, APPENDS - APPENDS / 10);
        let records = audit_records(&pool).await.expect("read");
        assert_eq!(
            records.len(),
            APPENDS,
            "an append already queued is written even if its caller went away"
        );
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.seq, i as u64 + 1, "gapless");
            let prev = if i == 0 {
                &GENESIS_MAC[..]
            } else {
                &records[i - 1].mac[..]
            };
            assert_eq!(r.prev_mac, prev);
        }
        let batches = group.batches.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("{} appends in {batches} transactions", records.len());
        assert!(
            batches < APPENDS as u64 / 2,
            "{batches} transactions for {APPENDS} concurrent appends: not combined"
        );
        store.close().await;
    }
}
