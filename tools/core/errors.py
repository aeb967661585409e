"""The engine's exceptions. Every message says what is wrong and what to do next."""

from __future__ import annotations


class EngineError(Exception):
    """Root of every anticipated failure; the MCP layer turns it into a tool error."""

    kind = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with every attribute (errors cross into and out of render processes)."""
        return _rebuild, (type(self), self.message, dict(self.__dict__))


def _rebuild(kind: type[EngineError], message: str, attributes: dict[str, object]) -> EngineError:
    error = Exception.__new__(kind)
    Exception.__init__(error, message)
    error.__dict__.update(attributes)
    return error


class NotFound(EngineError):
    """The thing named does not exist."""

    kind = "not_found"


class InvalidInput(EngineError):
    """The arguments are malformed; nothing was stored."""

    kind = "invalid_input"


class Conflict(EngineError):
    """The request contradicts stored state (a taken id, an object in use)."""

    kind = "conflict"


class LimitExceeded(EngineError):
    """A size or count limit was exceeded."""

    kind = "limit_exceeded"


class StorageError(EngineError):
    """The storage under an agent failed (not the caller's arguments); nothing was stored.
    `path` is the file or directory at fault."""

    kind = "storage_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class StorageBusy(StorageError):
    """Another process held the database locked for longer than the busy timeout."""

    kind = "storage_busy"


class StorageFull(StorageError):
    """The disk (or the file system's quota) holding the database is full."""

    kind = "storage_full"


class StorageUnwritable(StorageError):
    """The data directory or a database file cannot be created, opened or written."""

    kind = "storage_unwritable"


class StorageCorrupt(StorageError):
    """A file where a database should be is not one, or is damaged."""

    kind = "storage_corrupt"
