-- The control database (_control.sqlite3 in the data directory): process-wide state that
-- is not any one agent's. Agents registered for remote access, with hashed bearer tokens.
CREATE TABLE agents (
    agent_id     TEXT PRIMARY KEY,
    key_id       TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    rotated_at   REAL,
    last_used_at REAL,
    revoked_at   REAL
) WITHOUT ROWID;
