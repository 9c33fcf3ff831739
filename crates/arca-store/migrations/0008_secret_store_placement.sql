-- Arca SQLite schema, version 8: secret stores come from the configuration ([secret_stores.<name>]) and every
-- payload remembers the store that holds it. For stores that seal in the database `secret_payloads.ciphertext`
-- is the sealed payload; for external stores (KMIP, Vault) it is the sealed locator. Existing payloads belong
-- to the software store that was the only one before.

ALTER TABLE secret_stores ADD COLUMN config_name TEXT NOT NULL DEFAULT 'software';
ALTER TABLE secret_stores ADD COLUMN configured INTEGER NOT NULL DEFAULT 1;

ALTER TABLE secret_payloads ADD COLUMN store_id TEXT NOT NULL DEFAULT '8c0a4d6e-3f1b-5b7a-9e2d-6f4c1a0b9d37';
CREATE INDEX secret_payloads_store ON secret_payloads (store_id, secret_id);

-- Objects a migration between stores left on the source store: recorded in the transaction that moved the
-- payload, removed once the object is destroyed.
CREATE TABLE secret_store_orphans (
    id             INTEGER PRIMARY KEY,
    store_id       TEXT NOT NULL,
    secret_id      TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    sealed_locator BLOB NOT NULL,
    created        INTEGER NOT NULL
) STRICT;
CREATE INDEX secret_store_orphans_store ON secret_store_orphans (store_id, id);
