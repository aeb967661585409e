-- Delivery: the outbox (one row per message, written in the transaction that decided to
-- send it), each message's transitions, the bytes the capture provider kept, the agent's
-- own channel providers, topics and each person's preferences.
CREATE TABLE messages (
    pk              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    idempotency_key TEXT UNIQUE,  -- the caller's key (or a journey step's); NULL: none
    person_pk       INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    channel         TEXT NOT NULL,  -- the channel now (fallback may change it)
    template_id     TEXT,           -- the template now; NULL: inline content
    content         TEXT,           -- inline fields (JSON) when there is no template
    data            TEXT NOT NULL DEFAULT '{}',  -- render data (event, trigger, ...)
    plan            TEXT NOT NULL DEFAULT '[]',  -- fallback still to try: [{channel, template_id}]
    topic           TEXT,
    transactional   INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    reason          TEXT,           -- why it failed, was dropped or is undeliverable
    attempts        INTEGER NOT NULL DEFAULT 0,  -- attempts on the current channel
    due             REAL,           -- queued: the next attempt may start then
    lease_owner     TEXT,           -- sending: the process doing the I/O
    lease_expires   REAL,           -- sending: another process may take it over then
    rendered        TEXT,           -- the fields as last rendered (JSON)
    provider        TEXT,
    provider_message_id TEXT,
    send_at         REAL NOT NULL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    read_at         REAL            -- in_app: when marked read
);
CREATE INDEX messages_due ON messages (due) WHERE due IS NOT NULL;
CREATE INDEX messages_lease ON messages (lease_expires) WHERE lease_expires IS NOT NULL;
CREATE INDEX messages_person ON messages (person_pk, pk);
CREATE INDEX messages_status ON messages (status, pk);
CREATE TABLE message_transitions (
    message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         REAL NOT NULL,
    status     TEXT NOT NULL,
    channel    TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    detail     TEXT,
    PRIMARY KEY (message_pk, seq)
) WITHOUT ROWID;
CREATE TABLE message_captures (
    message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
    attempt    INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    PRIMARY KEY (message_pk, channel, attempt)
) WITHOUT ROWID;
CREATE TABLE channel_settings (
    channel    TEXT NOT NULL,
    provider   TEXT NOT NULL,
    settings   TEXT NOT NULL,  -- JSON, secrets included: never returned by a tool
    updated_at REAL NOT NULL,
    PRIMARY KEY (channel, provider)
) WITHOUT ROWID;
CREATE TABLE topics (
    topic_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    default_choice TEXT NOT NULL CHECK (default_choice IN ('opt_in', 'opt_out')),
    created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE preferences (
    person_pk  INTEGER PRIMARY KEY REFERENCES people(pk) ON DELETE CASCADE,
    channels   TEXT NOT NULL DEFAULT '{}',  -- {"sms": false}: opted out of a channel
    topics     TEXT NOT NULL DEFAULT '{}',  -- {"newsletter": true}: a choice per topic
    updated_at REAL NOT NULL
);
CREATE TABLE delivery_settings (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    secret           BLOB NOT NULL,  -- signs unsubscribe links and inbox tokens
    frequency_cap    INTEGER,        -- marketing messages per person per period; NULL: none
    frequency_period REAL            -- seconds
);
INSERT INTO delivery_settings (id, secret) VALUES (1, randomblob(32));
