"""The engine's exceptions. Every message says what is wrong and what to do next."""

from __future__ import annotations


class EngineError(Exception):
    """Root of every anticipated failure; the MCP layer turns it into a tool error."""

    kind = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
