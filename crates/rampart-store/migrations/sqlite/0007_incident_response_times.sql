-- When each incident was first acknowledged (left `open`) and last closed,
-- for the mean times to acknowledge and to resolve. Incidents moved before
-- this migration keep NULL: their times are not known, so they are not
-- counted.
ALTER TABLE incidents ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE incidents ADD COLUMN resolved_at BIGINT;
CREATE INDEX incidents_acknowledged_idx ON incidents (org_id, acknowledged_at);
CREATE INDEX incidents_resolved_idx ON incidents (org_id, resolved_at);
