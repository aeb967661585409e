"""A fast path for the hot tools (track, identify, batch): the same replies, less work.

The SDK's way to a tool result validates the request params twice, builds the Tool's
context, pre-parses and validates the arguments, re-validates the returned model, dumps
the result and validates it again on the way out. This middleware (the innermost one, after
server/strict_arguments.py) answers tools/call for the hot tools itself: the arguments are
validated once against the tool's own argument model, built from the tool function's
signature exactly as the SDK builds it (same model, same JSON pre-parse of string
arguments, so the same error texts), the tool function runs (it resolves its engine with
the server's EngineResolver: the agent on stdio, the token and its rate limit over HTTP),
and the result is shaped as the SDK shapes it. Anything unusual (a request envelope the SDK
would refuse, a connection not yet initialized, extra params) goes down the SDK's path.
tests/mcp/test_fast_tools.py pins the replies to the SDK's, byte for byte.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ToolError,
    UnexpectedResourceError,
    UnexpectedToolError,
)
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata, func_metadata
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, SERVER_INFO_META_KEY, Implementation
from mcp_types import methods
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)
HOT_TOOLS = ("track", "identify", "batch")
_PLAIN_PARAMS = frozenset({"name", "arguments", "_meta"})
_JSON_SPACE = " \t\n\r"  # what json.loads skips before a value
_KEPT = ("{", "[", "n")  # first characters of JSON text that parses to no str/int/float


@dataclass(frozen=True)
class FastTool:
    """A tool function with its argument model, as the SDK builds both."""

    name: str
    fn: Callable[..., Awaitable[Any]]
    context_kwarg: str | None
    metadata: FuncMetadata
    json_keys: frozenset[str]  # argument keys the SDK parses from JSON text first
    kwargs: tuple[tuple[str, str], ...]  # (field, keyword) as model_dump_one_level pairs them

    @classmethod
    def from_function(cls, name: str, fn: Callable[..., Awaitable[Any]]) -> FastTool:
        context_kwarg = find_context_parameter(fn)
        metadata = func_metadata(fn, skip_names=[context_kwarg] if context_kwarg else [])
        fields = metadata.arg_model.model_fields
        json_keys = {key for field, info in fields.items() if info.annotation is not str
                     for key in (field, info.alias) if key}  # FuncMetadata.pre_parse_json's rule
        kwargs = tuple((field, info.alias or field) for field, info in fields.items())
        return cls(name, fn, context_kwarg, metadata, frozenset(json_keys), kwargs)

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """FuncMetadata.validate_arguments, with the pre-parse keys worked out once."""
        data: Mapping[str, Any] = arguments
        parsed_data: dict[str, Any] | None = None
        for key in self.json_keys.intersection(arguments):
            value = arguments[key]
            # The SDK tries json.loads on every such string and keeps what is not a str,
            # int or float (bool is an int): only text opening with {, [ or n (null) can
            # be kept, so the rest skips a parse that would be thrown away (or raise).
            if not isinstance(value, str) or value.lstrip(_JSON_SPACE)[:1] not in _KEPT:
                continue
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                continue
            if isinstance(parsed, str | int | float):
                continue
            if parsed_data is None:
                data = parsed_data = dict(arguments)
            parsed_data[key] = parsed
        values = self.metadata.arg_model.model_validate(data).__dict__
        return {keyword: values[field] for field, keyword in self.kwargs}

    async def run(self, arguments: Mapping[str, Any], context: Context[Any, Any]) -> dict[str, Any]:
        """Tool.run of the SDK (the same errors, wrapped the same way); the result as
        CallToolResult.model_dump(by_alias=True, mode="json", exclude_none=True)."""
        try:
            validated = self.validate(arguments)
        except ValidationError as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        except MCPError:
            raise
        except Exception as exc:
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc
        if self.context_kwarg is not None:
            validated[self.context_kwarg] = context
        try:
            return _converted(self.metadata, await self.fn(**validated))
        except MCPError:
            raise
        except (UnexpectedToolError, UnexpectedResourceError) as exc:
            raise UnexpectedToolError(f"Error executing tool {self.name}: {exc}") from exc
        except (ToolError, ResourceError) as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        except Exception as exc:
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc


def _converted(metadata: FuncMetadata, result: Any) -> dict[str, Any]:
    """FuncMetadata.convert_result, dumped; built directly for a result that is exactly
    the output model (which the SDK's output check hands back as it is)."""
    model = metadata.output_model
    if metadata.output_schema is None or metadata.wrap_output or type(result) is not model:
        converted = metadata.convert_result(result)
        return converted.model_dump(by_alias=True, mode="json", exclude_none=True)
    assert isinstance(result, BaseModel)
    text = pydantic_core.to_json(result, fallback=str, indent=2).decode()
    return {"content": [{"type": "text", "text": text}],
            "structuredContent": result.model_dump(mode="json", by_alias=True),
            "isError": False, "resultType": "complete"}


def _error(exc: Exception) -> dict[str, Any]:
    """CallToolResult(content=[TextContent(text=str(exc))], is_error=True), dumped."""
    return {"content": [{"type": "text", "text": str(exc)}], "isError": True,
            "resultType": "complete"}


class FastToolCalls:
    """A ServerMiddleware answering tools/call for the given tool functions itself.

    `served` counts the calls it answered (the rest went down the SDK's path)."""

    def __init__(self, server: MCPServer[Any],
                 functions: Mapping[str, Callable[..., Awaitable[Any]]]) -> None:
        self._server = server
        self._tools = {name: FastTool.from_function(name, fn) for name, fn in functions.items()}
        info = Implementation(name=server.name, version=server.version, title=server.title,
                              description=server.description, website_url=server.website_url,
                              icons=server.icons)
        self._stamp = info.model_dump(by_alias=True, mode="json", exclude_none=True)
        # each reply gets a copy of its own, as ServerRunner hands them out
        self._stamp_copy = (dict if all(isinstance(value, str) for value in self._stamp.values())
                            else copy.deepcopy)
        self.served = 0

    async def __call__(self, ctx: ServerRequestContext[Any, Any],
                       call_next: CallNext) -> HandlerResult:
        params = ctx.params
        if ctx.method != "tools/call" or params is None:
            return await call_next(ctx)
        name = params.get("name")
        tool = self._tools.get(name) if isinstance(name, str) else None
        if tool is None or not _takes_fast_path(ctx, params):
            return await call_next(ctx)
        self.served += 1
        context = Context(request_context=ctx, mcp_server=self._server)
        try:
            result = await tool.run(params.get("arguments") or {}, context)
        except MCPError:
            raise
        except Exception as exc:
            _log_failure(tool.name, exc)
            result = _error(exc)
        return _wire(result, ctx.protocol_version, self._stamp_copy(self._stamp))


def _takes_fast_path(ctx: ServerRequestContext[Any, Any], params: Mapping[str, Any]) -> bool:
    """A plain, valid tools/call on an initialized connection (else the SDK answers)."""
    if not params.keys() <= _PLAIN_PARAMS or not isinstance(params.get("arguments", {}), dict):
        return False
    version = ctx.protocol_version
    if version not in MODERN_PROTOCOL_VERSIONS and ctx.session.client_params is None:
        return False  # maybe before initialize: the SDK's gate decides
    try:
        methods.validate_client_request("tools/call", version, params)
    except Exception:
        return False  # the SDK answers with its own error
    return True


def _log_failure(name: str, exc: Exception) -> None:
    """What MCPServer logs for a failed tool call (a crash with its traceback)."""
    if isinstance(exc, ToolError) and not isinstance(exc, UnexpectedToolError):
        if isinstance(exc.__cause__, ValidationError):
            fields = sorted({".".join(str(part) for part in error["loc"])
                             for error in exc.__cause__.errors()})
            log.info("Tool %r rejected arguments: %r", name, fields)
        else:
            log.info("Tool %r failed: %r", name, str(exc))
    else:
        log.exception("Tool %r raised an unexpected exception", name, exc_info=exc)


def _wire(dumped: dict[str, Any], version: str, stamp: dict[str, Any]) -> dict[str, Any]:
    """The wire form of a dumped tools/call result, as the SDK's ServerRunner shapes it
    (build_server sets no cache hints, which it would apply first)."""
    try:
        dumped = methods.serialize_server_result("tools/call", version, dumped)
    except ValidationError:
        log.exception("handler for %r returned an invalid result", "tools/call")
        raise MCPError(code=INTERNAL_ERROR, message="Handler returned an invalid result") from None
    if version in MODERN_PROTOCOL_VERSIONS:
        if dumped.get("resultType") is None:
            dumped["resultType"] = "complete"
        meta = dumped.get("_meta")
        if meta is None:
            dumped["_meta"] = {SERVER_INFO_META_KEY: stamp}
        elif isinstance(meta, dict) and meta.get(SERVER_INFO_META_KEY) is None:
            dumped["_meta"] = {**meta, SERVER_INFO_META_KEY: stamp}
    return dumped
