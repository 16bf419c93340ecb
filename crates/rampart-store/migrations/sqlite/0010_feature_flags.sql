-- Feature flags: the platform's (scope '') and each organisation's own
-- (scope = its id), the definition as JSON. Every change bumps the one
-- revision, which nodes poll to refresh their cached flags.
CREATE TABLE feature_flags (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    org_id     TEXT REFERENCES organisations (id) ON DELETE CASCADE,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE flag_revision (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO flag_revision (id, revision) VALUES (1, 0);
