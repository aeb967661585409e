"""The frequency cap: at most `cap` marketing messages per person per period; over it a
message is undeliverable; transactional ones are never capped."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import seed, settled
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput

pytestmark = pytest.mark.anyio

OVER = "over the frequency cap of 1 marketing messages per "


async def test_a_second_marketing_message_in_the_period_is_undeliverable(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    assert await cio.delivery_frequency_cap(cap=1, period="1d") == {"cap": 1,
                                                                  "period_seconds": 86400.0}
    first = await cio.send("ada", "email", template_id="welcome")
    assert (await settled(runtime, first.message_id)).status == "captured"
    second = await cio.send("ada", "sms", template_id="hello-sms")
    assert second.status == "undeliverable"
    assert second.reason is not None and second.reason.startswith(OVER)
    receipt = await cio.send("ada", "email", template_id="welcome", transactional=True)
    assert (await settled(runtime, receipt.message_id)).status == "captured"
    clock.advance(86_401)
    third = await cio.send("ada", "email", template_id="welcome")
    assert (await settled(runtime, third.message_id)).status == "captured"


async def test_the_cap_counts_each_person_separately(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("bo", {"email": "bo@example.com", "first_name": "Bo"})
    await cio.delivery_frequency_cap(cap=1, period="1d")
    for user in ("ada", "bo"):
        out = await cio.send(user, "email", template_id="welcome")
        assert (await settled(runtime, out.message_id)).status == "captured", user


async def test_a_capped_message_falls_back_to_no_other_channel(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.delivery_frequency_cap(cap=1, period="1d")
    await cio.send("ada", "email", template_id="welcome")
    out = await cio.send("ada", "email", template_id="welcome", fallback=[
        {"channel": "sms", "template_id": "hello-sms"}])
    assert (out.status, out.channel) == ("undeliverable", "sms")


async def test_removing_the_cap_lets_every_message_through(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.delivery_frequency_cap(cap=1, period="1d")
    await cio.send("ada", "email", template_id="welcome")
    assert await cio.delivery_frequency_cap() == {"cap": None, "period_seconds": None}
    out = await cio.send("ada", "email", template_id="welcome")
    assert (await settled(runtime, out.message_id)).status == "captured"


@pytest.mark.parametrize(("cap", "period", "expected"), [
    (1, None, "cap needs a period"),
    (None, "1d", "period is set but cap is not"),
    (0, "1d", "cap must be a whole number from 1 to 1000"),
    (True, "1d", "cap must be a whole number"),
    (1, "30s", "period"),
    (1, "1y", "period"),
])
async def test_a_bad_cap_is_an_error_that_stores_nothing(
    runtime: Runtime, db: Path, cap: object, period: object, expected: str,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    with unchanged(db), pytest.raises(InvalidInput, match=expected):
        await cio.delivery_frequency_cap(cap=cap, period=period)  # type: ignore[arg-type]


async def test_a_scheduled_message_that_just_went_out_counts_against_the_cap(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.delivery_frequency_cap(cap=1, period="1d")
    scheduled = await cio.send("ada", "email", template_id="welcome",
                               send_at=clock.now() + 2 * 86_400)
    clock.advance(2 * 86_400 + 1)
    runtime.scheduler.kick()
    assert (await settled(runtime, scheduled.message_id)).status == "captured"
    # one marketing message went out a second ago: a second one today is over the cap
    second = await cio.send("ada", "email", template_id="welcome")
    assert second.status == "undeliverable"


async def test_a_message_scheduled_for_later_does_not_use_up_todays_cap(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.delivery_frequency_cap(cap=1, period="1d")
    await cio.send("ada", "email", template_id="welcome", send_at=clock.now() + 3 * 86_400)
    today = await cio.send("ada", "email", template_id="welcome")
    assert today.status == "queued", today.reason
