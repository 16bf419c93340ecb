-- Per-block pre-aggregates (events per minute, top values of each stats
-- field), zstd-compressed JSON, so stats over a time range add them up
-- instead of decoding every block. A table of their own: a column after
-- the block's data would be read through the data's overflow pages.
-- Blocks written before have none: those are read, as all blocks were.
CREATE TABLE event_block_rollups (
    block_id INTEGER PRIMARY KEY NOT NULL,
    rollup   BLOB NOT NULL
);
