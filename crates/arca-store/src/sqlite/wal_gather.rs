//! The writer connection's VFS, `arca-wal-gather`: SQLite's default (unix) VFS, except that the writes to the WAL
//! and to the database file are gathered in memory while they continue one another and reach the file in one
//! `pwrite` when SQLite next syncs, reads, truncates, sizes, controls or closes it. SQLite writes each WAL frame as
//! two writes (its 24-byte header, then the page), so a batch of ~22 frames was ~44 `pwrite` calls; gathered it is
//! one, which measured ~60 µs less CPU per commit on this kind of machine (bench/README.md). A checkpoint writes
//! the database a page at a time, in page order, in runs of ~9 contiguous pages under stores. Every other file
//! (temporary files; the `-shm`, which is mapped, not written) is the default VFS's own object, untouched.
//!
//! Why this is safe: a commit publishes its frames to readers (the WAL-index header) only after it has synced
//! the WAL (`synchronous=FULL`, which the writer always sets, see `writer::open`), and a sync writes everything
//! gathered first; SQLite's own reads of the WAL (recovery, checkpoints) write it first too. In WAL mode only a
//! checkpoint writes the database file, and only pages that every open snapshot reads from the WAL; it syncs the
//! file before it records them as copied (`synchronous=FULL` again), and from then on readers may read them
//! from the file. A crash loses only what was never synced, which SQLite never counted as committed or copied. A
//! failed gathered write is reported by the call that wrote it out (the sync, at the latest), which fails the
//! commit or the checkpoint.
//!
//! This is the crate's only unsafe code: the VFS is a table of C callbacks that SQLite calls with raw pointers.
//! The invariants each relies on are stated where they are used.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The VFS's registered name.
const NAME: &CStr = c"arca-wal-gather";

/// The most the default VFS writes in one call (its `seekAndWriteFd` keeps only the low 17 bits of a length):
/// a write that would gather more sends out what is gathered first. A batch of up to ~31 frames of 4 KiB fits.
const LARGEST_WRITE: usize = 0x1ffff;

/// A WAL or database file as this VFS opens it: SQLite's file object (whose first field must be the methods
/// pointer), the default VFS's file object for the same file, and the writes gathered for it. It lives at the start
/// of the `szOsFile` bytes SQLite allocates for the file; the default VFS's object lives `INNER_AT` bytes in.
#[repr(C)]
struct GatheringFile {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// Bytes written since the last write-out, to go to the file at `start`.
    pending: Vec<u8>,
    start: i64,
}

/// Where the default VFS's file object starts within a wrapped file's allocation (aligned for any C object).
const INNER_AT: usize = std::mem::size_of::<GatheringFile>().next_multiple_of(16);

/// Registers the VFS (once per process; not as the default); returns its name for `open_with_flags_and_vfs`.
pub(super) fn register() -> Result<&'static CStr, String> {
    static REGISTERED: OnceLock<Result<(), c_int>> = OnceLock::new();
    // SAFETY: runs once; see `register_once`.
    match REGISTERED.get_or_init(|| unsafe { register_once() }) {
        Ok(()) => Ok(NAME),
        Err(code) => Err(format!(
            "SQLite store: registering the {} VFS failed (code {code})",
            NAME.to_string_lossy()
        )),
    }
}

