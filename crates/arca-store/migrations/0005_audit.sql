-- Arca SQLite schema, version 5: the audit chain. One row per record, `seq` from 1 without gaps (appended only by
-- the writer thread, which reads the head inside its transaction); `mac` = HMAC(K_audit, "arca/v1/audit" ‖ u64 seq
-- ‖ prev_mac ‖ u32 key_version ‖ event) over the stored `event` bytes.

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL,
    key_version INTEGER NOT NULL,
    prev_mac    BLOB NOT NULL,
    mac         BLOB NOT NULL,
    event       BLOB NOT NULL
);
