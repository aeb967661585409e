-- A dynamic segment whose membership is still being computed over everyone (after it was
-- created, its rules changed, or a segment it reads changed): computed in bounded
-- transactions, person pk order, so other writers get the lock in between. People up to
-- after_pk are done; entered / exited count the changes made so far.
CREATE TABLE segment_computations (
    segment_pk INTEGER PRIMARY KEY REFERENCES segments(pk) ON DELETE CASCADE,
    after_pk   INTEGER NOT NULL,
    started_at REAL NOT NULL,
    cause      TEXT NOT NULL,
    entered    INTEGER NOT NULL DEFAULT 0,
    exited     INTEGER NOT NULL DEFAULT 0
);
