-- Arca PostgreSQL schema, version 2: the audit chain, the AWS-KMS-compatible API and key rotation — the tables of
-- SQLite migrations 0005 to 0007 under the same names. Timestamps are BIGINT nanoseconds since the Unix epoch (UTC),
-- ids TEXT; ids and names that lists page by (`id > marker`, `name > marker`) are COLLATE "C" so PostgreSQL orders
-- them bytewise, as SQLite and Rust do, whatever the database's locale.

-- The audit chain: one row per record, `seq` from 1 without gaps; `mac` = HMAC(K_audit, "arca/v1/audit" ‖ u64 seq
-- ‖ prev_mac ‖ u32 key_version ‖ event) over the stored `event` bytes. Several nodes append: each append locks the
-- one `audit_head` row (`SELECT … FOR UPDATE`), inserts the records after it and moves it, in the transaction of
-- the action, so two appends never share a head and a rolled-back append leaves no gap.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY NOT NULL,
    key_version BIGINT NOT NULL,
    prev_mac    BYTEA NOT NULL,
    mac         BYTEA NOT NULL,
    event       BYTEA NOT NULL
);

CREATE TABLE audit_head (
    id  SMALLINT PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    mac BYTEA NOT NULL
);

-- The genesis head: no record yet, the predecessor MAC of record 1 is 32 zero bytes (`GENESIS_MAC`).
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, decode(repeat('00', 32), 'hex')) ON CONFLICT (id) DO NOTHING;

-- KMS keys (spec, usage, state, rotation schedule), their versions (sealed material; a ciphertext names the version
-- that sealed it), aliases (unique per project by name), tags (unique per key by tag key). Versions, aliases and
-- tags go with their key (ON DELETE CASCADE).
CREATE TABLE kms_keys (
    id                   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    project_id           TEXT COLLATE "C" NOT NULL,
    description          TEXT NOT NULL,
    key_spec             TEXT NOT NULL,
    key_usage            TEXT NOT NULL,
    state                TEXT NOT NULL,
    created              BIGINT NOT NULL,
    deletion_date        BIGINT,
    current_version      BIGINT NOT NULL,
    rotation_period_days BIGINT,
    next_rotation        BIGINT
);

CREATE INDEX kms_keys_project ON kms_keys (project_id, id);
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE INDEX kms_keys_rotation ON kms_keys (next_rotation) WHERE next_rotation IS NOT NULL;

CREATE TABLE kms_key_versions (
    key_id        TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    material      BYTEA NOT NULL,
    created       BIGINT NOT NULL,
    rotation_kind TEXT NOT NULL,
    PRIMARY KEY (key_id, version)
);

CREATE TABLE kms_aliases (
    project_id TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    key_id     TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE INDEX kms_aliases_key ON kms_aliases (key_id, name);

CREATE TABLE kms_tags (
    key_id    TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    tag_key   TEXT COLLATE "C" NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
);

-- The access keys SigV4 authenticates with (secret sealed; roles comma-joined, as for tokens).
CREATE TABLE access_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    roles      TEXT NOT NULL,
    secret     BYTEA NOT NULL,
    created    BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL
);

-- Key rotation. Root rotation finds KEK rows by root key version; project KEK rows record when they were created
-- (scheduled rotation; the column is added here unless the core schema already has it, and defaults to the
-- database's clock); a project whose KEK was rotated stays in `pkek_rewraps` until every object it owns is sealed
-- under that version.
CREATE INDEX IF NOT EXISTS project_keks_rk ON project_keks (rk_version);

ALTER TABLE project_keks ADD COLUMN IF NOT EXISTS created BIGINT NOT NULL
    DEFAULT (floor(extract(epoch FROM now()) * 1000000000))::BIGINT;
ALTER TABLE project_keks ALTER COLUMN created SET DEFAULT (floor(extract(epoch FROM now()) * 1000000000))::BIGINT;

CREATE TABLE pkek_rewraps (
    project_id   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    pkek_version BIGINT NOT NULL,
    since        BIGINT NOT NULL
);

CREATE INDEX pkek_rewraps_since ON pkek_rewraps (since);
