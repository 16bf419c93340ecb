-- The overview counts incidents by status and severity, and open ones by
-- age, on every refresh: this index answers both without reading the
-- incident rows (which carry up to 1,000 event ids each).
CREATE INDEX incidents_status_idx ON incidents (org_id, status, severity, created_at);
