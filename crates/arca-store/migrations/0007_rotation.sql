-- Arca SQLite schema, version 7: key rotation. Root rotation finds KEK rows by root key version; project KEK
-- rows record when they were created (scheduled rotation; rows made before this version count from now); a
-- project whose KEK was rotated stays in `pkek_rewraps` until every object it owns is sealed under that version.

CREATE INDEX project_keks_rk ON project_keks (rk_version);

ALTER TABLE project_keks ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
UPDATE project_keks SET created = unixepoch() * 1000000000;

CREATE TABLE pkek_rewraps (
    project_id   TEXT PRIMARY KEY NOT NULL,
    pkek_version INTEGER NOT NULL,
    since        INTEGER NOT NULL
) STRICT;

CREATE INDEX pkek_rewraps_since ON pkek_rewraps (since);
