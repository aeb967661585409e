"""Delivery hears the people area's change events: a merge moves the secondary's
messages and preferences to the primary (a person's deletion deletes theirs with them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from store import delivery_repo as repo
from tools.changes import Change, PeopleMerged
from tools.writes import WriteContext


def on_changes(conn: sqlite3.Connection, changes: Sequence[Change],
               context: WriteContext) -> None:
    for change in changes:
        if type(change) is PeopleMerged:
            repo.move_messages(conn, change.secondary_pk, change.primary_pk)
            repo.move_preferences(conn, change.secondary_pk, change.primary_pk, context.now)
