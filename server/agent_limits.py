"""Per-agent caps on open streamable-HTTP sessions and SSE streams, and the rate limit on
opening them: what every agent shares (memory, the SDK's session table) stays shared.

The SDK admits a session for any authenticated request to /mcp that carries no
`Mcp-Session-Id` on a handshake-era protocol, up to one cap for all agents together. The
middleware here runs after the SDK's authentication (it reads the agent from the ASGI
scope's `user`) and before that admission: it refuses an agent at its own cap, reserves a
slot for the opening request, and turns the reservation into the session id the response
carries. A session ends (DELETE, idle timeout, failure) inside the SDK; the ids an agent
holds are checked against the SDK's live sessions before it is refused, so every ended
session frees its slot. An SSE stream lives exactly as long as its GET /sse request.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Container
from dataclasses import dataclass

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tools.core.clock import Clock
from tools.core.ratelimit import TokenBuckets

log = logging.getLogger(__name__)
SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"
HANDSHAKE_VERSIONS = frozenset(v.encode() for v in HANDSHAKE_PROTOCOL_VERSIONS)
SERVER_ERROR = -32000  # JSON-RPC implementation-defined server error
REFUSAL_LOG_INTERVAL_S = 10.0


@dataclass(frozen=True)
class AgentCaps:
    max_sessions: int = 32  # open streamable-HTTP sessions per agent
    max_streams: int = 16  # open SSE streams per agent
    session_idle_timeout: float = 600.0  # seconds (shown in the refusal)


def refusal(kind: str, message: str, status: int = 429, retry_after: float | None = None,
            **data: object) -> JSONResponse:
    """An HTTP refusal whose body is a JSON-RPC error (MCP clients show its message)."""
    headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else None
    body = {"jsonrpc": "2.0", "id": None, "error": {
        "code": SERVER_ERROR, "message": f"{kind}: {message}", "data": {"error": kind, **data}}}
    return JSONResponse(body, status_code=status, headers=headers)


class AgentLimits:
    """Each agent's open sessions and streams, and whether it may open another."""

    def __init__(self, caps: AgentCaps, buckets: TokenBuckets | None, clock: Clock,
                 live_sessions: Callable[[], Container[str]]) -> None:
        self.caps = caps
        self.buckets = buckets
        self.clock = clock
        self.live_sessions = live_sessions
        self.sessions: defaultdict[str, set[str]] = defaultdict(set)
        self.opening: Counter[str] = Counter()  # session-opening requests in flight
        self.streams: Counter[str] = Counter()
        self.refused: Counter[tuple[str, str]] = Counter()  # since the last warning
        self.warned_at: dict[tuple[str, str], float] = {}

    def open_sessions(self, agent: str) -> int:
        return len(self.sessions[agent]) + self.opening[agent]

    def admit_session(self, agent: str) -> JSONResponse | None:
        """Reserve a session slot for `agent`, or the refusal to send."""
        if self.open_sessions(agent) >= self.caps.max_sessions:
            live = self.live_sessions()
            self.sessions[agent] = {sid for sid in self.sessions[agent] if sid in live}
        held = self.open_sessions(agent)
        if held >= self.caps.max_sessions:
            self._warn(agent, "sessions", "--max-sessions-per-agent")
            return refusal(
                "too_many_sessions",
                f"this agent has reached its cap of {self.caps.max_sessions} open MCP sessions "
                "(--max-sessions-per-agent). Reuse an open session, end unused ones (HTTP "
                "DELETE /mcp with their Mcp-Session-Id), or wait: a session idle for "
                f"{self.caps.session_idle_timeout:g} s is closed.",
                limit="max_sessions_per_agent", max=self.caps.max_sessions, open=held)
        refused = self._rate_limited(agent, "opening a session")
        if refused is None:
            self.opening[agent] += 1
        return refused

    def session_answered(self, agent: str, session_id: str | None) -> None:
        """The opening request got its response: the slot holds `session_id`, or is freed."""
        self._release(self.opening, agent)
        if session_id is not None:
            self.sessions[agent].add(session_id)

    def admit_stream(self, agent: str) -> JSONResponse | None:
        """Count a new SSE stream for `agent`, or the refusal to send."""
        held = self.streams[agent]
        if held >= self.caps.max_streams:
            self._warn(agent, "SSE streams", "--max-streams-per-agent")
            return refusal(
                "too_many_streams",
                f"this agent has reached its cap of {self.caps.max_streams} open SSE streams "
                "(--max-streams-per-agent). Close one (end its GET /sse) before opening "
                "another, or use streamable HTTP at /mcp.",
                limit="max_streams_per_agent", max=self.caps.max_streams, open=held)
        refused = self._rate_limited(agent, "opening an SSE stream")
        if refused is None:
            self.streams[agent] += 1
        return refused

    def stream_closed(self, agent: str) -> None:
        self._release(self.streams, agent)

    def _warn(self, agent: str, what: str, flag: str) -> None:
        """One warning per agent and cap every REFUSAL_LOG_INTERVAL_S, with the count."""
        key = (agent, what)
        self.refused[key] += 1
        now = self.clock.now()
        if now - self.warned_at.get(key, -math.inf) >= REFUSAL_LOG_INTERVAL_S:
            log.warning("agent %s is at its cap of open %s (%s): refused %d new one(s) since "
                        "the last warning", agent, what, flag, self.refused.pop(key))
            self.warned_at[key] = now

    def _rate_limited(self, agent: str, what: str) -> JSONResponse | None:
        if self.buckets is None:
            return None
        wait = self.buckets.take(agent, self.clock.now())
        if wait <= 0:
            return None
        return refusal(
            "rate_limited",
            f"{what} counts against this agent's rate limit of {self.buckets.rate:g} requests "
            f"per second (--rate-limit); retry in {wait:.2f} s.",
            retry_after=wait, limit="rate_limit", retry_in=round(wait, 3))

    @staticmethod
    def _release(counter: Counter[str], agent: str) -> None:
        counter[agent] -= 1
        if counter[agent] <= 0:
            del counter[agent]


