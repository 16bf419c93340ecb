-- Each organisation's own Sigma field mapping (JSON: Sigma field name ->
-- event paths tried in order, before the built-in defaults).
CREATE TABLE detection_field_mappings (
    org_id      TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    mapping     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
