-- Events: one row per event, range-partitioned by day on ts (epoch ms).
-- Partitions are created ahead by the store and dropped by retention.
CREATE SEQUENCE event_block_seq;

CREATE TABLE events (
    id        BIGINT   NOT NULL, -- (block << 20) | index, see EventId
    org_id    UUID     NOT NULL,
    ts        BIGINT   NOT NULL,
    received  BIGINT   NOT NULL,
    source    TEXT     NOT NULL,
    severity  SMALLINT,
    category  TEXT,
    action    TEXT,
    outcome   TEXT,
    src_ip    INET,
    src_port  INTEGER,
    dst_ip    INET,
    dst_port  INTEGER,
    host      TEXT,
    user_name TEXT,
    process   TEXT,
    url       TEXT,
    message   TEXT,
    tags      TEXT     NOT NULL, -- JSON array
    fields    TEXT     NOT NULL, -- JSON object, as received
    warnings  TEXT     NOT NULL  -- JSON array of failed warn-mode rules
) PARTITION BY RANGE (ts);

CREATE INDEX events_ts_brin ON events USING brin (ts);
CREATE INDEX events_org_ts ON events (org_id, ts);
CREATE INDEX events_org_src_ip_ts ON events (org_id, src_ip, ts);
CREATE INDEX events_id ON events (id);
