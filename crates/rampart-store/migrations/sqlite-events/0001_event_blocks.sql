-- Events of the embedded store, in their own database file: compressed
-- blocks of up to 4096 events with their time range and a Bloom summary.
CREATE TABLE event_blocks (
    id      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: event ids derive from it
    org_id  TEXT    NOT NULL,
    min_ts  INTEGER NOT NULL,                  -- epoch ms, oldest @timestamp in the block
    max_ts  INTEGER NOT NULL,                  -- epoch ms, newest @timestamp in the block
    count   INTEGER NOT NULL,
    summary BLOB    NOT NULL,                  -- Bloom filter of (field, value) terms
    data    BLOB    NOT NULL                   -- zstd of the encoded events
);
CREATE INDEX event_blocks_org_max_ts ON event_blocks (org_id, max_ts, id);
