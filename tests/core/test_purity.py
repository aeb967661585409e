"""tools/core is pure logic: it imports nothing that does I/O or belongs to another layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "tools" / "core"
FORBIDDEN = ("server", "store", "mcp", "aiosqlite", "anyio", "httpx", "httpx2", "aiosmtplib")


def imported_modules(source: str) -> set[str]:
    """Every module named by an import statement anywhere in `source` (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden_in(source: str) -> set[str]:
    return {
        name for name in imported_modules(source)
        if name.split(".")[0] in FORBIDDEN
    }


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_tools_core_has_modules_to_check() -> None:
    assert {p.name for p in core_files()} >= {"validate.py", "attributes.py", "cursor.py"}


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.name)
def test_core_module_imports_no_io_or_outer_layer(path: Path) -> None:
    assert forbidden_in(path.read_text(encoding="utf-8")) == set()


@pytest.mark.parametrize(
    "source",
    [
        "import store",
        "import mcp.types",
        "from server.app import build_server",
        "from store import people_repo",
        "import anyio, json",
        "def f():\n    import aiosqlite\n",
        "try:\n    import httpx\nexcept ImportError:\n    pass\n",
        "import httpx2",
        "from aiosmtplib import send",
    ],
)
def test_the_checker_finds_forbidden_imports_wherever_they_hide(source: str) -> None:
    assert forbidden_in(source)


@pytest.mark.parametrize(
    "source",
    ["import json", "from tools.core import limits", "import storage_utils",
     "from . import limits", "import mcpx"],
)
def test_the_checker_allows_other_imports(source: str) -> None:
    assert forbidden_in(source) == set()
