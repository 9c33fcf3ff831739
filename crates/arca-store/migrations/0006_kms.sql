-- Arca SQLite schema, version 6: the AWS-KMS-compatible API. KMS keys (spec, usage, state, rotation schedule),
-- their versions (sealed material; a ciphertext names the version that sealed it), aliases (unique per project
-- by name), tags (unique per key by tag key) and the access keys SigV4 authenticates with (secret sealed).
-- Lists page by key (`id > marker`, `name > marker`), so every list statement is one index range.

CREATE TABLE kms_keys (
    id                   TEXT PRIMARY KEY NOT NULL,
    project_id           TEXT NOT NULL,
    description          TEXT NOT NULL,
    key_spec             TEXT NOT NULL,
    key_usage            TEXT NOT NULL,
    state                TEXT NOT NULL,
    created              INTEGER NOT NULL,
    deletion_date        INTEGER,
    current_version      INTEGER NOT NULL,
    rotation_period_days INTEGER,
    next_rotation        INTEGER
) STRICT;

CREATE INDEX kms_keys_project ON kms_keys (project_id, id);
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE INDEX kms_keys_rotation ON kms_keys (next_rotation) WHERE next_rotation IS NOT NULL;

CREATE TABLE kms_key_versions (
    key_id        TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    material      BLOB NOT NULL,
    created       INTEGER NOT NULL,
    rotation_kind TEXT NOT NULL,
    PRIMARY KEY (key_id, version)
) STRICT;

CREATE TABLE kms_aliases (
    project_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    key_id     TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
) STRICT;

CREATE INDEX kms_aliases_key ON kms_aliases (key_id, name);

CREATE TABLE kms_tags (
    key_id    TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    tag_key   TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
) STRICT;

CREATE TABLE access_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    roles      TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created    INTEGER NOT NULL,
    revoked    INTEGER NOT NULL
) STRICT;
