-- Per-block postings (term → event positions) of low-cardinality fields,
-- so conjunctions of common terms skip blocks where they never meet.
-- NULL for blocks written before: those are pruned by the Bloom summary only.
ALTER TABLE event_blocks ADD COLUMN postings BLOB;
