-- Day partitions are now split by hour, and an hour gets its
-- (org_id, src_ip, ts) b-tree once it is sealed (ten minutes past its end)
-- rather than while it is written: random inserts into that b-tree cost
-- PostgreSQL more than everything else an ingested row costs. The hours
-- being written have a b-tree on src_ip alone (made with each hour
-- partition), whose small keys cost far less to maintain.
--
-- The index therefore no longer lives on the parent (where every new
-- partition would inherit it). Existing day partitions that hold events get
-- their own copy here, named as the seal job names it (<partition>_src_ip),
-- and keep taking their days' events; empty ones (days made ahead) are
-- dropped, to be made again split by hour.
DROP INDEX IF EXISTS events_org_src_ip_ts;
DO $$
DECLARE
    leaf regclass;
    has_rows boolean;
BEGIN
    FOR leaf IN
        SELECT relid FROM pg_partition_tree('events') WHERE isleaf
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', leaf) INTO has_rows;
        IF has_rows THEN
            EXECUTE format('CREATE INDEX %I ON %s (org_id, src_ip, ts)',
                           (SELECT relname FROM pg_class WHERE oid = leaf) || '_src_ip', leaf);
        ELSE
            EXECUTE format('DROP TABLE %s', leaf);
        END IF;
    END LOOP;
END $$;