class AgentLimitsMiddleware:
    """ASGI middleware (after the SDK's auth middleware) applying AgentLimits to the
    session-opening requests at `session_path` and the SSE streams at `stream_path`."""

    def __init__(self, app: ASGIApp, limits: AgentLimits, session_path: str | None = None,
                 stream_path: str | None = None) -> None:
        self.app = app
        self.limits = limits
        self.session_path = session_path
        self.stream_path = stream_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user") if scope["type"] == "http" else None
        if not isinstance(user, AuthenticatedUser):
            await self.app(scope, receive, send)  # no agent: the SDK answers 401
        elif scope["path"] == self.session_path and _opens_session(scope):
            await self._open_session(user.access_token.client_id, scope, receive, send)
        elif scope["path"] == self.stream_path and scope["method"] == "GET":
            await self._open_stream(user.access_token.client_id, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _open_session(self, agent: str, scope: Scope, receive: Receive,
                            send: Send) -> None:
        refused = self.limits.admit_session(agent)
        if refused is not None:
            await refused(scope, receive, send)
            return
        answered = False

        async def watch(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                self.limits.session_answered(agent, _session_id(message))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not answered:
                self.limits.session_answered(agent, None)

    async def _open_stream(self, agent: str, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self.limits.admit_stream(agent)
        if refused is not None:
            await refused(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limits.stream_closed(agent)


def _opens_session(scope: Scope) -> bool:
    """Whether the SDK would admit a new session for this request (see
    StreamableHTTPSessionManager._handle_request: no session id, handshake-era version)."""
    version = None
    for name, value in scope["headers"]:
        if name == SESSION_HEADER:
            return False
        if name == VERSION_HEADER:
            version = value
    return version is None or version in HANDSHAKE_VERSIONS


def _session_id(start: Message) -> str | None:
    if start["status"] >= 400:  # the SDK keeps a session only when its opening succeeded
        return None
    for name, value in start.get("headers", ()):
        if name.lower() == SESSION_HEADER:
            return bytes(value).decode("latin-1")
    return None
