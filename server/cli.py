"""The customerio-mcp command: serve (stdio or HTTP), agents, demo, --version."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import anyio

from server import __version__, logs
from server.config import ConfigError, add_delivery_options, delivery_options
from store import faults
from store.agent_ids import InvalidAgentId, check_agent_id
from store.faults import storage_fault
from store.files import prepare_data_dir
from tools.core.errors import StorageError
from tools.engine import default_data_dir

log = logging.getLogger("customerio_mcp")
DATA_DIR_HELP = ("data directory (env CUSTOMERIO_MCP_DATA_DIR; default "
                 "$XDG_DATA_HOME/customerio-mcp or ~/.local/share/customerio-mcp)")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", default=argparse.SUPPRESS, type=str.upper,
                        choices=logs.LEVELS,
                        help="log level; logs go to stderr (env CUSTOMERIO_MCP_LOG_LEVEL, "
                        "default INFO)")
    parser = argparse.ArgumentParser(
        prog="customerio-mcp", parents=[common],
        description="A Customer.io of its own for every AI agent, served over MCP.",
    )
    parser.add_argument("--version", action="version", version=f"customerio-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_serve(commands, common)
    from server.agents_cli import add_commands

    add_commands(commands, common, DATA_DIR_HELP)
    from server import worker_cli

    worker_cli.add_commands(commands, common, DATA_DIR_HELP)
    commands.add_parser("demo", parents=[common], help="show what the server does, step by step",
                        description="Start the real server over stdio on a temporary data "
                        "directory, drive it with the MCP client and print each step.")
    return parser


def _add_serve(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve", parents=[common], help="serve MCP over stdio (one agent) or HTTP (many)",
        description="Serve MCP. stdio serves the one agent named by --agent; http serves "
        "streamable HTTP at /mcp and SSE at /sse on one port, for every registered agent, "
        "each confined to its own data by its bearer token (see `agents create`).")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                       help="stdio (default) or http (streamable HTTP + SSE)")
    serve.add_argument("--agent", default=os.environ.get("CUSTOMERIO_MCP_AGENT"),
                       help="stdio: agent id (env CUSTOMERIO_MCP_AGENT); its data is one "
                       "SQLite file")
    serve.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    serve.add_argument("--synchronous", default="NORMAL", type=str.upper,
                       choices=["NORMAL", "FULL"],
                       help="SQLite synchronous setting: NORMAL (default; survives a process "
                       "crash) or FULL (also survives power loss, slower)")
    serve.add_argument("--otel", action="store_true",
                       help="keep the MCP SDK's OpenTelemetry middleware (a span per message, "
                       "for an exporter you configure; off by default)")
    add_delivery_options(serve)
    http = serve.add_argument_group("http transport")
    http.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    http.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    http.add_argument("--allowed-host", action="append", default=[], metavar="HOST[:PORT]",
                      help="extra Host header value to accept (repeatable; '*' port wildcard)")
    http.add_argument("--allowed-origin", action="append", default=[], metavar="ORIGIN",
                      help="extra Origin header value to accept (repeatable)")
    http.add_argument("--dns-rebinding-protection", choices=["auto", "on", "off"],
                      default="auto", help="Host/Origin checks: auto (on for loopback binds)")
    http.add_argument("--rate-limit", type=_positive(float), default=None, metavar="PER_SECOND",
                      help="tool calls, session opens and SSE stream opens per second allowed "
                      "per agent (default unlimited)")
    http.add_argument("--rate-burst", type=_positive(float), default=None, metavar="N",
                      help="burst size of the rate limit (default: the rate, at least 1)")
    http.add_argument("--max-connections", type=int, default=None, metavar="N",
                      help="open connections at most; at the cap a new one replaces the one "
                      "idle longest, or is closed at once if none is idle (default: what the "
                      "open-file limit allows, at most 10000)")
    http.add_argument("--header-timeout", type=_positive(float), default=10.0,
                      metavar="SECONDS", help="close a connection whose request headers are "
                      "not complete this long after its first byte (default 10)")
    http.add_argument("--body-timeout", type=_positive(float), default=30.0, metavar="SECONDS",
                      help="close a connection whose request body is not complete this long "
                      "after its headers (default 30)")
    http.add_argument("--keep-alive-timeout", type=_positive(float), default=5.0,
                      metavar="SECONDS", help="close an idle keep-alive connection after "
                      "this long (default 5)")
    http.add_argument("--max-sessions-per-agent", type=_positive(int), default=32, metavar="N",
                      help="open streamable-HTTP sessions per agent (default 32)")
    http.add_argument("--max-streams-per-agent", type=_positive(int), default=16, metavar="N",
                      help="open SSE streams per agent (default 16)")
    http.add_argument("--session-idle-timeout", type=_positive(float), default=600.0,
                      metavar="SECONDS", help="close a streamable-HTTP session after this long "
                      "without a request (default 600)")


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a number of `kind` greater than zero."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its errors
    return parse


def main(argv: list[str] | None = None) -> int:
    """Entry point of the customerio-mcp console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", None) or os.environ.get("CUSTOMERIO_MCP_LOG_LEVEL", "INFO")
    logs.configure(level.upper() if level.upper() in logs.LEVELS else "INFO")
    try:
        return _run(args, parser)
    except (StorageError, OSError) as exc:
        where = getattr(args, "data_dir", None) or "the data directory"
        fault = exc if isinstance(exc, StorageError) else storage_fault(exc, where, quiet=True)
        if fault is None:
            raise
        # One line, no traceback: the message names the file and what to do.
        sys.stderr.write(f"customerio-mcp {args.command}: {fault.kind}: {fault.message}\n")
        return 1


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "serve":
        return _serve(args, parser)
    if args.command == "agents":
        from server.agents_cli import run_agents

        # A storage fault ends the command with one line naming it; no log line besides.
        logging.getLogger(faults.__name__).setLevel(logging.CRITICAL)
        return anyio.run(run_agents, args, args.data_dir or default_data_dir())
    if args.command == "worker":
        from server.worker import run_worker

        try:
            delivery = delivery_options(args)
        except ConfigError as exc:
            sys.stderr.write(f"customerio-mcp: error: {exc}\n")
            return 2
        try:
            return anyio.run(run_worker, args.data_dir or default_data_dir(), args.synchronous,
                             delivery, backend_options=_fast_loop())
        except KeyboardInterrupt:
            return 0
    if args.command == "status":
        from server.worker_cli import print_status

        return print_status(args.data_dir or default_data_dir())
    if args.command == "demo":
        from server.demo import run_demo

        return anyio.run(run_demo)
    parser.print_help(sys.stderr)
    return 2


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    data_dir = args.data_dir or default_data_dir()
    try:
        args.delivery = delivery_options(args)
    except ConfigError as exc:
        sys.stderr.write(f"customerio-mcp: error: {exc}\n")
        return 2
    try:
        if args.transport == "http":
            prepare_data_dir(data_dir)
            from server.fd_limit import TooManyConnections, check_max_connections

            try:
                args.max_connections = check_max_connections(args.max_connections)
            except TooManyConnections as exc:
                sys.stderr.write(f"customerio-mcp: error: {exc}\n")
                return 2
            anyio.run(_serve_http, args, data_dir, backend_options=_fast_loop())
            return 0
        if not args.agent:
            parser.error("serve --transport stdio needs --agent ID (or CUSTOMERIO_MCP_AGENT)")
        try:
            agent_id = check_agent_id(args.agent)
        except InvalidAgentId as exc:
            parser.error(str(exc))
        from server.stdio import serve_stdio

        prepare_data_dir(data_dir)
        log.info("serving agent %s from %s over stdio", agent_id, data_dir)
        anyio.run(partial(serve_stdio, otel=args.otel, delivery=args.delivery), agent_id,
                  data_dir, args.synchronous, backend_options=_fast_loop())
    except KeyboardInterrupt:
        pass
    return 0


