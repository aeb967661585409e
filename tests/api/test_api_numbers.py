"""The numeric domain: integers are 64-bit (what SQLite stores), floats finite. A number
outside it is refused where it enters, with the path to it, and stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.errors import InvalidInput

pytestmark = pytest.mark.anyio
BIG = 2**63
HUGE = 10**5000  # more digits than Python writes by default


@pytest.mark.parametrize("value", [BIG, -BIG - 1, HUGE, [1, {"deep": BIG}]],
                         ids=["2**63", "-2**63-1", "5000 digits", "nested"])
async def test_an_attribute_outside_the_integer_range_is_refused(
        cio: CustomerIO, db_path: Path, value: object) -> None:
    await cio.identify("ada", {"plan": "pro"})
    with unchanged(db_path), pytest.raises(InvalidInput) as error:
        await cio.identify("ada", {"n": value})
    assert error.value.field is not None and error.value.field.startswith("attributes.n")
    assert "64-bit integer range" in error.value.message


async def test_the_largest_integers_are_kept_exactly(cio: CustomerIO) -> None:
    await cio.identify("ada", {"top": BIG - 1, "bottom": -BIG, "big_float": 1e300})
    person = await cio.get_person("ada")
    assert person.attributes["top"] == BIG - 1 and person.attributes["bottom"] == -BIG


async def test_event_properties_and_device_attributes_are_checked_too(
        cio: CustomerIO, db_path: Path) -> None:
    await cio.identify("ada")
    with unchanged(db_path):
        with pytest.raises(InvalidInput, match=r"properties\.items\[1\]\.qty"):
            await cio.track("order", user_id="ada", properties={"items": [{}, {"qty": BIG}]})
        with pytest.raises(InvalidInput, match="64-bit"):
            await cio.add_device("ada", "tok", "ios", {"build": HUGE})


async def test_one_big_number_in_a_batch_fails_only_its_own_operation(cio: CustomerIO) -> None:
    result = await cio.batch([
        {"action": "identify", "user_id": "ada", "attributes": {"n": 1}},
        {"action": "identify", "user_id": "bob", "attributes": {"n": BIG}},
        {"action": "track", "user_id": "cy", "name": "x", "properties": {"n": -BIG - 1}},
        {"action": "track", "user_id": "ada", "name": "x", "properties": {"n": BIG - 1}}])
    assert (result.succeeded, result.failed) == (2, 2)
    assert [(f.index, f.reason) for f in result.failures] == [(1, "invalid_input"),
                                                              (2, "invalid_input")]
    assert (await cio.get_person("ada")).total_events == 1


@pytest.mark.parametrize("rules", [
    {"attribute": "n", "operator": "eq", "value": BIG},
    {"attribute": "n", "operator": "in", "value": [1, HUGE]},
    {"event": "x", "properties": [{"property": "n", "operator": "gt", "value": -BIG - 1}]},
], ids=["eq", "in", "property filter"])
async def test_a_rule_value_outside_the_integer_range_is_refused(
        cio: CustomerIO, rules: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="64-bit integer range"):
        await cio.segments_preview(rules)
    with pytest.raises(InvalidInput, match="64-bit integer range"):
        await cio.segments_create("Big", rules)


async def test_over_mcp_a_big_number_is_a_tool_error_not_a_crash(client: Client) -> None:
    for tool, arguments in (
            ("identify", {"user_id": "ada", "attributes": {"n": BIG}}),
            ("segments_preview", {"rules": {"attribute": "n", "operator": "eq", "value": BIG}})):
        result = await client.call_tool(tool, arguments)
        text = result.content[0].text  # type: ignore[union-attr]
        assert result.is_error and "invalid_input" in text and "64-bit" in text, text