/// # Safety
/// Calls SQLite's VFS registry, which is thread-safe; the registered struct is leaked, so it outlives every
/// connection that uses it.
unsafe fn register_once() -> Result<(), c_int> {
    // SAFETY: a null name asks for the default VFS (initialising SQLite if needed); SQLite keeps it for the life of
    // the process.
    let default = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
    if default.is_null() {
        return Err(ffi::SQLITE_ERROR);
    }
    // SAFETY: `default` points to a live, registered VFS; copying it copies plain data and function pointers.
    let mut vfs = unsafe { std::ptr::read(default) };
    let extra = c_int::try_from(INNER_AT).map_err(|_| ffi::SQLITE_ERROR)?;
    vfs.szOsFile = vfs.szOsFile.checked_add(extra).ok_or(ffi::SQLITE_ERROR)?;
    vfs.pNext = std::ptr::null_mut();
    vfs.zName = NAME.as_ptr();
    vfs.pAppData = default.cast();
    vfs.xOpen = Some(open);
    // The other entries stay the default VFS's: they read nothing of the VFS object but `mxPathname`, copied
    // above. Only its `xOpen` reads `pAppData`, and `open` calls it with the default VFS object.
    let vfs = Box::leak(Box::new(vfs));
    // SAFETY: `vfs` is a complete, leaked VFS object; `0` leaves the default VFS as it is.
    let rc = unsafe { ffi::sqlite3_vfs_register(vfs, 0) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

/// `xOpen`: a WAL or main database file is opened by the default VFS `INNER_AT` bytes into SQLite's allocation
/// and wrapped; any other file is the default VFS's object at the start of the allocation, as if this VFS were not
/// there.
unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite passes this VFS (whose `pAppData` is the default VFS, set at registration) and an
    // allocation of this VFS's `szOsFile` bytes, which holds `INNER_AT` bytes more than the default VFS needs.
    unsafe {
        let default = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
        let Some(default_open) = (*default).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        if flags & (ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_MAIN_DB) == 0 {
            return default_open(default, name, file, flags, out_flags);
        }
        let inner = file.cast::<u8>().add(INNER_AT).cast::<ffi::sqlite3_file>();
        let rc = default_open(default, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // No methods: SQLite will not call `xClose` on a file that failed to open.
            (*file).pMethods = std::ptr::null();
            return rc;
        }
        file.cast::<GatheringFile>().write(GatheringFile {
            base: ffi::sqlite3_file { pMethods: &METHODS },
            inner,
            pending: Vec::new(),
            start: 0,
        });
        ffi::SQLITE_OK
    }
}

/// The methods of a gathering file. The `xShm*` ones serve the database file's WAL index (they are never called
/// on a WAL file) and go straight to the default VFS.
static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// The gathering file behind SQLite's file pointer.
///
/// # Safety
/// `file` must be a file `open` wrapped (SQLite calls `METHODS` only on those), not yet closed, and not in use by
/// another call (SQLite serialises the calls on one file object).
unsafe fn gathering<'a>(file: *mut ffi::sqlite3_file) -> &'a mut GatheringFile {
    // SAFETY: as stated above.
    unsafe { &mut *file.cast::<GatheringFile>() }
}

/// The default VFS's methods for the wrapped file.
///
/// # Safety
/// `file.inner` must be the open file `open` made.
unsafe fn inner_methods(file: &GatheringFile) -> &'static ffi::sqlite3_io_methods {
    // SAFETY: the default VFS set the methods of the file it opened; they are static in SQLite.
    unsafe { &*(*file.inner).pMethods }
}

/// Writes out what is gathered, in one write.
///
/// # Safety
/// As `inner_methods`.
unsafe fn write_out(file: &mut GatheringFile) -> c_int {
    if file.pending.is_empty() {
        return ffi::SQLITE_OK;
    }
    // SAFETY: the caller's guarantee.
    let methods = unsafe { inner_methods(file) };
    let rc = match (methods.xWrite, c_int::try_from(file.pending.len())) {
        // SAFETY: `pending` holds `len` initialised bytes for the duration of the call.
        (Some(write), Ok(len)) => unsafe {
            write(file.inner, file.pending.as_ptr().cast(), len, file.start)
        },
        _ => ffi::SQLITE_IOERR_WRITE,
    };
    file.pending.clear();
    rc
}

/// Defines a method that writes out what is gathered and then hands the call to the default VFS's method.
macro_rules! after_writing_out {
    ($name:ident, $slot:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls this only on a file `open` wrapped (see `gathering`).
            unsafe {
                let file = gathering(file);
                let rc = write_out(file);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                match inner_methods(file).$slot {
                    Some(method) => method(file.inner $(, $arg)*),
                    None => ffi::SQLITE_IOERR,
                }
            }
        }
    };
}

/// Defines a method that hands the call straight to the default VFS's method (`$none` when it has none).
macro_rules! passed_on {
    ($name:ident, $slot:ident, ($($arg:ident: $ty:ty),*), $none:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls this only on a file `open` wrapped (see `gathering`).
            unsafe {
                let file = gathering(file);
                match inner_methods(file).$slot {
                    Some(method) => method(file.inner $(, $arg)*),
                    None => $none,
                }
            }
        }
    };
}

