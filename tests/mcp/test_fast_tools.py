"""The fast path for track / identify / batch answers exactly as the SDK's own path does.

Two servers on one runtime (agents 'fast' and 'sdk', the same manual clock) get the same
calls; a middleware outside everything records each tools/call result in its wire form.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from mcp import Client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from server.app import build_server
from server.fast_tools import FastToolCalls
from server.runtime import Runtime
from tests.mcp.fast_path_cases import CASES, HOT_CALLS
from tools.api import CustomerIO

pytestmark = pytest.mark.anyio


def recording(server: MCPServer[Any], results: list[str]) -> None:
    """Record every tools/call result, as serialized for the wire, outside all middleware."""

    async def record(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method == "tools/call":  # a middleware may answer with a model (as ServerRunner)
            wire = (result.model_dump(by_alias=True, mode="json", exclude_none=True)
                    if isinstance(result, BaseModel) else result)
            results.append(json.dumps(wire, ensure_ascii=False))
        return result

    server.middleware.insert(0, record)


def fast_path_of(server: MCPServer[Any]) -> FastToolCalls:
    return next(m for m in server.middleware if isinstance(m, FastToolCalls))


async def run_cases(server: MCPServer[Any], mode: str) -> list[str]:
    results: list[str] = []
    recording(server, results)
    async with Client(server, mode=mode) as client:
        for tool, arguments in CASES:
            await client.call_tool(tool, arguments)
    return results


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_fast_path_answers_every_case_as_the_sdk_does(runtime: Runtime,
                                                                mode: str) -> None:
    fast_engine, sdk_engine = runtime.engine("fast"), runtime.engine("sdk")
    fast = build_server(lambda ctx: fast_engine)
    sdk = build_server(lambda ctx: sdk_engine, fast_path=False)
    fast_results = await run_cases(fast, mode)
    sdk_results = await run_cases(sdk, mode)
    assert len(fast_results) == len(CASES)
    for (tool, arguments), ours, theirs in zip(CASES, fast_results, sdk_results, strict=True):
        assert ours == theirs, (tool, arguments)
    assert fast_path_of(fast).served == HOT_CALLS
    assert not any(isinstance(m, FastToolCalls) for m in sdk.middleware)


async def test_a_crash_reads_the_same_and_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(ctx: Any) -> CustomerIO:
        raise RuntimeError("the resolver broke")

    replies = {}
    for fast_path in (True, False):
        server = build_server(broken, fast_path=fast_path)
        async with Client(server) as client:
            replies[fast_path] = await client.call_tool("track", {"name": "x", "user_id": "u"})
    assert replies[True] == replies[False]
    assert replies[True].is_error
    assert replies[True].content[0].text == "Error executing tool track"  # type: ignore[union-attr]
    ours = [r for r in caplog.records if r.name == "server.fast_tools"]
    assert len(ours) == 1 and ours[0].levelno == logging.ERROR
    assert "raised an unexpected exception" in ours[0].getMessage()
    assert ours[0].exc_info is not None
    assert "the resolver broke" in caplog.text  # the traceback reaches the log


async def test_otel_middleware_is_off_unless_asked(runtime: Runtime) -> None:
    from mcp.server._otel import OpenTelemetryMiddleware

    engine = runtime.engine("tom")
    default = build_server(lambda ctx: engine)
    traced = build_server(lambda ctx: engine, otel=True)
    assert not any(isinstance(m, OpenTelemetryMiddleware) for m in default.middleware)
    assert isinstance(traced.middleware[0], OpenTelemetryMiddleware)
    async with Client(traced) as client:
        assert not (await client.call_tool("track", {"name": "x", "user_id": "u"})).is_error
