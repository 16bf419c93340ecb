-- When the user who made an API key was deleted (the key stops working;
-- created_by is set to NULL by the foreign key, so this keeps the fact).
ALTER TABLE api_keys ADD COLUMN creator_deleted_at BIGINT;
