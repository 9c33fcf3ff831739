-- Arca PostgreSQL schema, version 1: the core tables — system keys, project KEKs, API token digests, secrets with
-- their payloads and user metadata, containers with their secret references and consumers, secret consumers,
-- secret stores with each project's preferred store, ACLs, orders, configured project quotas, and the per-project
-- lock rows quota-checked inserts serialise on.
--
-- Conventions (shared with 0002 and every later migration): table and column names are those of the SQLite
-- schema (crates/arca-store/migrations/), so queries read the same on both. Timestamps are BIGINT nanoseconds since
-- the Unix epoch (UTC); ids are TEXT (hyphenated lowercase UUIDs); BLOB is BYTEA; INTEGER versions and counts are
-- BIGINT. Booleans are BOOLEAN (bind Rust `bool`; in SQL write TRUE/FALSE, never 1/0): tokens.revoked,
-- secret_stores.global_default, secret_acls.project_access, container_acls.project_access.
-- Text ordering: queries sort text with COLLATE "C" (and NULLS FIRST ascending / NULLS LAST descending) so pages
-- come in SQLite's order whatever the database's locale.
-- SQLite's trigger-kept project_secret_counts is not here: totals are COUNT(*) over the (project_id, …) indexes.

CREATE TABLE system_keys (
    name       TEXT PRIMARY KEY NOT NULL,
    rk_version BIGINT NOT NULL,
    wrap_alg   BIGINT NOT NULL,
    wrapped    BYTEA NOT NULL,
    mac        BYTEA NOT NULL
);

CREATE INDEX system_keys_rk ON system_keys (rk_version);

-- `created` (nanoseconds) is when the KEK version was added (scheduled rotation).
CREATE TABLE project_keks (
    project_id   TEXT NOT NULL,
    pkek_version BIGINT NOT NULL,
    rk_version   BIGINT NOT NULL,
    wrap_alg     BIGINT NOT NULL,
    wrapped      BYTEA NOT NULL,
    mac          BYTEA NOT NULL,
    created      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, pkek_version)
);

CREATE INDEX project_keks_rk ON project_keks (rk_version);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    digest     BYTEA NOT NULL,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    roles      TEXT NOT NULL,
    created    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE secrets (
    id           TEXT PRIMARY KEY NOT NULL,
    project_id   TEXT NOT NULL,
    creator_id   TEXT NOT NULL,
    name         TEXT,
    algorithm    TEXT,
    bit_length   BIGINT,
    mode         TEXT,
    secret_type  TEXT NOT NULL,
    expiration   BIGINT,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    content_type TEXT
);

CREATE INDEX secrets_project_created    ON secrets (project_id, created);
CREATE INDEX secrets_project_updated    ON secrets (project_id, updated);
CREATE INDEX secrets_project_expiration ON secrets (project_id, expiration);
CREATE INDEX secrets_project_name       ON secrets (project_id, name);
CREATE INDEX secrets_expiration         ON secrets (expiration);

CREATE TABLE secret_payloads (
    secret_id    TEXT PRIMARY KEY NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    ciphertext   BYTEA NOT NULL,
    content_type TEXT NOT NULL
);

CREATE TABLE secret_metadata (
    secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (secret_id, key)
);

CREATE TABLE containers (
    id             TEXT PRIMARY KEY NOT NULL,
    project_id     TEXT NOT NULL,
    creator_id     TEXT NOT NULL,
    name           TEXT,
    container_type TEXT NOT NULL,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);

CREATE INDEX containers_project_created ON containers (project_id, created);

-- A secret may appear in a container more than once under different names; `seq` keeps the order references
-- were added. Deleting a secret removes it from every container.
CREATE TABLE container_secrets (
    container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    secret_id    TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    name         TEXT,
    PRIMARY KEY (container_id, seq),
    CONSTRAINT container_secrets_unique UNIQUE NULLS NOT DISTINCT (container_id, secret_id, name)
);

CREATE INDEX container_secrets_secret ON container_secrets (secret_id);

CREATE TABLE container_consumers (
    container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    url          TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    PRIMARY KEY (container_id, name, url)
);

CREATE INDEX container_consumers_project ON container_consumers (project_id);

CREATE TABLE secret_consumers (
    secret_id     TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    service       TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    created       BIGINT NOT NULL,
    updated       BIGINT NOT NULL,
    PRIMARY KEY (secret_id, service, resource_type, resource_id)
);

CREATE INDEX secret_consumers_created ON secret_consumers (secret_id, created);
CREATE INDEX secret_consumers_project ON secret_consumers (project_id);

CREATE TABLE secret_stores (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    store_plugin   TEXT NOT NULL,
    crypto_plugin  TEXT,
    global_default BOOLEAN NOT NULL,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);

-- The one store this build has: payloads sealed under the key hierarchy and kept in this database, which
-- Barbican calls `store_crypto` with the `simple_crypto` plugin ("Software Only Crypto").
INSERT INTO secret_stores (id, name, store_plugin, crypto_plugin, global_default, created, updated)
VALUES ('8c0a4d6e-3f1b-5b7a-9e2d-6f4c1a0b9d37', 'Software Only Crypto', 'store_crypto', 'simple_crypto', TRUE,
        FLOOR(EXTRACT(EPOCH FROM now()))::BIGINT * 1000000000, FLOOR(EXTRACT(EPOCH FROM now()))::BIGINT * 1000000000);

CREATE TABLE project_secret_stores (
    project_id TEXT PRIMARY KEY NOT NULL,
    store_id   TEXT NOT NULL REFERENCES secret_stores (id),
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL
);

CREATE TABLE secret_acls (
    secret_id      TEXT PRIMARY KEY NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    project_access BOOLEAN NOT NULL,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);

CREATE TABLE secret_acl_users (
    secret_id TEXT NOT NULL REFERENCES secret_acls (secret_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    position  BIGINT NOT NULL,
    PRIMARY KEY (secret_id, user_id)
);

CREATE INDEX secret_acl_users_user ON secret_acl_users (user_id, secret_id);

CREATE TABLE container_acls (
    container_id   TEXT PRIMARY KEY NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    project_access BOOLEAN NOT NULL,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);

CREATE TABLE container_acl_users (
    container_id TEXT NOT NULL REFERENCES container_acls (container_id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (container_id, user_id)
);

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY NOT NULL,
    project_id         TEXT NOT NULL,
    creator_id         TEXT NOT NULL,
    order_type         TEXT NOT NULL,
    status             TEXT NOT NULL,
    meta               TEXT NOT NULL,
    secret_id          TEXT,
    container_id       TEXT,
    error_status_code  BIGINT,
    error_reason       TEXT,
    sub_status         TEXT,
    sub_status_message TEXT,
    created            BIGINT NOT NULL,
    updated            BIGINT NOT NULL
);

CREATE INDEX orders_project_created ON orders (project_id, created);
CREATE INDEX orders_status ON orders (status);

-- NULL: use the configured default; negative: unlimited.
CREATE TABLE project_quotas (
    project_id TEXT PRIMARY KEY NOT NULL,
    secrets    BIGINT,
    orders     BIGINT,
    containers BIGINT,
    consumers  BIGINT,
    cas        BIGINT,
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL
);

-- One row per project that ever made a quota-checked insert: the insert's transaction upserts and locks the row
-- (FOR UPDATE) before counting, so concurrent inserts of one project — from any node — count one at a time.
CREATE TABLE project_locks (
    project_id TEXT PRIMARY KEY NOT NULL
);
