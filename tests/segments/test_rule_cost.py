"""The cost bound of a rule: the work one person costs it (conditions x filters x list
values) is bounded, like the render budget of templates, so no rule can make a preview or
a segment run for minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.errors import LimitExceeded
from tools.core.segments.nodes import MAX_RULE_COST, rule_cost
from tools.core.segments.rules import parse_rule

pytestmark = pytest.mark.anyio


def costly(conditions: int, filters: int, values: int) -> dict[str, Any]:
    return {"and": [{"event": f"e{i}", "properties": [
        {"property": f"p{j}", "operator": "in", "value": list(range(values))}
        for j in range(filters)]} for i in range(conditions)]}


@pytest.mark.parametrize("conditions, filters, values, cost", [
    (1, 0, 0, 4), (1, 1, 10, 6.2), (10, 5, 100, 240), (100, 1, 1, 602.0),
    (100, 0, 0, 400)])
def test_rules_within_the_bound_are_accepted(conditions: int, filters: int, values: int,
                                             cost: float) -> None:
    rule = parse_rule(costly(conditions, filters, values))
    assert rule_cost(rule.root) == pytest.approx(cost)


async def test_the_rule_that_took_34_seconds_is_refused_before_any_work(
        cio: CustomerIO, tmp_path: Path) -> None:
    await cio.identify("ada")
    rules = costly(100, 20, 1000)
    with pytest.raises(LimitExceeded) as error:
        await cio.segments_preview(rules)
    assert "44,400 units" in error.value.message and f"{MAX_RULE_COST:,}" in error.value.message
    assert "split the rule into segments" in error.value.message
    with unchanged(tmp_path / "tom.sqlite3"), pytest.raises(LimitExceeded):
        await cio.segments_create("Costly", rules)


def test_a_stored_rule_saved_before_the_bound_still_reads() -> None:
    rules = costly(100, 20, 1000)
    with pytest.raises(LimitExceeded):
        parse_rule(rules)
    assert len(parse_rule(rules, bound_cost=False).canonical["and"]) == 100
