-- Each agent's next wake-up (the soonest due time of its scheduled work, e.g. a segment
-- wake-up), so the process-wide scheduler opens only agents with work due.
CREATE TABLE agent_wakeups (
    agent_id TEXT PRIMARY KEY,
    next_due REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX agent_wakeups_due ON agent_wakeups(next_due);
