-- Per-block pre-aggregates (events per minute, top values of each stats
-- field), zstd-compressed JSON, so stats over a time range add them up
-- instead of decoding every block. NULL for blocks written before: those
-- are read, as all blocks were.
ALTER TABLE event_blocks ADD COLUMN rollup BLOB;
