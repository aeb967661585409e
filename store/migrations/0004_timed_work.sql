-- Timed work: the claim a process takes on this agent's due work (so any number of
-- processes sharing the data directory run each piece once), and what the last run did.
-- The due work itself lives in each area's own table (segment_people.due, ...).
CREATE TABLE timed_work (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    owner            TEXT,  -- the process running the due work now; NULL: nobody
    claimed_at       REAL,
    expires          REAL,  -- the claim lapses then (its owner died): another may take it
    last_owner       TEXT,
    last_started_at  REAL,
    last_finished_at REAL,
    last_ran         INTEGER,  -- pieces of work the last run did
    last_lateness    REAL      -- how late (seconds) its most overdue piece ran
);
INSERT INTO timed_work (id) VALUES (1);
