-- One-time challenges (e-mailed sign-in codes, pending two-factor logins,
-- password resets) by the digest of their secret, and users'
-- authenticators (TOTP) with their single-use recovery codes.
CREATE TABLE auth_challenges (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('email_code', 'mfa', 'password_reset')),
    secret_hash  TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX auth_challenges_user_idx ON auth_challenges (org_id, user_id, kind, created_at);
CREATE INDEX auth_challenges_secret_idx ON auth_challenges (secret_hash);
CREATE INDEX auth_challenges_expiry_idx ON auth_challenges (expires_at);
CREATE TABLE user_totp (
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    secret       TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    last_step    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE user_recovery_codes (
    org_id    TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (org_id, user_id, code_hash)
);
