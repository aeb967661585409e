"""HTTP answers for storage faults that escape a request before it is answered.

Tool calls turn storage faults into tool errors themselves; what reaches this middleware is
a bearer-token check that could not read the agent registry (a locked, full, unreadable or
damaged control database). That is the server's trouble, not the client's: 503 with a JSON
body naming the kind, instead of a bare 500.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tools.core.errors import StorageBusy, StorageError

RETRY_AFTER_BUSY_S = 1


class StorageFaultMiddleware:
    """Answer 503 `{"error": kind, "message": ...}` when a StorageError escapes before the
    response started (`Retry-After` for storage_busy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except StorageError as exc:
            if started:
                raise
            headers = {"Retry-After": str(RETRY_AFTER_BUSY_S)} if isinstance(
                exc, StorageBusy) else None
            response = JSONResponse({"error": exc.kind, "message": exc.message},
                                    status_code=503, headers=headers)
            await response(scope, receive, send)
