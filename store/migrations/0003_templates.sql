-- Message templates (one per channel message), reusable snippets and email layouts.
-- Sources are Liquid text; a template's fields are a JSON object of field -> source
-- (push data and webhook headers: field -> {key: source}).
CREATE TABLE layouts (
    pk         INTEGER PRIMARY KEY,
    layout_id  TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

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
CREATE INDEX templates_layout ON templates(layout_id) WHERE layout_id IS NOT NULL;
CREATE INDEX templates_channel ON templates(channel, template_id);

CREATE TABLE snippets (
    pk         INTEGER PRIMARY KEY,
    snippet_id TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

-- The snippets each template, layout or snippet renders directly ({% render 'id' %}).
-- A used snippet cannot be deleted (the foreign key refuses it too).
CREATE TABLE snippet_uses (
    user_kind  TEXT NOT NULL CHECK (user_kind IN ('template', 'layout', 'snippet')),
    user_id    TEXT NOT NULL,
    snippet_id TEXT NOT NULL REFERENCES snippets(snippet_id),
    PRIMARY KEY (user_kind, user_id, snippet_id)
) WITHOUT ROWID;
CREATE INDEX snippet_uses_snippet ON snippet_uses(snippet_id);
