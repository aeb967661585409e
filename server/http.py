"""MCP over HTTP: streamable HTTP at /mcp, SSE at /sse (+ /messages/), /healthz, one port.

Every MCP request carries `Authorization: Bearer <token>`; the token decides the agent and
nothing in a request can name another one. The network cannot exhaust the process (a cap on
connections, deadlines for slow requests: server/http_protocol.py) and one agent cannot
take what all agents share (per-agent caps on sessions and streams: server/agent_limits.py).
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from server.agent_limits import AgentCaps, AgentLimits, AgentLimitsMiddleware
from server.app import build_server
from server.fd_limit import max_connections, open_file_limit
from server.http_protocol import ConnectionLimits, guarded_protocol
from server.runtime import Runtime
from server.storage_faults import StorageFaultMiddleware
from store.manager import DEFAULT_MAX_OPEN
from tools.api import CustomerIO
from tools.core.ratelimit import TokenBuckets

log = logging.getLogger(__name__)
SCOPE = "agent"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Connections waiting to be accepted. The event loop accepts every waiting one in one go:
# a flood of reconnects with uvicorn's 2,048 stalled the other agents' calls for tens of ms.
ACCEPT_BACKLOG = 64
MAX_BODY_BYTES = 1_048_576  # a full 500 KB batch plus JSON-RPC framing fits


@dataclass
class HttpOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    dns_rebinding_protection: bool | None = None  # None: on for loopback binds
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    rate_limit: float | None = None  # tool calls and session/stream opens per second per agent
    rate_burst: float | None = None
    max_connections: int | None = None  # None: from the open-file limit (server/fd_limit.py)
    header_timeout: float = ConnectionLimits.header_timeout
    body_timeout: float = ConnectionLimits.body_timeout
    keep_alive_timeout: float = ConnectionLimits.keep_alive_timeout
    max_sessions_per_agent: int = AgentCaps.max_sessions
    max_streams_per_agent: int = AgentCaps.max_streams
    session_idle_timeout: float = AgentCaps.session_idle_timeout
    otel: bool = False  # keep the SDK's OpenTelemetry middleware (serve --otel)
    fast_path: bool = True  # False: every tool through the SDK's path (for comparisons)


class RegistryTokenVerifier:
    """Checks bearer tokens against the agent registry."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tokens: dict[str, AccessToken] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        agent_id = await self.runtime.registry.verify(token)
        if agent_id is None:
            return None
        known = self._tokens.get(token)  # the registry has just checked it: reuse the model
        if known is None or known.client_id != agent_id:
            if len(self._tokens) >= 10_000:
                self._tokens.clear()
            known = self._tokens[token] = AccessToken(token=token, client_id=agent_id,
                                                      scopes=[SCOPE])
        return known


def transport_security(options: HttpOptions) -> TransportSecuritySettings:
    """Host/Origin checks against DNS rebinding: on by default for loopback binds."""
    enabled = options.dns_rebinding_protection
    if enabled is None:
        enabled = options.host in LOOPBACK
    hosts = list(options.allowed_hosts)
    origins = list(options.allowed_origins)
    if enabled and options.host in LOOPBACK:
        hosts += ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        origins += ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=enabled,
                                     allowed_hosts=hosts, allowed_origins=origins)


def rate_buckets(options: HttpOptions) -> TokenBuckets | None:
    """The per-agent rate limit shared by tool calls and session/stream opens, if any."""
    return TokenBuckets(options.rate_limit, options.rate_burst) if options.rate_limit else None


def http_engine_resolver(runtime: Runtime, options: HttpOptions,
                         buckets: TokenBuckets | None) -> Any:
    """The engine of the agent whose token authenticated this request (rate-limited)."""

    def engine_for(ctx: Context[Any, Any]) -> CustomerIO:
        token = get_access_token()
        if token is None:  # unreachable behind RequireAuthMiddleware; refuse rather than guess
            raise ToolError("not authenticated: send Authorization: Bearer <token>")
        if buckets is not None:
            wait = buckets.take(token.client_id, runtime.clock.now())
            if wait > 0:
                raise ToolError(
                    f"rate_limited: this agent may make {options.rate_limit:g} requests per "
                    f"second (tool calls, session and stream opens); retry in {wait:.2f} s"
                )
        return runtime.engine(token.client_id)

    return engine_for


