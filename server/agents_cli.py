"""`customerio-mcp agents ...`: register remote agents and manage their bearer tokens.

A command-line front end (its stdout is the terminal, not an MCP stream).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from server.agents import AgentRegistry
from store.agent_ids import InvalidAgentId
from tools.core.errors import EngineError


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
                 data_dir_help: str) -> None:
    """Add the `agents` command and its subcommands."""
    agents = commands.add_parser("agents", parents=[common], help="manage remote agents and tokens",
                                 description="Register remote agents (HTTP/SSE) and manage "
                                 "their bearer tokens. Only token hashes are stored.")
    sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    for name, text in (("create", "register an agent and print its new token (shown once)"),
                       ("rotate", "print a new token; the old one stops working"),
                       ("revoke", "stop the agent's token from working"),
                       ("list", "list agents: id, created, last used (never tokens)")):
        action = sub.add_parser(name, parents=[common], help=text, description=text)
        if name != "list":
            action.add_argument("agent_id", metavar="ID", help="agent id")
        action.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


async def run_agents(args: argparse.Namespace, data_dir: Path) -> int:
    """Carry out one `agents` subcommand; errors go to stderr with exit code 1."""
    registry = AgentRegistry(data_dir)
    try:
        command = args.agents_command
        if command == "list":
            rows = await registry.list()
            print(f"{'AGENT':<24} {'CREATED':<21} {'LAST USED':<21} STATUS")
            for info in rows:
                status = "revoked" if info.revoked else "active"
                print(f"{info.agent_id:<24} {_when(info.created_at):<21} "
                      f"{_when(info.last_used_at):<21} {status}")
        elif command == "create":
            print(await registry.create(args.agent_id))
            print(f"agent {args.agent_id!r} created; the token above is shown only once",
                  file=sys.stderr)
        elif command == "rotate":
            print(await registry.rotate(args.agent_id))
            print(f"agent {args.agent_id!r} has a new token; the old one no longer works",
                  file=sys.stderr)
        else:
            await registry.revoke(args.agent_id)
            print(f"agent {args.agent_id!r} revoked; `agents rotate` issues a new token",
                  file=sys.stderr)
    except EngineError as exc:
        print(f"customerio-mcp agents {args.agents_command}: {exc.kind}: {exc.message}",
              file=sys.stderr)
        return 1
    except InvalidAgentId as exc:
        print(f"customerio-mcp agents {args.agents_command}: {exc}", file=sys.stderr)
        return 1
    finally:
        await registry.close()
    return 0
