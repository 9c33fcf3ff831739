-- Arca SQLite schema, version 9: a secret's sealed payload (or an external store's sealed locator) moves into
-- the secret's own row. A payload read then descends two B-trees (the `id` index and the table) instead of four,
-- and a stored secret writes eight instead of eleven: `secret_payloads`, its key index and its store index are
-- gone. The three columns are all NULL (no payload yet) or all set. PostgreSQL keeps its own
-- `secret_payloads` table; the view below gives SQLite the same shape to read (for `arca db copy` and for
-- people querying the file), and nothing writes through it.

ALTER TABLE secrets ADD COLUMN payload_store_id TEXT;
ALTER TABLE secrets ADD COLUMN payload_content_type TEXT;
ALTER TABLE secrets ADD COLUMN payload BLOB;

UPDATE secrets
   SET payload_store_id = p.store_id, payload_content_type = p.content_type, payload = p.ciphertext
  FROM secret_payloads p
 WHERE p.secret_id = secrets.id;

DROP TABLE secret_payloads;

CREATE VIEW secret_payloads (secret_id, ciphertext, content_type, store_id) AS
    SELECT id, payload, payload_content_type, payload_store_id FROM secrets WHERE payload IS NOT NULL;
