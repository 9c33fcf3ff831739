-- Arca PostgreSQL schema, version 3 (as SQLite's 0008): secret stores come from the configuration
-- ([secret_stores.<name>]) and every payload remembers the store that holds it. For stores that seal in the
-- database `secret_payloads.ciphertext` is the sealed payload; for external stores (KMIP, Vault) the sealed
-- locator.

ALTER TABLE secret_stores ADD COLUMN config_name TEXT NOT NULL DEFAULT 'software';
ALTER TABLE secret_stores ADD COLUMN configured BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE secret_payloads ADD COLUMN store_id TEXT NOT NULL DEFAULT '8c0a4d6e-3f1b-5b7a-9e2d-6f4c1a0b9d37';
CREATE INDEX secret_payloads_store ON secret_payloads (store_id, secret_id COLLATE "C");

-- Objects a migration between stores left on the source store: recorded in the transaction that moved the
-- payload, removed once the object is destroyed.
CREATE TABLE secret_store_orphans (
    id             BIGSERIAL PRIMARY KEY,
    store_id       TEXT NOT NULL,
    secret_id      TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    sealed_locator BYTEA NOT NULL,
    created        BIGINT NOT NULL
);
CREATE INDEX secret_store_orphans_store ON secret_store_orphans (store_id, id);