after_writing_out!(read, xRead, (buffer: *mut c_void, amount: c_int, offset: i64));
after_writing_out!(truncate, xTruncate, (size: i64));
after_writing_out!(sync, xSync, (flags: c_int));
after_writing_out!(file_size, xFileSize, (size: *mut i64));
after_writing_out!(file_control, xFileControl, (op: c_int, arg: *mut c_void));
after_writing_out!(fetch, xFetch, (offset: i64, amount: c_int, out: *mut *mut c_void));
passed_on!(lock, xLock, (level: c_int), ffi::SQLITE_IOERR_LOCK);
passed_on!(unlock, xUnlock, (level: c_int), ffi::SQLITE_IOERR_UNLOCK);
passed_on!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int), ffi::SQLITE_IOERR_CHECKRESERVEDLOCK);
passed_on!(sector_size, xSectorSize, (), 4096);
passed_on!(device_characteristics, xDeviceCharacteristics, (), 0);
passed_on!(shm_map, xShmMap, (page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), ffi::SQLITE_IOERR_SHMMAP);
passed_on!(shm_lock, xShmLock, (offset: c_int, n: c_int, flags: c_int), ffi::SQLITE_IOERR_SHMLOCK);
passed_on!(shm_unmap, xShmUnmap, (delete: c_int), ffi::SQLITE_OK);
passed_on!(unfetch, xUnfetch, (offset: i64, page: *mut c_void), ffi::SQLITE_OK);

/// `xShmBarrier` (no result).
unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls this only on a file `open` wrapped (see `gathering`).
    unsafe {
        let file = gathering(file);
        if let Some(barrier) = inner_methods(file).xShmBarrier {
            barrier(file.inner);
        }
    }
}

/// `xWrite`: taken into the gathered bytes when it continues them and they stay within `LARGEST_WRITE`, else after
/// writing those out. (SQLite never writes more than a page, at most 64 KiB, in one call.)
unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buffer: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: SQLite calls this only on a file `open` wrapped, with `amount` readable bytes at `buffer`.
    unsafe {
        let file = gathering(file);
        let end = i64::try_from(file.pending.len())
            .ok()
            .and_then(|len| file.start.checked_add(len));
        if !file.pending.is_empty()
            && (end != Some(offset) || file.pending.len() + len > LARGEST_WRITE)
        {
            let rc = write_out(file);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        if file.pending.is_empty() {
            file.start = offset;
        }
        file.pending
            .extend_from_slice(std::slice::from_raw_parts(buffer.cast::<u8>(), len));
    }
    ffi::SQLITE_OK
}

/// `xClose`: writes out what is gathered, closes the default VFS's file, and drops the gathering state.
unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls this once, last, on a file `open` wrapped; nothing uses the object afterwards, so its
    // `Vec` is dropped here exactly once.
    unsafe {
        let gathering_file = gathering(file);
        let written = write_out(gathering_file);
        let closed = match inner_methods(gathering_file).xClose {
            Some(close) => close(gathering_file.inner),
            None => ffi::SQLITE_OK,
        };
        std::ptr::drop_in_place(file.cast::<GatheringFile>());
        if written != ffi::SQLITE_OK {
            written
        } else {
            closed
        }
    }
}

#[cfg(test)]
mod tests {
    //! The VFS on real files: a writer connection on it, readers on the default VFS.

    use rusqlite::{Connection, OpenFlags};

