-- Organisations that require a second factor of every user who signs in.
ALTER TABLE org_settings ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
