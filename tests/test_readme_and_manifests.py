"""README, manifests, CI script and the registered tools tell the same story."""

from __future__ import annotations

import json
import plistlib
import re
import tomllib
from pathlib import Path

import pytest
from mcp import Client

from server.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MANIFESTS = sorted((ROOT / "manifests").glob("*.json"))
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

pytestmark = pytest.mark.anyio


def _readme_tools() -> list[str]:
    section = README.split("\n## Tools\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


async def test_readme_tool_list_matches_the_registered_tools(client: Client) -> None:
    registered = [tool.name for tool in (await client.list_tools()).tools]
    assert sorted(_readme_tools()) == sorted(registered)


def test_every_manifest_parses() -> None:
    assert {m.name for m in MANIFESTS} >= {"server.json", "claude_desktop_config.json",
                                          "mcp.json", "remote-http.json"}
    for manifest in MANIFESTS:
        json.loads(manifest.read_text())


def test_registry_manifest_version_matches_pyproject() -> None:
    server = json.loads((ROOT / "manifests" / "server.json").read_text())
    assert server["version"] == VERSION
    assert all(package["version"] == VERSION for package in server["packages"])
    assert f"mcp-name: {server['name']}" in README


def test_stdio_manifests_run_a_command_the_cli_accepts() -> None:
    for name in ("claude_desktop_config.json", "mcp.json"):
        entry = json.loads((ROOT / "manifests" / name).read_text())["mcpServers"]["customerio"]
        assert entry["command"] == "customerio-mcp"
        args = _parser().parse_args(entry["args"])
        assert args.command == "serve" and args.agent == "my-agent"


def test_remote_manifest_points_at_the_mcp_path_with_a_bearer_header() -> None:
    entry = json.loads((ROOT / "manifests" / "remote-http.json").read_text())["mcpServers"]
    remote = entry["customerio-remote"]
    assert remote["url"].endswith("/mcp")
    assert remote["headers"]["Authorization"].startswith("Bearer ")


def test_readme_json_snippets_are_the_manifests() -> None:
    snippets = []
    for block in _code_blocks("json"):
        try:
            snippets.append(json.loads(block))
        except json.JSONDecodeError:  # a block of several one-line examples
            continue
    for name in ("claude_desktop_config.json", "mcp.json", "remote-http.json"):
        assert json.loads((ROOT / "manifests" / name).read_text()) in snippets


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = next(block.strip() for block in _code_blocks("sh") if "pytest" in block)
    assert test_command in ci.splitlines()



def test_worker_manifests_run_the_worker_command() -> None:
    unit = (ROOT / "manifests" / "customerio-mcp-worker.service").read_text()
    command = next(line.split("=", 1)[1] for line in unit.splitlines()
                   if line.startswith("ExecStart="))
    assert _parser().parse_args(command.split()[1:]).command == "worker"
    plist = plistlib.loads((ROOT / "manifests" / "io.github.customerio-mcp.worker.plist")
                           .read_bytes())
    assert _parser().parse_args(plist["ProgramArguments"][1:]).command == "worker"
    assert plist["ProgramArguments"][0].endswith("/customerio-mcp")