def _fast_loop() -> dict[str, bool]:
    """uvloop for both transports when it is installed (not on Windows)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return {}
    return {"use_uvloop": True}


async def _serve_http(args: argparse.Namespace, data_dir: Path) -> None:
    from server.http import HttpOptions, serve_http
    from server.runtime import Runtime

    protection = {"auto": None, "on": True, "off": False}[args.dns_rebinding_protection]
    options = HttpOptions(host=args.host, port=args.port, dns_rebinding_protection=protection,
                          allowed_hosts=args.allowed_host, allowed_origins=args.allowed_origin,
                          rate_limit=args.rate_limit, rate_burst=args.rate_burst,
                          max_connections=args.max_connections,
                          header_timeout=args.header_timeout, body_timeout=args.body_timeout,
                          keep_alive_timeout=args.keep_alive_timeout,
                          max_sessions_per_agent=args.max_sessions_per_agent,
                          max_streams_per_agent=args.max_streams_per_agent,
                          session_idle_timeout=args.session_idle_timeout, otel=args.otel)
    log.info("serving MCP over HTTP on http://%s:%s (/mcp, /sse) from %s", args.host, args.port,
             data_dir)
    delivery = dict(args.delivery)
    delivery["public_url"] = delivery["public_url"] or (
        delivery["config"].public_url or f"http://{args.host}:{args.port}")
    async with Runtime(data_dir, synchronous=args.synchronous, **delivery) as runtime:
        await serve_http(runtime, options)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
