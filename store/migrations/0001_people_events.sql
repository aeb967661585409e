-- People, their events, devices, anonymous-id links and suppressed identifiers.
CREATE TABLE people (
    pk          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL UNIQUE,
    email_lower TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX people_email_lower ON people(email_lower) WHERE email_lower IS NOT NULL;

CREATE TABLE events (
    pk           INTEGER PRIMARY KEY,
    event_id     TEXT,
    person_pk    INTEGER REFERENCES people(pk) ON DELETE CASCADE,
    anonymous_id TEXT,
    type         TEXT NOT NULL CHECK (type IN ('event', 'page', 'screen')),
    name         TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '{}',
    timestamp    REAL NOT NULL,
    received_at  REAL NOT NULL,
    CHECK (person_pk IS NOT NULL OR anonymous_id IS NOT NULL)
);
CREATE UNIQUE INDEX events_event_id ON events(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX events_person_name_time ON events(person_pk, name, timestamp) WHERE person_pk IS NOT NULL;
CREATE INDEX events_anonymous_time ON events(anonymous_id, timestamp) WHERE person_pk IS NULL;

CREATE TABLE anonymous_links (
    anonymous_id TEXT PRIMARY KEY,
    person_pk    INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    linked_at    REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX anonymous_links_person ON anonymous_links(person_pk);

CREATE TABLE devices (
    device_id  TEXT PRIMARY KEY,
    person_pk  INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    platform   TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
    attributes TEXT NOT NULL DEFAULT '{}',
    last_used  REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX devices_person ON devices(person_pk);

CREATE TABLE suppressions (
    user_id       TEXT PRIMARY KEY,
    suppressed_at REAL NOT NULL
) WITHOUT ROWID;
