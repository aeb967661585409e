-- Snapshot of a freshly migrated agent database. Regenerate with:
--   python -m store.snapshot > store/schema.sql
CREATE TABLE anonymous_links (
    anonymous_id TEXT PRIMARY KEY,
    person_pk    INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    linked_at    REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE channel_settings (
    channel    TEXT NOT NULL,
    provider   TEXT NOT NULL,
    settings   TEXT NOT NULL,  -- JSON, secrets included: never returned by a tool
    updated_at REAL NOT NULL,
    PRIMARY KEY (channel, provider)
) WITHOUT ROWID;
CREATE TABLE delivery_settings (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    secret           BLOB NOT NULL,  -- signs unsubscribe links and inbox tokens
    frequency_cap    INTEGER,        -- marketing messages per person per period; NULL: none
    frequency_period REAL            -- seconds
);
CREATE TABLE devices (
    device_id  TEXT PRIMARY KEY,
    person_pk  INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    platform   TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
    attributes TEXT NOT NULL DEFAULT '{}',
    last_used  REAL NOT NULL
) WITHOUT ROWID;
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
CREATE TABLE journey_dates (
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    person_pk   INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    due         REAL NOT NULL,
    PRIMARY KEY (workflow_pk, person_pk)
) WITHOUT ROWID;
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
CREATE TABLE layouts (
    pk         INTEGER PRIMARY KEY,
    layout_id  TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE message_captures (
    message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
    attempt    INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    PRIMARY KEY (message_pk, channel, attempt)
) WITHOUT ROWID;
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
CREATE TABLE people (
    pk          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL UNIQUE,
    email_lower TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TABLE preferences (
    person_pk  INTEGER PRIMARY KEY REFERENCES people(pk) ON DELETE CASCADE,
    channels   TEXT NOT NULL DEFAULT '{}',  -- {"sms": false}: opted out of a channel
    topics     TEXT NOT NULL DEFAULT '{}',  -- {"newsletter": true}: a choice per topic
    updated_at REAL NOT NULL
);
CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE segment_computations (
    segment_pk INTEGER PRIMARY KEY REFERENCES segments(pk) ON DELETE CASCADE,
    after_pk   INTEGER NOT NULL,
    started_at REAL NOT NULL,
    cause      TEXT NOT NULL,
    entered    INTEGER NOT NULL DEFAULT 0,
    exited     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE segment_history (
    person_pk  INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    segment_pk INTEGER NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('entered', 'exited')),
    at         REAL NOT NULL,
    cause      TEXT NOT NULL,
    PRIMARY KEY (person_pk, seq)
) WITHOUT ROWID;
CREATE TABLE segment_people (
    person_pk  INTEGER NOT NULL REFERENCES people(pk) ON DELETE CASCADE,
    segment_pk INTEGER NOT NULL REFERENCES segments(pk) ON DELETE CASCADE,
    since      REAL,
    due        REAL,
    PRIMARY KEY (person_pk, segment_pk),
    CHECK (since IS NOT NULL OR due IS NOT NULL)
) WITHOUT ROWID;
CREATE TABLE segment_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    uuid    TEXT NOT NULL,
    version INTEGER NOT NULL
);
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
CREATE TABLE snippet_uses (
    user_kind  TEXT NOT NULL CHECK (user_kind IN ('template', 'layout', 'snippet')),
    user_id    TEXT NOT NULL,
    snippet_id TEXT NOT NULL REFERENCES snippets(snippet_id),
    PRIMARY KEY (user_kind, user_id, snippet_id)
) WITHOUT ROWID;
CREATE TABLE snippets (
    pk         INTEGER PRIMARY KEY,
    snippet_id TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE suppressions (
    user_id       TEXT PRIMARY KEY,
    suppressed_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE templates (
    pk          INTEGER PRIMARY KEY,
    template_id TEXT NOT NULL UNIQUE,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'in_app', 'webhook')),
    fields      TEXT NOT NULL,
    layout_id   TEXT REFERENCES layouts(layout_id),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    CHECK (layout_id IS NULL OR channel = 'email')
);
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
CREATE TABLE topics (
    topic_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    default_choice TEXT NOT NULL CHECK (default_choice IN ('opt_in', 'opt_out')),
    created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE workflow_refs (
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('template', 'segment', 'topic')),
    ref_id      TEXT NOT NULL,
    PRIMARY KEY (kind, ref_id, workflow_pk)
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
CREATE TABLE workflow_versions (
    workflow_pk INTEGER NOT NULL REFERENCES workflows(pk) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,  -- the canonical definition (JSON)
    created_at  REAL NOT NULL,
    PRIMARY KEY (workflow_pk, version)
) WITHOUT ROWID;
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
CREATE INDEX anonymous_links_person ON anonymous_links(person_pk);
CREATE INDEX devices_person ON devices(person_pk);
CREATE INDEX events_anonymous_time ON events(anonymous_id, timestamp) WHERE person_pk IS NULL;
CREATE UNIQUE INDEX events_event_id ON events(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX events_person_name_time ON events(person_pk, name, timestamp, type)
    WHERE person_pk IS NOT NULL;
CREATE INDEX journey_dates_due ON journey_dates (due);
CREATE INDEX journey_dates_person ON journey_dates (person_pk);
CREATE INDEX journeys_due ON journeys (due) WHERE due IS NOT NULL;
CREATE INDEX journeys_open ON journeys (workflow_pk, step_id) WHERE ended_at IS NULL;
CREATE INDEX journeys_person ON journeys (person_pk, workflow_pk);
CREATE INDEX journeys_run ON journeys (run_pk, pk);
CREATE INDEX messages_due ON messages (due) WHERE due IS NOT NULL;
CREATE INDEX messages_lease ON messages (lease_expires) WHERE lease_expires IS NOT NULL;
CREATE INDEX messages_person ON messages (person_pk, pk);
CREATE INDEX messages_status ON messages (status, pk);
CREATE INDEX people_email_lower ON people(email_lower) WHERE email_lower IS NOT NULL;
CREATE INDEX segment_people_due ON segment_people(due) WHERE due IS NOT NULL;
CREATE INDEX segment_people_members ON segment_people(segment_pk, person_pk, since);
CREATE INDEX snippet_uses_snippet ON snippet_uses(snippet_id);
CREATE INDEX templates_channel ON templates(channel, template_id);
CREATE INDEX templates_layout ON templates(layout_id) WHERE layout_id IS NOT NULL;
CREATE INDEX workflows_trigger ON workflows (trigger_type, trigger_key) WHERE status = 'active';
