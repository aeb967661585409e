"""A storage fault ends a command with ONE line on stderr (the command, the kind, the file
and what to do) and exit code 1, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import cli
from tests.e2e.support import run
from tests.store.fault_support import GARBAGE

pytestmark = pytest.mark.slow


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_agents_create_on_a_corrupt_registry_prints_one_line(tmp_path: Path) -> None:
    control = tmp_path / "_control.sqlite3"
    control.write_bytes(GARBAGE)
    done = run("agents", "create", "tom", "--data-dir", str(tmp_path))
    assert done.returncode == 1 and done.stdout == ""
    line = one_line(done.stderr)
    assert line.startswith(f"customerio-mcp agents create: storage_corrupt: {control} is not a "
                           "usable database (file is not a database); move it aside")
    assert control.read_bytes() == GARBAGE


def test_serve_with_a_data_directory_that_is_a_file_prints_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    done = run("--log-level", "WARNING", "serve", "--agent", "tom", "--data-dir", str(blocker))
    assert done.returncode == 1 and done.stdout == ""
    assert one_line(done.stderr) == (
        f"customerio-mcp serve: storage_unwritable: {blocker} is not a directory; move the "
        "file away, or point --data-dir / CUSTOMERIO_MCP_DATA_DIR elsewhere")


@pytest.mark.parametrize(("args", "command"), [
    (["serve", "--transport", "http"], "serve"), (["agents", "list"], "agents list"),
], ids=["serve-http", "agents-list"])
def test_the_same_line_comes_from_every_command(
    tmp_path: Path, args: list[str], command: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli.logging.getLogger("store.faults"), "level", 0)  # main() sets it
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    assert cli.main([*args, "--data-dir", str(blocker)]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"customerio-mcp {command}: storage_unwritable: {blocker} is "
                           "not a directory")
