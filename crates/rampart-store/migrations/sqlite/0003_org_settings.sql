-- Per-organisation settings that override the server's defaults.
CREATE TABLE org_settings (
    org_id          TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    retention_days  BIGINT  -- NULL: the server's ingest.retention_days
);
