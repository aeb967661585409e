-- Segments: dynamic (rules) or manual (explicit members); current membership with the
-- per-person wake-ups of time-relative rules, the history of every entry and exit, and a
-- version the process-wide rule cache checks (uuid tells databases apart).
CREATE TABLE segments (
    pk          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
    segment_id  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('dynamic', 'manual')),
    rules       TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    CHECK ((kind = 'dynamic') = (rules IS NOT NULL))
);

-- One row per person and segment where the person is a member (since) or has a wake-up
-- (due): keyed by person first, so real-time membership reads a person in one descent.
CREATE TABLE segment_people (
    person_pk  INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    segment_pk INTEGER NOT NULL REFERENCES segments(pk) ON DELETE CASCADE,
    since      REAL,
    due        REAL,
    PRIMARY KEY (person_pk, segment_pk),
    CHECK (since IS NOT NULL OR due IS NOT NULL)
) WITHOUT ROWID;
CREATE INDEX segment_people_members ON segment_people(segment_pk, person_pk, since);
CREATE INDEX segment_people_due ON segment_people(due) WHERE due IS NOT NULL;

-- Every entry and exit, kept with the person (seq counts the person's changes), so a
-- change writes one page of it and a person's history is one range. Deleting a segment
-- deletes its rows explicitly (there is no index by segment: one page less per change).
CREATE TABLE segment_history (
    person_pk  INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    segment_pk INTEGER NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('entered', 'exited')),
    at         REAL NOT NULL,
    cause      TEXT NOT NULL,
    PRIMARY KEY (person_pk, seq)
) WITHOUT ROWID;

CREATE TABLE segment_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    uuid    TEXT NOT NULL,
    version INTEGER NOT NULL
);
INSERT INTO segment_state VALUES (1, lower(hex(randomblob(16))), 0);

-- Segment conditions count a person's events of one type and name, newest first: carrying
-- the type in the index spares a table lookup per event (same prefix, same plans).
DROP INDEX events_person_name_time;
CREATE INDEX events_person_name_time ON events(person_pk, name, timestamp, type)
    WHERE person_pk IS NOT NULL;
