"""The customerio-mcp command: serve, demo, --version."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import anyio

from server import __version__, logs
from store.agent_ids import InvalidAgentId, check_agent_id
from tools.engine import default_data_dir

log = logging.getLogger("customerio_mcp")


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

    serve = commands.add_parser("serve", parents=[common], help="serve MCP over stdio for one agent",
                                description="Serve MCP over stdio for one agent.")
    serve.add_argument("--agent", default=os.environ.get("CUSTOMERIO_MCP_AGENT"),
                       help="agent id (env CUSTOMERIO_MCP_AGENT); its data is one SQLite file")
    serve.add_argument("--data-dir", type=Path, default=None,
                       help="data directory (env CUSTOMERIO_MCP_DATA_DIR; default "
                       "$XDG_DATA_HOME/customerio-mcp or ~/.local/share/customerio-mcp)")
    serve.add_argument("--synchronous", default="NORMAL", type=str.upper,
                       choices=["NORMAL", "FULL"],
                       help="SQLite synchronous setting: NORMAL (default; survives a process "
                       "crash) or FULL (also survives power loss, slower)")

    commands.add_parser("demo", parents=[common], help="show what the server does, step by step",
                        description="Start the real server over stdio on a temporary data "
                        "directory, drive it with the MCP client and print each step.")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the customerio-mcp console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", None) or os.environ.get("CUSTOMERIO_MCP_LOG_LEVEL", "INFO")
    logs.configure(level.upper() if level.upper() in logs.LEVELS else "INFO")
    if args.command == "serve":
        return _serve(args, parser)
    if args.command == "demo":
        from server.demo import run_demo

        return anyio.run(run_demo)
    parser.print_help(sys.stderr)
    return 2


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.agent:
        parser.error("serve needs --agent ID (or CUSTOMERIO_MCP_AGENT)")
    try:
        agent_id = check_agent_id(args.agent)
    except InvalidAgentId as exc:
        parser.error(str(exc))
    data_dir = args.data_dir or default_data_dir()
    from server.stdio import serve_stdio

    log.info("serving agent %s from %s over stdio", agent_id, data_dir)
    try:
        anyio.run(serve_stdio, agent_id, data_dir, args.synchronous)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
