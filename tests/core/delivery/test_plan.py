"""Fallback plans: ordered channels to try after the primary one."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.delivery.plan import FallbackStep, check_fallback
from tools.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("value", "primary", "steps"),
    [
        (None, "email", []),
        ([], "email", []),
        ([{"channel": "sms"}], "email", [FallbackStep("sms")]),
        ([{"channel": "sms", "template_id": "sms-welcome"}, {"channel": "push"}], "email",
         [FallbackStep("sms", "sms-welcome"), FallbackStep("push")]),
        ([{"channel": "email", "template_id": None}], "push", [FallbackStep("email")]),
        ([{"channel": c} for c in ("sms", "push", "in_app", "webhook")], "email",
         [FallbackStep(c) for c in ("sms", "push", "in_app", "webhook")]),
    ],
)
def test_a_fallback_plan_is_the_ordered_steps(
    value: Any, primary: str, steps: list[FallbackStep]
) -> None:
    assert check_fallback(value, primary) == steps


@pytest.mark.parametrize(
    ("value", "field", "says"),
    [
        ({"channel": "sms"}, "fallback", "must be a list"),
        ("sms", "fallback", "must be a list"),
        ([{"channel": c} for c in ("sms", "push", "in_app", "webhook", "sms")], "fallback",
         "at most 4"),
        (["sms"], "fallback[0]", "must be an object"),
        ([{"channel": "sms"}, None], "fallback[1]", "must be an object"),
        ([{}], "fallback[0].channel", "write one of email, sms, push, in_app, webhook"),
        ([{"template_id": "t"}], "fallback[0].channel", "has no channel"),
        ([{"channel": "sms"}, {"channel": "fax"}], "fallback[1].channel",
         "write one of email, sms"),
        ([{"channel": 3}], "fallback[0].channel", "write one of"),
        ([{"channel": "SMS"}], "fallback[0].channel", "write one of"),
        ([{"channel": "email"}], "fallback[0].channel", "the primary channel"),
        ([{"channel": "sms"}, {"channel": "push"}, {"channel": "sms"}],
         "fallback[2].channel", "repeats 'sms'"),
        ([{"channel": "sms", "template_id": ""}], "fallback[0].template_id", "1-64"),
        ([{"channel": "sms", "template_id": "a b"}], "fallback[0].template_id", "1-64"),
        ([{"channel": "sms", "template_id": 7}], "fallback[0].template_id", "1-64"),
        ([{"channel": "sms", "template_id": "t" * 65}], "fallback[0].template_id", "1-64"),
        ([{"channel": "sms", "delay": "1h"}], "fallback[0]", "unknown key 'delay'"),
    ],
)
def test_a_bad_fallback_plan_is_refused_naming_the_step(
    value: Any, field: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        check_fallback(value, "email")
    assert info.value.field == field
    assert says in info.value.message
