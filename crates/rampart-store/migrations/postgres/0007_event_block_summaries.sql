-- Per-block summaries beside the event rows: for each block of up to 4,096
-- events (ids block << 20 | index), its time range, Bloom summary and
-- postings. Searches on well-known terms consult them first and read only
-- the blocks that can match. Rows written before this table existed have
-- no summary: their ids are below `event_summary_coverage.first_block`.
CREATE TABLE event_block_summaries (
    block_id  BIGINT PRIMARY KEY,
    org_id    UUID   NOT NULL,
    min_ts    BIGINT NOT NULL,
    max_ts    BIGINT NOT NULL,
    summary   BYTEA  NOT NULL,
    postings  BYTEA  NOT NULL  -- zstd-compressed by Rampart
) WITH (toast_tuple_target = 8160);
-- Both blobs arrive compressed or incompressible: no second compression,
-- and rows of a few KB stay in the table's own pages.
ALTER TABLE event_block_summaries ALTER COLUMN summary SET STORAGE EXTERNAL;
ALTER TABLE event_block_summaries ALTER COLUMN postings SET STORAGE EXTERNAL;
CREATE INDEX event_block_summaries_org_range
    ON event_block_summaries (org_id, max_ts, block_id, min_ts);

CREATE TABLE event_summary_coverage (first_block BIGINT NOT NULL);
INSERT INTO event_summary_coverage
    SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM event_block_seq;
