//! Consistent snapshots of a live database and the checks a restored one passes. `snapshot` copies the file
//! with SQLite's online backup API while the server (another process) keeps writing: the source connection
//! holds one read transaction for the whole copy, so in WAL mode every page comes from the same commit and the
//! copy never restarts, whatever the writer does meanwhile. The copy is left in rollback-journal mode as a
//! single self-contained file. `snapshot_facts` reads what a backup manifest records (the root key versions
//! the wrapped keys reference, row counts, the schema version) from such a copy, and `integrity_check` runs
//! SQLite's own check on a file before a restore puts it in place. The row payloads stay sealed throughout:
//! nothing here decrypts anything.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use arca_core::StoreError;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::BUSY_TIMEOUT;
use super::codec::sql_err;

/// Pages copied per backup step (between progress reports).
const PAGES_PER_STEP: i32 = 256;

/// The tables a manifest counts, with the name it gives each count.
const COUNTED: &[(&str, &str)] = &[
    ("secrets", "SELECT count(*) FROM secrets"),
    (
        "projects",
        "SELECT count(DISTINCT project_id) FROM project_keks",
    ),
    ("project_keks", "SELECT count(*) FROM project_keks"),
    ("containers", "SELECT count(*) FROM containers"),
    ("orders", "SELECT count(*) FROM orders"),
    ("tokens", "SELECT count(*) FROM tokens"),
    ("kms_keys", "SELECT count(*) FROM kms_keys"),
    ("access_keys", "SELECT count(*) FROM access_keys"),
    ("audit_records", "SELECT count(*) FROM audit_log"),
];

/// What a snapshot holds, as a backup manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFacts {
    /// The newest applied migration.
    pub schema_version: i64,
    /// Every root key version a project KEK or system key row is wrapped under, ascending.
    pub rk_versions: Vec<u32>,
    /// Row counts by name (`secrets`, `projects`, `kms_keys`, …).
    pub counts: BTreeMap<String, u64>,
}

fn open_existing(path: &Path) -> Result<Connection, StoreError> {
    if !path.is_file() {
        return Err(StoreError(format!(
            "there is no database at {}",
            path.display()
        )));
    }
    // Read-write without CREATE: a read-only connection cannot open a WAL database whose -shm is missing.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(sql_err(&format!("opening {}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(sql_err("setting the busy timeout"))?;
    Ok(conn)
}

