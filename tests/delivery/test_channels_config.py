"""channels_configure / channels_list: secrets are kept and never shown, the operator's
providers show as such (and are trusted as written), agents may not point providers at
private hosts unless the operator allows it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.app import build_server
from server.config import OperatorConfig
from server.runtime import Runtime
from tests.channels.http_support import Answer, http_server
from tests.channels.smtp_support import PASSWORD, USER, smtp_server
from tests.db_dump import unchanged
from tests.delivery.support import call, query, seed, settled
from tests.mcp.tool_checks import text_of, tool_error_message
from tools.core.clock import ManualClock
from tools.core.errors import EngineError, InvalidInput

pytestmark = pytest.mark.anyio

TWILIO_TOKEN = "twilio-token-do-not-show"


def providers(listed: dict[str, Any], key: str = "channels") -> dict[str, tuple[str, str,
                                                                                 dict[str, Any]]]:
    return {f"{c['channel']}/{c['provider']}": (c["source"], c["provider"], c["settings"])
            for c in listed[key]}


async def test_with_nothing_configured_every_channel_shows_its_default(client: Client) -> None:
    listed = await call(client, "channels_list", {})
    assert providers(listed) == {
        "email/capture": ("default", "capture",
                          {"from": "customerio-mcp capture <noreply@capture.invalid>"}),
        "sms/capture": ("default", "capture", {}), "push/capture": ("default", "capture", {}),
        "in_app/inbox": ("default", "inbox", {}), "webhook/webhook": ("default", "webhook", {})}
    assert listed["configured"] == []


async def test_an_smtp_password_is_stored_but_no_tool_result_ever_shows_it(
    private_runtime: Runtime, private_client: Client, db: Path,
) -> None:
    await seed(private_runtime.engine("tom"))
    texts: list[str] = []

    async def tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await private_client.call_tool(name, arguments)
        texts.append(text_of(result) + json.dumps(result.structured_content))
        assert not result.is_error, text_of(result)
        assert result.structured_content is not None
        return result.structured_content

    async with smtp_server(auth=True) as (port, recorder):
        configured = await tool("channels_configure", {
            "channel": "email", "provider": "smtp", "settings": {
                "host": "127.0.0.1", "port": port, "security": "none", "username": USER,
                "password": PASSWORD, "from": "Shop <shop@example.com>"}})
        source, _, settings = providers(configured)["email/smtp"]
        assert source == "agent" and settings["password"] == "***"
        assert settings["username"] == USER and settings["port"] == port
        out = await tool("send", {"user_id": "ada", "channel": "email",
                                  "template_id": "welcome"})
        await settled(private_runtime, out["message_id"])
        await tool("messages_get", {"message_id": out["message_id"]})
        await tool("messages_list", {})
        await tool("channels_list", {})
        await tool("agent_status", {})
        await tool("get_person", {"user_id": "ada"})
        resource = await private_client.read_resource(f"customerio://messages/{out['message_id']}")
        texts.append(resource.contents[0].text)  # type: ignore[union-attr]
    [received] = recorder.messages
    assert received.login == USER.encode()
    assert not any(PASSWORD in text for text in texts)
    assert any('"***"' in text for text in texts)
    # the secret is kept (the sender needs it)
    [(stored,)] = query(db, "SELECT settings FROM channel_settings WHERE channel = 'email'")
    assert json.loads(stored)["password"] == PASSWORD


async def test_operator_providers_show_as_operator_with_secrets_redacted(
    tmp_path: Path, clock: ManualClock,
) -> None:
    config = OperatorConfig(channels={"sms": {"twilio": {
        "account_sid": "AC123", "auth_token": TWILIO_TOKEN, "from": "+14155550000"}}})
    async with Runtime(tmp_path, clock=clock, config=config) as runtime:
        engine = runtime.engine("tom")
        async with Client(build_server(lambda ctx: engine)) as client:
            result = await client.call_tool("channels_list", {})
            listed = result.structured_content
            assert listed is not None and TWILIO_TOKEN not in text_of(result)
            assert providers(listed)["sms/twilio"] == ("operator", "twilio", {
                "account_sid": "AC123", "auth_token": "***", "from": "+14155550000"})
            assert providers(listed, "configured") == {
                "sms/twilio": providers(listed)["sms/twilio"]}
            # an agent's own choice wins over the operator's; both are listed
            result = await client.call_tool("channels_configure", {"channel": "sms",
                                                                   "provider": "capture"})
            listed = result.structured_content
            assert listed is not None and TWILIO_TOKEN not in text_of(result)
            assert providers(listed)["sms/capture"][0] == "agent"
            assert "sms/twilio" not in providers(listed)
            assert {k: v[0] for k, v in providers(listed, "configured").items()} == {
                "sms/capture": "agent", "sms/twilio": "operator"}


async def test_an_operator_provider_is_trusted_to_reach_a_loopback_host(
    tmp_path: Path, clock: ManualClock,
) -> None:
    answer = Answer(201, {"sid": "SM1", "status": "queued"})
    async with http_server(lambda seen: answer) as server:
        config = OperatorConfig(channels={"sms": {"twilio": {
            "account_sid": "AC123", "auth_token": TWILIO_TOKEN, "from": "+14155550000",
            "base_url": server.url("")}}})
        async with Runtime(tmp_path, clock=clock, config=config) as runtime:  # private: no
            cio = runtime.engine("tom")
            await seed(cio)
            out = await cio.send("ada", "sms", template_id="hello-sms")
            message = await settled(runtime, out.message_id)
    assert (message.status, message.provider, message.provider_message_id) == (
        "sent", "twilio", "SM1")
    [seen] = server.requests
    assert seen.target == "/2010-04-01/Accounts/AC123/Messages.json"
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(
        f"AC123:{TWILIO_TOKEN}".encode()).decode()
    assert b"Body=Hi+Ada" in seen.body
    assert TWILIO_TOKEN not in message.model_dump_json()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "[::1]"])
async def test_an_agent_may_not_point_smtp_at_a_private_host(
    runtime: Runtime, client: Client, db: Path, host: str,
) -> None:
    await seed(runtime.engine("tom"))
    with unchanged(db):
        result = await client.call_tool("channels_configure", {
            "channel": "email", "provider": "smtp",
            "settings": {"host": host, "security": "none", "from": "a@example.com"}})
    message = tool_error_message(result, "channels_configure")
    assert "settings.host: refused" in message and "private destinations" in message
    assert "--allow-private-destinations" in message


async def test_an_agent_may_not_point_twilio_at_a_loopback_base_url(
    runtime: Runtime, db: Path,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    with unchanged(db), pytest.raises(InvalidInput, match="settings.base_url"):
        await cio.channels_configure("sms", "twilio", {
            "account_sid": "AC1", "auth_token": "t", "from": "+14155550000",
            "base_url": "http://127.0.0.1:9/"})


@pytest.mark.parametrize(("channel", "provider", "settings", "expected"), [
    ("email", "twilio", {}, "provider 'twilio' does not serve email"),
    ("email", "smtp", {"host": "mail.example.com"}, "smtp needs the settings ['from']"),
    ("email", "smtp", {"host": "mail.example.com", "from": "a@example.com", "colour": 1},
     "unknown smtp settings ['colour']"),
    ("email", "smtp", {"host": "mail.example.com", "from": "a@example.com", "port": 70000},
     "settings.port must be a port number"),
    ("email", "smtp", {"host": "mail.example.com", "from": "a@example.com",
                       "security": "ssl"}, "settings.security must be one of"),
    ("in_app", "capture", {}, "does not serve in_app"),
    ("fax", "capture", {}, "channel is 'fax'"),
    ("sms", 5, {}, "provider must be a string"),
])
async def test_bad_channel_settings_are_errors_that_store_nothing(
    runtime: Runtime, db: Path, channel: str, provider: Any, settings: dict[str, Any],
    expected: str,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    with unchanged(db), pytest.raises(EngineError) as raised:
        await cio.channels_configure(channel, provider, settings)
    assert expected in raised.value.message


async def test_capture_turns_a_configured_channel_back_to_keeping_the_bytes(
    private_runtime: Runtime,
) -> None:
    cio = private_runtime.engine("tom")
    await seed(cio)
    await cio.channels_configure("email", "smtp", {"host": "127.0.0.1", "port": 9,
                                                   "security": "none",
                                                   "from": "a@example.com"})
    listed = await cio.channels_configure("email", "capture", {"from": "Shop <s@example.com>"})
    assert [(c.provider, c.source) for c in listed.configured] == [("capture", "agent")]
    out = await cio.send("ada", "email", template_id="welcome")
    message = await settled(private_runtime, out.message_id)
    assert message.status == "captured"
    assert "From: Shop <s@example.com>" in message.captures[0].text
