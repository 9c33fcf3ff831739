-- Arca SQLite schema, version 3: per-secret and per-container ACLs (Barbican's `read` operation: its users and its
-- `project-access` flag), orders (key and asymmetric generation requests with their outcome) and configured
-- project quotas (NULL: use the configured default; negative: unlimited).

CREATE TABLE secret_acls (
    secret_id      TEXT PRIMARY KEY NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    project_access INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL
) STRICT;

CREATE TABLE secret_acl_users (
    secret_id TEXT NOT NULL REFERENCES secret_acls (secret_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (secret_id, user_id)
) STRICT;

CREATE INDEX secret_acl_users_user ON secret_acl_users (user_id, secret_id);

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY NOT NULL,
    project_id         TEXT NOT NULL,
    creator_id         TEXT NOT NULL,
    order_type         TEXT NOT NULL,
    status             TEXT NOT NULL,
    meta               TEXT NOT NULL,
    secret_id          TEXT,
    container_id       TEXT,
    error_status_code  INTEGER,
    error_reason       TEXT,
    sub_status         TEXT,
    sub_status_message TEXT,
    created            INTEGER NOT NULL,
    updated            INTEGER NOT NULL
) STRICT;

CREATE INDEX orders_project_created ON orders (project_id, created);

CREATE TABLE project_quotas (
    project_id TEXT PRIMARY KEY NOT NULL,
    secrets    INTEGER,
    orders     INTEGER,
    containers INTEGER,
    consumers  INTEGER,
    cas        INTEGER,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
) STRICT;

CREATE TABLE container_acls (
    container_id   TEXT PRIMARY KEY NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    project_access INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL
) STRICT;

CREATE TABLE container_acl_users (
    container_id TEXT NOT NULL REFERENCES container_acls (container_id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (container_id, user_id)
) STRICT;
