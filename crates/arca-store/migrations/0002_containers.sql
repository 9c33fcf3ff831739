-- Arca SQLite schema, version 2: containers with their secret references and consumers, secret consumers,
-- and secret stores with each project's preferred store. Timestamps are INTEGER nanoseconds since the Unix
-- epoch (UTC); ids are hyphenated lowercase UUID strings.

CREATE TABLE containers (
    id             TEXT PRIMARY KEY NOT NULL,
    project_id     TEXT NOT NULL,
    creator_id     TEXT NOT NULL,
    name           TEXT,
    container_type TEXT NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL
) STRICT;

CREATE INDEX containers_project_created ON containers (project_id, created);

-- A secret may appear in a container more than once under different names (Barbican's
-- `_container_secret_name_uc` on (container, secret, name)); `seq` keeps the order references were added.
-- Deleting a secret removes it from every container, as Barbican's secret delete does.
CREATE TABLE container_secrets (
    container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    secret_id    TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    name         TEXT,
    PRIMARY KEY (container_id, seq)
) STRICT;

CREATE UNIQUE INDEX container_secrets_unique ON container_secrets (container_id, secret_id, IFNULL(name, char(0)));
CREATE INDEX container_secrets_secret ON container_secrets (secret_id);

CREATE TABLE container_consumers (
    container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    url          TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    PRIMARY KEY (container_id, name, url)
) STRICT;

CREATE TABLE secret_consumers (
    secret_id     TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    service       TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL,
    PRIMARY KEY (secret_id, service, resource_type, resource_id)
) STRICT;

CREATE INDEX secret_consumers_created ON secret_consumers (secret_id, created);

CREATE TABLE secret_stores (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    store_plugin   TEXT NOT NULL,
    crypto_plugin  TEXT,
    global_default INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL
) STRICT;

-- The one store this build has: payloads sealed under the key hierarchy and kept in this database, which
-- Barbican calls `store_crypto` with the `simple_crypto` plugin ("Software Only Crypto").
INSERT INTO secret_stores (id, name, store_plugin, crypto_plugin, global_default, created, updated)
VALUES ('8c0a4d6e-3f1b-5b7a-9e2d-6f4c1a0b9d37', 'Software Only Crypto', 'store_crypto', 'simple_crypto', 1,
        unixepoch() * 1000000000, unixepoch() * 1000000000);

CREATE TABLE project_secret_stores (
    project_id TEXT PRIMARY KEY NOT NULL,
    store_id   TEXT NOT NULL REFERENCES secret_stores (id),
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
) STRICT;
