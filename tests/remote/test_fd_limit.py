"""The connection cap comes from the open-file limit and leaves room for the databases."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

from server.fd_limit import (
    DEFAULT_CEILING,
    FDS_PER_DATABASE,
    RESERVED_FDS,
    TooManyConnections,
    max_connections,
)

CLI = [sys.executable, "-m", "server.cli"]


@pytest.mark.parametrize(("fd_limit", "databases", "requested", "cap"), [
    (1024, 64, None, 1024 - FDS_PER_DATABASE * 64 - RESERVED_FDS),  # 704
    (1024, 64, 700, 700),
    (1_048_576, 64, None, DEFAULT_CEILING),
    (1_048_576, 64, 50_000, 50_000),
])
def test_the_cap_is_the_request_or_what_the_limit_leaves(fd_limit: int, databases: int,
                                                         requested: int | None,
                                                         cap: int) -> None:
    assert max_connections(requested, fd_limit, databases) == cap


@pytest.mark.parametrize(("fd_limit", "requested", "reason"), [
    (1024, 705, "exceeds what the open-file limit allows"),
    (1024, 0, "at least 1"),
    (256, None, "leaves no room"),
])
def test_a_cap_the_limit_cannot_hold_is_refused(fd_limit: int, requested: int | None,
                                                reason: str) -> None:
    with pytest.raises(TooManyConnections, match=reason):
        max_connections(requested, fd_limit, 64)


def _low_soft_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))


def test_serving_raises_the_soft_limit_to_the_hard_limit() -> None:
    probe = ("import json, resource; from server.fd_limit import raise_open_file_limit; "
             "print(json.dumps([raise_open_file_limit(), "
             "*resource.getrlimit(resource.RLIMIT_NOFILE)]))")
    out = subprocess.run([sys.executable, "-c", probe], preexec_fn=_low_soft_limit,
                         capture_output=True, text=True, check=True).stdout
    reported, soft, hard = json.loads(out)
    assert soft == reported
    assert soft == (hard if hard != resource.RLIM_INFINITY else 1 << 20)


def test_serve_refuses_a_max_connections_the_limit_cannot_hold_in_one_line(tmp_path) -> None:
    refused = subprocess.run([*CLI, "serve", "--transport", "http", "--max-connections",
                              "100000000", "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("customerio-mcp: error: --max-connections 100000000 "
                                     "exceeds what the open-file limit allows")
