-- Arca SQLite schema, version 4: per-project secret counts kept by triggers, so a list's `total` needs no scan of
-- the project's secrets. `expiring` counts the secrets that have an expiration; the list adds back those of them
-- still unexpired through the (project_id, expiration) index.

CREATE TABLE project_secret_counts (
    project_id TEXT PRIMARY KEY NOT NULL,
    total      INTEGER NOT NULL,
    expiring   INTEGER NOT NULL
) STRICT;

INSERT INTO project_secret_counts (project_id, total, expiring)
    SELECT project_id, COUNT(*), COUNT(expiration) FROM secrets GROUP BY project_id;

CREATE TRIGGER secrets_counted_on_insert AFTER INSERT ON secrets
BEGIN
    INSERT OR IGNORE INTO project_secret_counts (project_id, total, expiring) VALUES (NEW.project_id, 0, 0);
    UPDATE project_secret_counts
       SET total = total + 1, expiring = expiring + (NEW.expiration IS NOT NULL)
     WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER secrets_counted_on_delete AFTER DELETE ON secrets
BEGIN
    UPDATE project_secret_counts
       SET total = total - 1, expiring = expiring - (OLD.expiration IS NOT NULL)
     WHERE project_id = OLD.project_id;
END;

CREATE TRIGGER secrets_counted_on_update AFTER UPDATE OF project_id, expiration ON secrets
BEGIN
    UPDATE project_secret_counts
       SET total = total - 1, expiring = expiring - (OLD.expiration IS NOT NULL)
     WHERE project_id = OLD.project_id;
    INSERT OR IGNORE INTO project_secret_counts (project_id, total, expiring) VALUES (NEW.project_id, 0, 0);
    UPDATE project_secret_counts
       SET total = total + 1, expiring = expiring + (NEW.expiration IS NOT NULL)
     WHERE project_id = NEW.project_id;
END;
