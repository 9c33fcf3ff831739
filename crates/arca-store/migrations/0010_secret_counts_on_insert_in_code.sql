-- Arca SQLite schema, version 10: a secret's insert counts itself. The trigger that did it ran two statements per
-- insert and made the insert a multi-row statement, which SQLite backs with a statement journal: every page the
-- insert first changed in a batch was copied to it (~6% of the writer's time under stores). The writer's insert
-- (`sqlite::secrets::insert`, the only statement that inserts into `secrets`) now upserts the count itself, in the
-- same transaction. Deletes and the rare updates of `project_id` or `expiration` keep their triggers.

DROP TRIGGER secrets_counted_on_insert;
