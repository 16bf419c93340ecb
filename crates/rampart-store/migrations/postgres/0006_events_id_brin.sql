-- Event ids grow with insertion (block numbers come from a sequence), so a
-- BRIN index finds an id's few page ranges at a fraction of a b-tree's
-- cost per inserted row; lookups by id are rare, inserts are the hot path.
DROP INDEX events_id;
CREATE INDEX events_id_brin ON events USING brin (id) WITH (pages_per_range = 16, autosummarize = on);
