"""Unsubscribe links: the token in a sent message's List-Unsubscribe header, verified with
the agent's secret, takes the person out of the message's topic (or all marketing)."""

from __future__ import annotations

import re

import anyio
import pytest

from server.runtime import Runtime
from tools.api import CustomerIO
from tools.core.errors import InvalidInput
from tools.delivery.models import Message

pytestmark = pytest.mark.anyio


async def _final(cio: CustomerIO, message_id: str) -> Message:
    with anyio.fail_after(20):
        while (message := await cio.messages_get(message_id)).status in ("queued", "sending"):
            await anyio.sleep(0.01)
    return message


async def _token_of_sent(cio: CustomerIO, topic: str | None) -> tuple[str, str]:
    await cio.identify("ada", {"email": "ada@example.com"})
    await cio.templates_create("news", "email", subject="News", body="<p>{{ unsubscribe_url }}</p>")
    queued = await cio.send("ada", "email", template_id="news", topic=topic)
    message = await _final(cio, queued.message_id)
    assert message.status == "captured", message
    found = re.search(r"List-Unsubscribe: <[^>]*/unsubscribe/([A-Za-z0-9_-]+)>",
                      message.captures[0].text)
    assert found, message.captures[0].text[:500]
    return found.group(1), queued.message_id


async def test_a_topic_link_leaves_the_topic_and_the_message_records_it(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await cio.topics_create("newsletter", "Newsletter", default="opt_out")
    token, message_id = await _token_of_sent(cio, "newsletter")
    done = await cio.unsubscribe_with_token(token)
    assert (done.user_id, done.message_id, done.topic) == ("ada", message_id, "newsletter")
    preferences = await cio.preferences_get("ada")
    assert [(t.topic_id, t.choice, t.subscribed) for t in preferences.topics] == [
        ("newsletter", False, False)]
    assert preferences.unsubscribed is False
    assert (await cio.messages_get(message_id)).transitions[-1].status == "unsubscribed"


async def test_a_link_without_topic_unsubscribes_from_all_marketing(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    token, _ = await _token_of_sent(cio, None)
    await cio.unsubscribe_with_token(token)
    assert (await cio.preferences_get("ada")).unsubscribed is True
    assert (await cio.get_person("ada")).attributes["unsubscribed"] is True


async def test_an_altered_or_foreign_token_changes_nothing(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    token, _ = await _token_of_sent(cio, None)
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(InvalidInput):
        await cio.unsubscribe_with_token(altered)
    other = runtime.engine("sam")
    await other.identify("ada", {"email": "ada@example.com"})
    with pytest.raises(InvalidInput):  # signed with tom's secret, not sam's
        await other.unsubscribe_with_token(token)
    assert (await cio.preferences_get("ada")).unsubscribed is False