def build_http_app(runtime: Runtime, options: HttpOptions) -> ASGIApp:
    """One ASGI app serving /mcp, /sse, /messages/ and /healthz."""
    base_url = f"http://{options.host}:{options.port}"
    buckets = rate_buckets(options)
    server = build_server(
        http_engine_resolver(runtime, options, buckets), otel=options.otel,
        fast_path=options.fast_path,
        token_verifier=RegistryTokenVerifier(runtime),
        auth=AuthSettings(issuer_url=AnyHttpUrl(base_url),
                          resource_server_url=AnyHttpUrl(f"{base_url}/mcp"),
                          validate_token_resource=False, required_scopes=[SCOPE]),
    )

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    security = transport_security(options)
    streamable = server.streamable_http_app(
        streamable_http_path="/mcp", transport_security=security, host=options.host,
        json_response=True, max_request_body_size=MAX_BODY_BYTES,
        session_idle_timeout=options.session_idle_timeout,
    )
    sse = server.sse_app(sse_path="/sse", message_path="/messages/", transport_security=security,
                         host=options.host, max_request_body_size=MAX_BODY_BYTES)
    for part in (streamable, sse):  # outside the token check: storage faults there get 503
        part.add_middleware(StorageFaultMiddleware)
    caps = AgentCaps(options.max_sessions_per_agent, options.max_streams_per_agent,
                     options.session_idle_timeout)
    manager = server.session_manager
    # The SDK's table of live sessions (no public accessor): a session it has ended, however
    # it ended, is no longer in it, so its slot is free.
    limits = AgentLimits(caps, buckets, runtime.clock, lambda: manager._server_instances)
    # after the SDK's auth middleware (the agent is known), before its session admission
    streamable.user_middleware.append(Middleware(AgentLimitsMiddleware, limits=limits,
                                                 session_path="/mcp"))
    sse.user_middleware.append(Middleware(AgentLimitsMiddleware, limits=limits,
                                          stream_path="/sse"))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] != "lifespan" else ""
        if scope["type"] == "http" and scope["method"] == "POST" and not _is_json(scope):
            refusal = JSONResponse({"error": "unsupported_media_type", "message":
                                    "send JSON-RPC with Content-Type: application/json"},
                                   status_code=415)
            await refusal(scope, receive, send)
            return
        target = sse if path == "/sse" or path.startswith("/messages") else streamable
        await target(scope, receive, send)

    return app


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


def connection_limits(options: HttpOptions) -> ConnectionLimits:
    """The connection cap and timeouts; an unset cap comes from the open-file limit."""
    cap = options.max_connections
    if cap is None:
        cap = max_connections(None, open_file_limit(), DEFAULT_MAX_OPEN)
    return ConnectionLimits(cap, options.header_timeout, options.body_timeout,
                            options.keep_alive_timeout)


def uvicorn_config(app: ASGIApp, options: HttpOptions) -> uvicorn.Config:
    """uvicorn's configuration: httptools, guarded by the connection limits."""
    limits = connection_limits(options)
    log.info("accepting up to %d connections (open-file limit %d); a request must send its "
             "headers within %g s and its body within %g s", limits.max_connections,
             open_file_limit(), limits.header_timeout, limits.body_timeout)
    return uvicorn.Config(app, host=options.host, port=options.port, log_config=None,
                          lifespan="on", timeout_graceful_shutdown=10,
                          http=guarded_protocol(limits), backlog=ACCEPT_BACKLOG)


async def serve_http(runtime: Runtime, options: HttpOptions) -> None:
    """Serve until SIGTERM / SIGINT; uvicorn lets in-flight requests finish first."""
    config = uvicorn_config(build_http_app(runtime, options), options)
    # uvicorn handles the signals while serving, then re-raises them against the handlers
    # it found. These handlers make that re-raise harmless, so control returns here and
    # the caller closes the runtime (every database) instead of the process dying.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _log_signal)
    await uvicorn.Server(config).serve()


def _log_signal(signum: int, frame: object) -> None:
    log.info("stopped by %s", signal.Signals(signum).name)