impl super::SqliteStore {
    /// Copies the database at `source` (possibly in use by a running server) to `dest`, a new file, as of one
    /// commit. `on_pages(copied, total)` is called after every step. Blocking: run it off the async workers.
    pub fn snapshot(
        source: &Path,
        dest: &Path,
        on_pages: &mut dyn FnMut(u64, u64),
    ) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError(format!(
                "{} already exists: refusing to overwrite it",
                dest.display()
            )));
        }
        let src = open_existing(source)?;
        // One read transaction across every step: the snapshot is the commit current at this statement.
        src.execute_batch("BEGIN DEFERRED; SELECT count(*) FROM sqlite_schema;")
            .map_err(sql_err("starting the snapshot's read transaction"))?;
        let mut dst =
            Connection::open(dest).map_err(sql_err(&format!("creating {}", dest.display())))?;
        {
            let backup = Backup::new(&src, &mut dst).map_err(sql_err("starting the backup"))?;
            loop {
                let step = backup
                    .step(PAGES_PER_STEP)
                    .map_err(sql_err("copying database pages"))?;
                let p = backup.progress();
                let total = u64::try_from(p.pagecount).unwrap_or(0);
                let left = u64::try_from(p.remaining).unwrap_or(0);
                on_pages(total.saturating_sub(left), total);
                match step {
                    StepResult::Done => break,
                    StepResult::More => {}
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        src.execute_batch("COMMIT")
            .map_err(sql_err("ending the snapshot's read transaction"))?;
        // A single self-contained file: no -wal beside it.
        let mode: String = dst
            .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))
            .map_err(sql_err("switching the copy to a rollback journal"))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(StoreError(format!(
                "the copy stayed in journal mode {mode}"
            )));
        }
        dst.close()
            .map_err(|(_, e)| StoreError(format!("closing {}: {e}", dest.display())))?;
        Ok(())
    }

    /// Reads the manifest facts of a snapshot made by [`snapshot`](Self::snapshot).
    pub fn snapshot_facts(path: &Path) -> Result<SnapshotFacts, StoreError> {
        let conn = open_existing(path)?;
        let schema_version: i64 = conn
            .query_row(
                "SELECT coalesce(max(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err("reading the schema version"))?;
        let mut stmt = conn
            .prepare(
                "SELECT rk_version FROM project_keks UNION SELECT rk_version FROM system_keys \
                 ORDER BY 1",
            )
            .map_err(sql_err("reading the root key versions"))?;
        let rk_versions = stmt
            .query_map([], |r| r.get::<_, u32>(0))
            .and_then(Iterator::collect::<Result<Vec<u32>, _>>)
            .map_err(sql_err("reading the root key versions"))?;
        let mut counts = BTreeMap::new();
        for (name, sql) in COUNTED {
            let n: i64 = conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(sql_err(&format!("counting {name}")))?;
            counts.insert((*name).to_owned(), u64::try_from(n).unwrap_or(0));
        }
        Ok(SnapshotFacts {
            schema_version,
            rk_versions,
            counts,
        })
    }

    /// Runs `PRAGMA integrity_check` on the database at `path`; the error lists what SQLite found.
    pub fn integrity_check(path: &Path) -> Result<(), StoreError> {
        let conn = open_existing(path)?;
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(sql_err("running integrity_check"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(Iterator::collect::<Result<Vec<String>, _>>)
            .map_err(sql_err("running integrity_check"))?;
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(StoreError(format!(
                "{} fails SQLite's integrity check: {}",
                path.display(),
                rows.join("; ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use arca_core::{Store, WrappedKeyRow};
    use rusqlite::Connection;

    fn system_keys(path: &std::path::Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT count(*) FROM system_keys", [], |r| r.get(0))
            .unwrap()
    }

    /// Writes committed by another connection between the steps of a copy are not in it: the copy is the
    /// database as of one commit, however many steps it takes.
    #[tokio::test]
    async fn snapshot_is_one_commit_while_another_connection_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("arca.db");
        let store = SqliteStore::open(&db).await.unwrap();
        let writer = Connection::open(&db).unwrap();
        writer
            .busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let insert = "INSERT INTO system_keys (name, rk_version, wrap_alg, wrapped, mac) \
                      VALUES (?1, 1, 1, randomblob(2000), zeroblob(32))";
        writer.execute_batch("BEGIN").unwrap();
        for i in 0..2000 {
            writer.execute(insert, [format!("k{i}")]).unwrap();
        }
        writer.execute_batch("COMMIT").unwrap();
        let copy = dir.path().join("copy.db");
        let mut steps = 0u32;
        SqliteStore::snapshot(&db, &copy, &mut |_, _| {
            steps += 1;
            writer.execute(insert, [format!("late{steps}")]).unwrap();
        })
        .unwrap();
        assert!(steps >= 3, "the copy took {steps} steps");
        assert_eq!(system_keys(&copy), 2000, "none of the later writes");
        assert_eq!(system_keys(&db), 2000 + i64::from(steps));
        SqliteStore::integrity_check(&copy).unwrap();
        store.close().await;
    }

    #[tokio::test]
    async fn snapshot_copies_a_live_database_and_reports_its_facts() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("arca.db");
        let store = SqliteStore::open(&db).await.unwrap();
        let row = WrappedKeyRow {
            rk_version: 3,
            wrap_alg: 1,
            wrapped: vec![1; 60],
            mac: vec![2; 32],
        };
        assert!(store.insert_system_key("audit", &row).await.unwrap());
        let copy = dir.path().join("copy.db");
        let mut calls = 0;
        SqliteStore::snapshot(&db, &copy, &mut |done, total| {
            calls += 1;
            assert!(done <= total);
        })
        .unwrap();
        assert!(calls > 0);
        assert!(
            SqliteStore::snapshot(&db, &copy, &mut |_, _| {}).is_err(),
            "never overwrites"
        );
        SqliteStore::integrity_check(&copy).unwrap();
        let facts = SqliteStore::snapshot_facts(&copy).unwrap();
        assert_eq!(facts.rk_versions, vec![3]);
        assert_eq!(facts.counts["secrets"], 0);
        assert!(facts.schema_version >= 6);
        assert!(!dir.path().join("copy.db-wal").exists());
        store.close().await;
        std::fs::write(&copy, b"not a database at all, just some bytes").unwrap();
        assert!(SqliteStore::integrity_check(&copy).is_err());
    }
}
