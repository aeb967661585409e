"""`customerio-mcp worker` and `customerio-mcp status`: their arguments, and the status
table (a command-line front end: its stdout is the terminal, not an MCP stream)."""

from __future__ import annotations

import argparse
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from server.config import add_delivery_options
from store.agent_ids import AGENT_ID_PATTERN
from store.control import ControlDB
from store.registry_repo import CONTROL_DB_NAME
from tools.api import CustomerIO
from tools.status import AgentStatus, read_status

log = logging.getLogger(__name__)


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
                 data_dir_help: str) -> None:
    """Add the `worker` and `status` commands."""
    worker = commands.add_parser(
        "worker", parents=[common], help="run every agent's timed work until stopped",
        description="Run the scheduler for every agent of the data directory (segment "
        "time windows, queued and retried messages; journeys as they arrive), with no MCP, "
        "until SIGTERM or Ctrl-C. Run one wherever timed work must happen while no MCP "
        "client is connected.")
    worker.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)
    worker.add_argument("--synchronous", default="NORMAL", type=str.upper,
                        choices=["NORMAL", "FULL"], help="SQLite synchronous setting")
    add_delivery_options(worker)
    status = commands.add_parser(
        "status", parents=[common], help="show every agent: data, scheduled work, claims",
        description="For every agent of the data directory: people, events, segments, "
        "templates, database size, the next scheduled work, the last run of due work and "
        "which process holds a claim on it now.")
    status.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)


def agent_statuses(data_dir: Path) -> list[AgentStatus]:
    """The status of every agent database in `data_dir`, read only."""
    found = []
    for path in sorted(Path(data_dir).glob("*.sqlite3")):
        agent_id = path.name.removesuffix(".sqlite3")
        if not AGENT_ID_PATTERN.fullmatch(agent_id):
            continue  # the control database, or a file that is not an agent's
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("BEGIN")
            found.append(read_status(conn, agent_id, path, CustomerIO.timed_work))
        except sqlite3.Error as exc:
            log.warning("agent %s: cannot read %s (%s)", agent_id, path, exc)
        finally:
            conn.close()
    return found


def _when(text: str | None) -> str:
    if text is None:
        return "-"
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def print_status(data_dir: Path) -> int:
    """Print one line per agent (stdout is the terminal here, not an MCP stream)."""
    statuses = agent_statuses(data_dir)
    control = ControlDB(Path(data_dir) / CONTROL_DB_NAME)
    try:
        wakeups = control.wakeups()
    finally:
        control.close()
    print(f"{'AGENT':<20} {'PEOPLE':>8} {'EVENTS':>9} {'SEGS':>5} {'TMPLS':>5} {'MB':>7}  "
          f"{'NEXT DUE':<21} {'WAKE-UP':<21} {'LAST RUN (LATE)':<28} CLAIM")
    for s in statuses:
        woken = wakeups.get(s.agent_id)
        wake = datetime.fromtimestamp(woken, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if woken else "-"
        last = "-" if s.last_run is None else (
            f"{_when(s.last_run.finished_at)} ({s.last_run.lateness_seconds:.1f}s)")
        claim = "-" if s.claim is None else f"{s.claim.held_by} until {_when(s.claim.expires)}"
        print(f"{s.agent_id:<20} {s.people:>8} {s.events:>9} {s.segments:>5} "
              f"{s.templates:>5} {s.database_bytes / 1e6:>7.2f}  {_when(s.next_due):<21} "
              f"{wake:<21} {last:<28} {claim}")
    if not statuses:
        print(f"no agents in {data_dir}")
    return 0
