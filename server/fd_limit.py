"""How many connections the HTTP server may hold open, from the process's open-file limit.

Every connection is a file descriptor. So are the agent databases (the file, its -wal and
-shm, and a temporary file SQLite may open), the control database, the listening socket and
the event loop's own. A connection that finds no descriptor left fails, and so does the next
database open: the cap on connections leaves room for those.
"""

from __future__ import annotations

import logging

from store.manager import DEFAULT_MAX_OPEN

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
FDS_PER_DATABASE = 4
RESERVED_FDS = 64  # stdio, listening socket, event loop, control database, checkpointer, logs
DEFAULT_CEILING = 10_000  # the default cap never exceeds this, however high the limit
UNKNOWN_FD_LIMIT = 1024  # assumed where the limit cannot be read
NO_LIMIT = 1 << 20  # "unlimited" means this: Linux refuses more than nr_open (1M by default)


class TooManyConnections(ValueError):
    """--max-connections asks for more than the open-file limit allows."""


def open_file_limit() -> int:
    """The soft RLIMIT_NOFILE in force."""
    if resource is None:  # pragma: no cover
        return UNKNOWN_FD_LIMIT
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return NO_LIMIT if soft == resource.RLIM_INFINITY else int(soft)


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit where allowed; the soft limit after."""
    if resource is None:  # pragma: no cover
        return UNKNOWN_FD_LIMIT
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else NO_LIMIT
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # e.g. macOS caps the soft limit at OPEN_MAX
            log.info("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
    return open_file_limit()


def connection_budget(fd_limit: int, max_open_databases: int) -> int:
    """The most connections that leave room for the databases and the process itself."""
    return fd_limit - FDS_PER_DATABASE * max_open_databases - RESERVED_FDS


def max_connections(requested: int | None, fd_limit: int, max_open_databases: int) -> int:
    """The connection cap: `requested`, checked against the budget, or the default
    min(budget, DEFAULT_CEILING). Raises TooManyConnections with a one-line reason."""
    budget = connection_budget(fd_limit, max_open_databases)
    if budget < 1:
        raise TooManyConnections(
            f"the open-file limit ({fd_limit}) leaves no room for connections next to "
            f"{max_open_databases} databases; raise it (ulimit -n)")
    if requested is None:
        return min(budget, DEFAULT_CEILING)
    if requested < 1:
        raise TooManyConnections(f"--max-connections must be at least 1 (got {requested})")
    if requested > budget:
        raise TooManyConnections(
            f"--max-connections {requested} exceeds what the open-file limit allows: "
            f"{fd_limit} files - {FDS_PER_DATABASE} x {max_open_databases} databases - "
            f"{RESERVED_FDS} reserved = {budget} connections; lower it or raise the hard "
            "limit (ulimit -Hn)")
    return requested


def check_max_connections(requested: int | None,
                          max_open_databases: int = DEFAULT_MAX_OPEN) -> int:
    """At start: raise the open-file limit, then the connection cap it allows (see
    max_connections)."""
    return max_connections(requested, raise_open_file_limit(), max_open_databases)
