"""WAL checkpoints off the event loop.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, and with
synchronous=NORMAL a checkpoint fsyncs the WAL and the database file: 5-15 ms here. A small
unit commits inline on the event loop, so that stall would hold up every agent served by
the process. Instead each agent database asks for a PASSIVE checkpoint every
CHECKPOINT_EVERY writes (or CHECKPOINT_ROWS changed rows), and one process-wide thread
runs them, each on a short-lived connection of its own (a PASSIVE checkpoint never blocks
the writer or readers).

The connection's own automatic checkpoint stays on at HARD_LIMIT_PAGES, far above what the
background keeps up with: under writes that never pause, a PASSIVE checkpoint cannot catch
up with frames appended while it runs, and only a checkpoint by the writer itself lets the
WAL start over. So the WAL stays bounded, and the writer's checkpoint has little left to
copy by then.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 128  # writes between background checkpoint requests ...
CHECKPOINT_ROWS = 2_000  # ... or rows changed: a large batch asks at once
HARD_LIMIT_PAGES = 10_000  # PRAGMA wal_autocheckpoint of agent connections (~40 MB)


class Checkpointer:
    """One daemon thread checkpointing the databases it is asked to, each at most once
    at a time; requests for a database already waiting are merged."""

    def __init__(self) -> None:
        self._waiting: dict[Path, None] = {}  # insertion-ordered set
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.completed = 0  # checkpoints run (for tests and diagnostics)

    def request(self, path: Path) -> None:
        """Checkpoint `path` soon. Cheap and non-blocking: safe on the event loop."""
        with self._wake:
            self._waiting[path] = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wal-checkpoint",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def discard(self, path: Path) -> None:
        """Forget a waiting request for `path` (its database is being closed, and closing
        checkpoints it anyway)."""
        with self._wake:
            self._waiting.pop(path, None)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._waiting:
                    self._wake.wait()
                path = next(iter(self._waiting))
                del self._waiting[path]
            checkpoint(path)
            self.completed += 1


def checkpoint(path: Path) -> None:
    """One PASSIVE checkpoint of the WAL of `path`; failures are logged, never raised (the
    writer's own automatic checkpoint is the fallback)."""
    try:
        # mode=rw: a database deleted meanwhile is not created again
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=0,
                               isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        log.debug("background checkpoint of %s skipped: %s", path, exc)


CHECKPOINTER = Checkpointer()