    fn writer(path: &std::path::Path) -> Connection {
        let conn = Connection::open_with_flags_and_vfs(
            path,
            OpenFlags::default(),
            super::register().expect("registered"),
        )
        .expect("opened");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             CREATE TABLE t (n INTEGER PRIMARY KEY, v BLOB NOT NULL);",
        )
        .expect("set up");
        conn
    }

    /// Commits through the gathering VFS are read by another connection (default VFS) as soon as they return,
    /// across WAL restarts and checkpoints, and a transaction that spills pages before its commit is written whole.
    #[test]
    fn commits_are_read_by_other_connections_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let mut writer = writer(&path);
        let reader = Connection::open(&path).expect("reader");
        let count = |conn: &Connection| -> (i64, i64) {
            conn.query_row("SELECT COUNT(*), SUM(length(v)) FROM t", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .expect("counted")
        };
        let mut n = 0;
        for round in 0..40 {
            let tx = writer.transaction().expect("begin");
            // Round 7 writes ~4 MiB: SQLite spills pages to the WAL before the commit, and then writes some of
            // those frames again in place (the rows it shrinks), out of order.
            let rows = if round == 7 { 1000 } else { 13 };
            let first = n + 1;
            for _ in 0..rows {
                n += 1;
                tx.execute("INSERT INTO t (n, v) VALUES (?, randomblob(4000))", [n])
                    .expect("insert");
            }
            if round == 7 {
                tx.execute(
                    "UPDATE t SET v = zeroblob(10) WHERE n >= ? AND n % 3 = 0",
                    [first],
                )
                .expect("update");
            }
            tx.commit().expect("commit");
            let committed = count(&writer);
            assert_eq!(committed.0, n);
            assert_eq!(count(&reader), committed, "round {round}");
            if round % 10 == 9 {
                writer
                    .query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                    .expect("checkpoint");
            }
        }
        let committed = count(&writer);
        drop(writer);
        let check: String = reader
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("checked");
        assert_eq!(check, "ok");
        assert_eq!(count(&reader), committed);
    }

    /// A commit of 13 rows (~15 frames, ~30 writes by SQLite, ~62 KiB) reaches the WAL in one write.
    #[test]
    fn a_commit_reaches_the_wal_in_one_write() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut writer = writer(&dir.path().join("t.db"));
        writer
            .execute("INSERT INTO t (n, v) VALUES (0, x'00')", [])
            .expect("first commit");
        let before = write_calls();
        let tx = writer.transaction().expect("begin");
        for n in 1..=13 {
            tx.execute("INSERT INTO t (n, v) VALUES (?, randomblob(3000))", [n])
                .expect("insert");
        }
        tx.commit().expect("commit");
        let writes = write_calls() - before;
        assert!(writes <= 2, "{writes} write calls for one commit");
    }

    /// Write system calls this thread has made (the kernel's count; SQLite calls the VFS on the calling thread).
    fn write_calls() -> u64 {
        let io = std::fs::read_to_string("/proc/thread-self/io").expect("thread I/O counters");
        io.lines()
            .find_map(|line| line.strip_prefix("syscw: "))
            .and_then(|n| n.parse().ok())
            .expect("syscw")
    }

    /// A checkpoint copies runs of contiguous pages into the database file in one write each.
    #[test]
    fn a_checkpoint_writes_runs_of_pages_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let writer = writer(&dir.path().join("t.db"));
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0;")
            .expect("no automatic checkpoints");
        writer
            .execute(
                "WITH RECURSIVE s (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200) \
                 INSERT INTO t (n, v) SELECT n, randomblob(3000) FROM s",
                [],
            )
            .expect("insert");
        let before = write_calls();
        let (busy, wal_pages, copied): (i64, i64, i64) = writer
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .expect("checkpoint");
        assert_eq!(busy, 0);
        assert!(
            copied >= 200 && copied == wal_pages,
            "{copied} of {wal_pages} pages copied"
        );
        let writes = write_calls() - before;
        assert!(
            writes * 20 < u64::try_from(copied).expect("positive"),
            "{writes} write calls for {copied} pages"
        );
        let reader = Connection::open(dir.path().join("t.db")).expect("reader");
        let rows: i64 = reader
            .query_row("SELECT COUNT(*) FROM t WHERE length(v) = 3000", [], |row| {
                row.get(0)
            })
            .expect("counted");
        assert_eq!(rows, 200);
    }

    /// A WAL written through the VFS and left behind by a process that never checkpointed (the connection is
    /// leaked, as a killed process would leave it) is recovered whole by the next one.
    #[test]
    fn a_wal_left_without_a_checkpoint_is_recovered() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let writer = writer(&path);
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0;")
            .expect("no checkpoints");
        for n in 1..=50 {
            writer
                .execute("INSERT INTO t (n, v) VALUES (?, randomblob(3000))", [n])
                .expect("insert");
        }
        let wal = std::fs::metadata(dir.path().join("t.db-wal"))
            .expect("WAL")
            .len();
        assert!(wal > 50 * 3000, "the rows are in the WAL ({wal} bytes)");
        // Copy the database and its WAL as they are on disk while the writer is still open.
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).expect("copy");
        std::fs::copy(dir.path().join("t.db-wal"), dir.path().join("copy.db-wal"))
            .expect("copy WAL");
        std::mem::forget(writer);
        let recovered = Connection::open(&copy).expect("recovered");
        let rows: i64 = recovered
            .query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .expect("counted");
        assert_eq!(rows, 50);
    }
}
