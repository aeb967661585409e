"""Preferences decide marketing sends: channel opt-outs, the global unsubscribe (an
attribute segments see), topics with their defaults; checked again when a message is
claimed. Transactional messages ignore them."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import secret_of, seed, settled, statuses
from tests.segments.cases import attr
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.delivery.tokens import read_unsubscribe_token
from tools.core.errors import EngineError, NotFound

pytestmark = pytest.mark.anyio

UNSUBSCRIBED = "unsubscribed from all marketing messages"


async def ready(runtime: Runtime) -> CustomerIO:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.add_device("ada", "tok-1", "android")
    return cio


async def test_an_email_opt_out_drops_marketing_email_but_not_transactional_or_sms(
    runtime: Runtime,
) -> None:
    cio = await ready(runtime)
    prefs = await cio.preferences_update("ada", channels={"email": False})
    assert prefs.channels == {"email": False, "sms": True, "push": True, "in_app": True,
                              "webhook": True}
    dropped = await cio.send("ada", "email", template_id="welcome")
    assert (dropped.status, dropped.reason) == ("dropped", "opted out of email")
    message = await cio.messages_get(dropped.message_id)
    assert statuses(message) == [("queued", "email"), ("skipped", "email"),
                                 ("dropped", "email")]
    assert message.captures == []
    receipt = await cio.send("ada", "email", template_id="welcome", transactional=True)
    assert (await settled(runtime, receipt.message_id)).status == "captured"
    sms = await cio.send("ada", "sms", template_id="hello-sms")
    assert (await settled(runtime, sms.message_id)).status == "captured"


async def test_opting_back_in_to_a_channel_lets_marketing_through(runtime: Runtime) -> None:
    cio = await ready(runtime)
    await cio.preferences_update("ada", channels={"email": False})
    await cio.preferences_update("ada", channels={"email": None})
    assert (await cio.preferences_get("ada")).channels["email"] is True
    queued = await cio.send("ada", "email", template_id="welcome")
    assert (await settled(runtime, queued.message_id)).status == "captured"


async def test_a_global_unsubscribe_drops_marketing_except_in_app_and_transactional(
    runtime: Runtime,
) -> None:
    cio = await ready(runtime)
    prefs = await cio.preferences_update("ada", unsubscribed=True)
    assert prefs.unsubscribed is True
    for channel, template in (("email", "welcome"), ("sms", "hello-sms"),
                              ("push", "hello-push")):
        out = await cio.send("ada", channel, template_id=template)
        assert (out.status, out.reason) == ("dropped", UNSUBSCRIBED), channel
    inbox = await cio.send("ada", "in_app", template_id="order-inbox", data={"order": "A1"})
    assert (await settled(runtime, inbox.message_id)).status == "delivered"
    for channel, template in (("email", "welcome"), ("sms", "hello-sms"),
                              ("push", "hello-push")):
        out = await cio.send("ada", channel, template_id=template, transactional=True)
        assert (await settled(runtime, out.message_id)).status == "captured", channel


async def test_a_global_unsubscribe_sets_the_attribute_that_segments_see(
    runtime: Runtime,
) -> None:
    cio = await ready(runtime)
    segment = await cio.segments_create("Unsubscribed", attr("unsubscribed", "eq", True))
    assert segment.member_count == 0
    await cio.preferences_update("ada", unsubscribed=True)
    person = await cio.get_person("ada")
    assert person.attributes["unsubscribed"] is True
    assert [s.segment_id for s in person.segments] == [segment.segment_id]
    members = await cio.segments_members(segment.segment_id)
    assert [m.user_id for m in members.members] == ["ada"]
    await cio.preferences_update("ada", unsubscribed=False)
    assert (await cio.get_person("ada")).attributes["unsubscribed"] is False
    assert (await cio.segments_members(segment.segment_id)).members == []
    queued = await cio.send("ada", "email", template_id="welcome")
    assert (await settled(runtime, queued.message_id)).status == "captured"


async def test_an_opt_in_topic_goes_only_to_people_who_opted_in(runtime: Runtime) -> None:
    cio = await ready(runtime)
    created = await cio.topics_create("news", "Newsletter", "opt_in")
    assert created.created is True
    out = await cio.send("ada", "email", template_id="welcome", topic="news")
    assert out.status == "dropped"
    assert out.reason == "topic 'news' is opt-in and the person has not opted in"
    await cio.preferences_update("ada", topics={"news": True})
    out = await cio.send("ada", "email", template_id="welcome", topic="news")
    message = await settled(runtime, out.message_id)
    assert message.status == "captured" and message.topic == "news"


async def test_an_opt_out_topic_goes_until_the_person_opts_out(runtime: Runtime) -> None:
    cio = await ready(runtime)
    await cio.topics_create("tips", "Tips", "opt_out")
    out = await cio.send("ada", "email", template_id="welcome", topic="tips")
    assert (await settled(runtime, out.message_id)).status == "captured"
    await cio.preferences_update("ada", topics={"tips": False})
    out = await cio.send("ada", "email", template_id="welcome", topic="tips")
    assert (out.status, out.reason) == ("dropped", "opted out of topic 'tips'")
    receipt = await cio.send("ada", "email", template_id="welcome", topic="tips",
                             transactional=True)
    assert (await settled(runtime, receipt.message_id)).status == "captured"


async def test_the_unsubscribe_link_of_a_topic_message_names_the_topic(
    runtime: Runtime, db: Path,
) -> None:
    cio = await ready(runtime)
    await cio.topics_create("tips", "Tips", "opt_out")
    out = await cio.send("ada", "email", template_id="welcome", topic="tips")
    message = await settled(runtime, out.message_id)
    assert message.rendered is not None
    body = str(message.rendered["body"])
    token = body.split("/unsubscribe/", 1)[1].split('"', 1)[0]
    read = read_unsubscribe_token(secret_of(db), token)
    assert (read.message_id, read.topic) == (out.message_id, "tips")


async def test_preferences_get_shows_the_effective_subscription_of_each_topic(
    runtime: Runtime,
) -> None:
    cio = await ready(runtime)
    await cio.topics_create("news", "Newsletter", "opt_in")
    await cio.topics_create("tips", "Tips", "opt_out")

    async def topics() -> dict[str, tuple[bool | None, bool]]:
        prefs = await cio.preferences_get("ada")
        return {t.topic_id: (t.choice, t.subscribed) for t in prefs.topics}

    assert await topics() == {"news": (None, False), "tips": (None, True)}
    updated = await cio.preferences_update("ada", topics={"news": True, "tips": False})
    assert {t.topic_id: (t.choice, t.subscribed) for t in updated.topics} == {
        "news": (True, True), "tips": (False, False)}
    await cio.preferences_update("ada", topics={"news": None, "tips": None})
    assert await topics() == {"news": (None, False), "tips": (None, True)}
    out = await cio.send("ada", "email", template_id="welcome", topic="tips")
    assert (await settled(runtime, out.message_id)).status == "captured"


async def test_an_unknown_topic_in_preferences_update_is_an_error_that_stores_nothing(
    runtime: Runtime, db: Path,
) -> None:
    cio = await ready(runtime)
    await cio.topics_create("news", "Newsletter")
    with unchanged(db), pytest.raises(NotFound, match="topic 'nope' not found"):
        await cio.preferences_update("ada", unsubscribed=True, channels={"sms": False},
                                     topics={"news": True, "nope": True})


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"user_id": "nobody", "unsubscribed": True}, "no person with user_id 'nobody'"),
    ({"user_id": "ada"}, "nothing to update"),
    ({"user_id": "ada", "channels": {"fax": False}}, "the allowed names are"),
    ({"user_id": "ada", "channels": {"sms": "no"}}, "must be true (subscribed)"),
    ({"user_id": "ada", "unsubscribed": "yes"}, "unsubscribed must be true or false"),
    ({"user_id": "ada", "topics": {"bad name!": True}}, "not a name"),
])
async def test_bad_preferences_are_errors_that_store_nothing(
    runtime: Runtime, db: Path, kwargs: dict[str, object], expected: str,
) -> None:
    cio = await ready(runtime)
    with unchanged(db), pytest.raises(EngineError) as raised:
        await cio.preferences_update(**kwargs)  # type: ignore[arg-type]
    assert expected in raised.value.message


async def test_a_preference_changed_after_queueing_drops_the_message_when_claimed(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = await ready(runtime)
    out = await cio.send("ada", "email", template_id="welcome", send_at=clock.now() + 3600)
    assert out.status == "queued"
    await cio.preferences_update("ada", channels={"email": False})
    assert (await cio.messages_get(out.message_id)).status == "queued"
    clock.advance(3601)
    runtime.scheduler.kick()
    message = await settled(runtime, out.message_id)
    assert (message.status, message.reason) == ("dropped", "opted out of email")
    assert statuses(message) == [("queued", "email"), ("skipped", "email"),
                                 ("dropped", "email")]
    assert message.captures == []


async def test_a_merge_keeps_the_secondarys_preferences_when_the_primary_has_none(
    runtime: Runtime,
) -> None:
    cio = await ready(runtime)
    await cio.identify("ada-2", {"email": "ada2@example.com"})
    await cio.preferences_update("ada-2", channels={"sms": False})
    await cio.merge_people("ada", "ada-2")
    assert (await cio.preferences_get("ada")).channels["sms"] is False
    out = await cio.send("ada", "sms", template_id="hello-sms")
    assert (out.status, out.reason) == ("dropped", "opted out of sms")


async def test_a_merge_adds_the_secondarys_choices_where_the_primary_made_none(
    runtime: Runtime,
) -> None:
    cio = await ready(runtime)
    await cio.topics_create("news", "Newsletter", "opt_out")
    await cio.identify("ada-2", {"email": "ada2@example.com"})
    await cio.preferences_update("ada", channels={"email": False})
    await cio.preferences_update("ada-2", channels={"sms": False, "email": True},
                                 topics={"news": False})
    await cio.merge_people("ada", "ada-2")
    prefs = await cio.preferences_get("ada")
    assert prefs.channels["email"] is False  # the primary's own choice stays
    assert prefs.channels["sms"] is False
    assert [(t.topic_id, t.choice) for t in prefs.topics] == [("news", False)]
