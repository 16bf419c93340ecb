-- Block time ranges straight from the index, so scans read no summaries
-- from disk (they are cached in memory).
DROP INDEX event_blocks_org_max_ts;
CREATE INDEX event_blocks_org_range ON event_blocks (org_id, max_ts, id, min_ts);
