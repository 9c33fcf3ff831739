-- Arca SQLite schema, version 1: secrets with their payloads and user metadata, project KEKs, system keys and
-- API token digests. Timestamps are INTEGER nanoseconds since the Unix epoch (UTC) so that comparisons and
-- sorting are exact; ids are hyphenated lowercase UUID strings.

CREATE TABLE secrets (
    id           TEXT PRIMARY KEY NOT NULL,
    project_id   TEXT NOT NULL,
    creator_id   TEXT NOT NULL,
    name         TEXT,
    algorithm    TEXT,
    bit_length   INTEGER,
    mode         TEXT,
    secret_type  TEXT NOT NULL,
    expiration   INTEGER,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    content_type TEXT
) STRICT;

CREATE INDEX secrets_project_created    ON secrets (project_id, created);
CREATE INDEX secrets_project_updated    ON secrets (project_id, updated);
CREATE INDEX secrets_project_expiration ON secrets (project_id, expiration);
CREATE INDEX secrets_project_name       ON secrets (project_id, name);

CREATE TABLE secret_payloads (
    secret_id    TEXT PRIMARY KEY NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    ciphertext   BLOB NOT NULL,
    content_type TEXT NOT NULL
) STRICT;

CREATE TABLE secret_metadata (
    secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (secret_id, key)
) STRICT;

CREATE TABLE project_keks (
    project_id   TEXT NOT NULL,
    pkek_version INTEGER NOT NULL,
    rk_version   INTEGER NOT NULL,
    wrap_alg     INTEGER NOT NULL,
    wrapped      BLOB NOT NULL,
    mac          BLOB NOT NULL,
    PRIMARY KEY (project_id, pkek_version)
) STRICT;

CREATE TABLE system_keys (
    name       TEXT PRIMARY KEY NOT NULL,
    rk_version INTEGER NOT NULL,
    wrap_alg   INTEGER NOT NULL,
    wrapped    BLOB NOT NULL,
    mac        BLOB NOT NULL
) STRICT;

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    digest     BLOB NOT NULL,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    roles      TEXT NOT NULL,
    created    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
) STRICT;
