-- Lists filtered by priority band (often with nothing in it) read the
-- band's rows only.
CREATE INDEX findings_by_band ON findings (org_id, band, priority DESC, id DESC);
