"""Over HTTP, a bearer-token check that cannot read the agent registry answers 503 with a
JSON body naming the storage fault, not a bare 500; a valid token is not refused because
its last use could not be recorded."""

from __future__ import annotations

import pytest

import store.database
from server.runtime import Runtime
from tests.remote.support import http_client, raw_http, structured
from tests.store.fault_support import GARBAGE, locked

pytestmark = pytest.mark.anyio
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


async def test_a_corrupt_registry_answers_503_naming_storage_corrupt(
    runtime: Runtime, base_url: str,
) -> None:
    (runtime.data_dir / "_control.sqlite3").write_bytes(GARBAGE)
    async with raw_http() as http:
        for path in ("/mcp", "/messages/?session_id=00000000000000000000000000000000"):
            response = await http.post(f"{base_url}{path}", json=LIST_TOOLS,
                                       headers={"Authorization": "Bearer cio_0123456789ab_x"})
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["error"] == "storage_corrupt"
            assert "_control.sqlite3" in body["message"] and "backup" in body["message"]
        sse = await http.get(f"{base_url}/sse", headers={"Authorization": "Bearer cio_0_x"})
        assert sse.status_code == 503
        assert (await http.get(f"{base_url}/healthz")).status_code == 200


async def test_a_locked_registry_does_not_refuse_a_valid_token(
    runtime: Runtime, base_url: str, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store.database, "BUSY_TIMEOUT_S", 0.05)
    with locked(runtime.data_dir / "_control.sqlite3"):  # recording last use cannot commit
        async with http_client(base_url, tokens["alice"]) as client:
            structured(await client.call_tool("identify", {"user_id": "ada"}))
