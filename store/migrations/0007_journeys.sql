-- Journeys: workflows (each edit of an active one is a new version; people on their way
-- finish on the version they started), runs (one per trigger call or triggering change),
-- each person's journey (its position is a row: state JSON plus indexed columns the
-- scheduler and the subscribers look up), and what each journey did.
CREATE TABLE workflows (
    pk          INTEGER PRIMARY KEY,
    workflow_id TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    version     INTEGER NOT NULL,  -- the version new journeys start on
    trigger_type TEXT NOT NULL,
    trigger_key TEXT,              -- the event name, segment id or attribute it listens to
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX workflows_trigger ON workflows (trigger_type, trigger_key) WHERE status = 'active';
CREATE TABLE workflow_versions (
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,  -- the canonical definition (JSON)
    created_at  REAL NOT NULL,
    PRIMARY KEY (workflow_pk, version)
) WITHOUT ROWID;
CREATE TABLE workflow_runs (
    pk          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL UNIQUE,
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    cause       TEXT NOT NULL,  -- api, event, segment_entered, segment_exited, attribute_changed, date
    data        TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL CHECK (status IN ('running', 'cancelled')),
    total       INTEGER NOT NULL DEFAULT 0,
    created_at  REAL NOT NULL
);
CREATE TABLE journeys (
    pk          INTEGER PRIMARY KEY,
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    run_pk      INTEGER NOT NULL REFERENCES workflow_runs(pk) ON DELETE CASCADE,
    person_pk   INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    status      TEXT NOT NULL,  -- active, waiting, completed, exited, cancelled, failed
    state       TEXT NOT NULL,  -- the JourneyState (JSON)
    step_id     TEXT,           -- the step it is at (counts per step)
    wait_event  TEXT,           -- waiting for this event of the person
    due         REAL,           -- wakes then
    data        TEXT NOT NULL DEFAULT '{}',  -- render data: trigger.*, event.*
    depth       INTEGER NOT NULL DEFAULT 0,  -- journeys started by journeys' events
    entered_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    ended_at    REAL
);
CREATE INDEX journeys_due ON journeys (due) WHERE due IS NOT NULL;
CREATE INDEX journeys_person ON journeys (person_pk, workflow_pk);
CREATE INDEX journeys_run ON journeys (run_pk, pk);
CREATE INDEX journeys_open ON journeys (workflow_pk, step_id) WHERE ended_at IS NULL;
CREATE TABLE journey_log (
    journey_pk INTEGER NOT NULL REFERENCES journeys(pk) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         REAL NOT NULL,
    step_id    TEXT NOT NULL,
    step_type  TEXT NOT NULL,
    what       TEXT NOT NULL,
    detail     TEXT,
    PRIMARY KEY (journey_pk, seq)
) WITHOUT ROWID;
-- What the current version of each workflow that is not archived uses: deleting a template,
-- segment or topic in use is refused.
CREATE TABLE workflow_refs (
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('template', 'segment', 'topic')),
    ref_id      TEXT NOT NULL,
    PRIMARY KEY (kind, ref_id, workflow_pk)
) WITHOUT ROWID;
-- Date-triggered workflows: the moment each person's journey starts (their attribute's time
-- plus the offset), kept while the workflow is active.
CREATE TABLE journey_dates (
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    person_pk   INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    due         REAL NOT NULL,
    PRIMARY KEY (workflow_pk, person_pk)
) WITHOUT ROWID;
CREATE INDEX journey_dates_due ON journey_dates (due);
CREATE INDEX journey_dates_person ON journey_dates (person_pk);
