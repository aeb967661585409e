"""Workflow definitions: what an agent writes, validated in one go into the frozen model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.journeys.definition import (
    References,
    parse_workflow,
    references,
    to_json,
    walk,
)
from tools.core.journeys.model import (
    BranchStep,
    Cohort,
    DelayStep,
    EmitEventStep,
    ExitStep,
    Goal,
    SendStep,
    Settings,
    SplitStep,
    Step,
    TimeWindowStep,
    Trigger,
    UpdateAttributesStep,
    WaitUntilStep,
    WebhookStep,
    Workflow,
)

API = {"type": "api"}
EXIT = {"type": "exit"}
DELAY = {"type": "delay", "duration": "1d"}
PRO = {"attribute": "plan", "operator": "eq", "value": "pro"}


def define(steps: Any = None, trigger: Any = None, settings: Any = None,
           workflow_id: Any = "onboarding", name: Any = "Onboarding") -> Workflow:
    return parse_workflow(workflow_id, name, API if trigger is None else trigger,
                          [EXIT] if steps is None else steps, settings)


def only_step(raw: dict[str, Any]) -> Step:
    return define([raw]).steps[0]


# --- good definitions ----------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "trigger"), [
    (API, Trigger("api")),
    ({"type": "event", "event": "signup"}, Trigger("event", event="signup")),
    ({"type": "event", "event": "signup", "properties": [
        {"property": "plan", "operator": "eq", "value": "pro"},
        {"property": "coupon", "operator": "exists"}]},
     Trigger("event", event="signup", properties=(
         {"property": "plan", "operator": "eq", "value": "pro"},
         {"property": "coupon", "operator": "exists"}))),
    ({"type": "event", "event": "signup", "properties": None}, Trigger("event", event="signup")),
    ({"type": "segment_entered", "segment_id": "vip"},
     Trigger("segment_entered", segment_id="vip")),
    ({"type": "segment_exited", "segment_id": "trial-users"},
     Trigger("segment_exited", segment_id="trial-users")),
    ({"type": "attribute_changed", "attribute": "plan"},
     Trigger("attribute_changed", attribute="plan")),
    ({"type": "attribute_changed", "attribute": "plan", "from": None, "to": "pro"},
     Trigger("attribute_changed", attribute="plan", from_value=None, to_value="pro")),
    ({"type": "date", "attribute": "renewal_date"},
     Trigger("date", attribute="renewal_date")),
    ({"type": "date", "attribute": "renewal_date", "offset": "-3d", "at": "09:30",
      "timezone": "Europe/Paris"},
     Trigger("date", attribute="renewal_date", offset=-3 * 86_400, at_time=570,
             timezone="Europe/Paris")),
    ({"type": "date", "attribute": "birthday", "offset": "+1h30m", "at": "00:00"},
     Trigger("date", attribute="birthday", offset=5400, at_time=0)),
    ({"type": "date", "attribute": "birthday", "offset": "-0s"},
     Trigger("date", attribute="birthday")),
])
def test_each_trigger_type_becomes_its_model(raw: dict[str, Any], trigger: Trigger) -> None:
    assert define(trigger=raw).trigger == trigger


def test_attribute_changed_tells_a_from_null_apart_from_no_from() -> None:
    given_null = define(trigger={"type": "attribute_changed", "attribute": "plan", "from": None})
    left_out = define(trigger={"type": "attribute_changed", "attribute": "plan"})
    assert given_null.trigger.has_from() and not given_null.trigger.has_to()
    assert not left_out.trigger.has_from()


@pytest.mark.parametrize(("raw", "step"), [
    ({"type": "send", "channel": "email", "template_id": "welcome"},
     SendStep("s0", "email", "welcome")),
    ({"id": "hello", "type": "send", "channel": "email", "template_id": "welcome",
      "fallback": [{"channel": "sms", "template_id": "welcome-sms"},
                   {"channel": "push", "template_id": "welcome-push"}],
      "topic": "news", "transactional": True},
     SendStep("hello", "email", "welcome", (("sms", "welcome-sms"), ("push", "welcome-push")),
              "news", True)),
    ({"type": "send", "channel": "in_app", "template_id": "banner", "fallback": None,
      "topic": None}, SendStep("s0", "in_app", "banner")),
    ({"type": "delay", "duration": "1s"}, DelayStep("s0", 1)),
    ({"type": "delay", "duration": "1h30m"}, DelayStep("s0", 5400)),
    ({"type": "delay", "duration": "365d"}, DelayStep("s0", 365 * 86_400)),
    ({"type": "wait_until", "event": "purchase", "max_wait": "3d"},
     WaitUntilStep("s0", 3 * 86_400, event="purchase")),
    ({"type": "wait_until", "event": "purchase", "max_wait": "1m", "on_timeout": "exit",
      "properties": [{"property": "total", "operator": "gt", "value": 10}]},
     WaitUntilStep("s0", 60, event="purchase", on_timeout="exit",
                   properties=({"property": "total", "operator": "gt", "value": 10},))),
    ({"type": "wait_until", "condition": PRO, "max_wait": "2w", "on_timeout": "continue"},
     WaitUntilStep("s0", 14 * 86_400, condition=PRO)),
    ({"type": "wait_until", "event": "purchase", "max_wait": "1d",
      "on_timeout": [{"type": "send", "channel": "sms", "template_id": "nudge"}]},
     WaitUntilStep("s0", 86_400, event="purchase", on_timeout="branch",
                   timeout=(SendStep("s0-timeout-0", "sms", "nudge"),))),
    ({"type": "time_window", "start": "09:00", "end": "17:00"},
     TimeWindowStep("s0", frozenset(range(7)), 540, 1020)),
    ({"type": "time_window", "days": ["sat", "mon"], "start": "22:00", "end": "24:00",
      "timezone": "America/New_York"},
     TimeWindowStep("s0", frozenset({0, 5}), 1320, 1440, "America/New_York", False)),
    ({"type": "time_window", "days": ["fri"], "start": "08:00", "end": "08:01",
      "timezone": "person"}, TimeWindowStep("s0", frozenset({4}), 480, 481)),
    ({"type": "branch", "condition": PRO, "then": [EXIT]},
     BranchStep("s0", PRO, then=(ExitStep("s0-then-0"),))),
    ({"type": "branch", "condition": {"segment": "vip"}, "then": [], "else": [DELAY]},
     BranchStep("s0", {"segment": "vip", "operator": "in"},
                otherwise=(DelayStep("s0-else-0", 86_400),))),
    ({"type": "split", "cohorts": [{"name": "A", "weight": 50, "steps": [EXIT]},
                                   {"name": "control", "weight": 12.5}]},
     SplitStep("s0", (Cohort("A", 50, (ExitStep("s0-cohort-0-0"),)), Cohort("control", 12.5)))),
    ({"type": "split", "cohorts": [{"name": "A"}, {"name": "B", "steps": None}]},
     SplitStep("s0", (Cohort("A", 1), Cohort("B", 1)))),
    ({"type": "update_attributes", "set": {"stage": "{{ event.plan | upcase }}", "score": 3,
                                           "tags": ["a"], "timezone": "Europe/Paris"}},
     UpdateAttributesStep("s0", {"stage": "{{ event.plan | upcase }}", "score": 3,
                                 "tags": ["a"], "timezone": "Europe/Paris"})),
    ({"type": "update_attributes", "unset": ["trial_ends"]},
     UpdateAttributesStep("s0", unset=("trial_ends",))),
    ({"type": "webhook", "template_id": "crm-sync"}, WebhookStep("s0", "crm-sync")),
    ({"type": "emit_event", "name": "onboarded"}, EmitEventStep("s0", "onboarded")),
    ({"type": "emit_event", "name": "onboarded", "properties": {"via": "journey"}},
     EmitEventStep("s0", "onboarded", {"via": "journey"})),
    ({"type": "exit"}, ExitStep("s0")),
    ({"id": "bye", "type": "exit"}, ExitStep("bye")),
])
def test_each_step_type_becomes_its_model(raw: dict[str, Any], step: Step) -> None:
    assert only_step(raw) == step


@pytest.mark.parametrize(("raw", "expected"), [
    (None, Settings()),
    ({}, Settings()),
    ({"reentry": "once"}, Settings()),
    ({"reentry": "always"}, Settings("always")),
    ({"reentry": "7d"}, Settings("interval", 7 * 86_400)),
    ({"goal": {"event": "purchase"}}, Settings(goal=Goal(event="purchase"))),
    ({"goal": {"condition": PRO, "exit": False}}, Settings(goal=Goal(condition=PRO, exit=False))),
    ({"exit_on_trigger_exit": False}, Settings()),
])
def test_settings_become_their_model(raw: Any, expected: Settings) -> None:
    assert define(settings=raw).settings == expected


def test_exit_on_trigger_exit_goes_with_a_segment_entered_trigger() -> None:
    workflow = define(trigger={"type": "segment_entered", "segment_id": "vip"},
                      settings={"exit_on_trigger_exit": True})
    assert workflow.settings.exit_on_trigger_exit


NESTED = [
    {"type": "send", "channel": "email", "template_id": "welcome"},
    {"type": "branch", "condition": PRO, "then": [
        {"type": "split", "cohorts": [
            {"name": "A", "weight": 1, "steps": [
                {"type": "wait_until", "event": "purchase", "max_wait": "2d", "on_timeout": [
                    {"type": "send", "channel": "sms", "template_id": "nudge"}]}]},
            {"name": "B", "weight": 1, "steps": [{"id": "b-exit", "type": "exit"}]}]}],
     "else": [DELAY, EXIT]},
]


def test_nested_steps_get_ids_from_their_paths() -> None:
    ids = [step.id for step in walk(define(NESTED).steps)]
    assert ids == ["s0", "s1", "s1-then-0", "s1-then-0-cohort-0-0",
                   "s1-then-0-cohort-0-0-timeout-0", "b-exit", "s1-else-0", "s1-else-1"]


def test_a_deep_generated_id_is_shortened_to_64_characters() -> None:
    steps: list[Any] = [EXIT]
    for _ in range(9):
        steps = [{"type": "wait_until", "event": "x", "max_wait": "1d", "on_timeout": steps}]
    deepest = list(walk(define(steps).steps))[-1]
    assert len(deepest.id) <= 64 and deepest.id.startswith("s0-timeout-0-timeout-0")


def test_two_hundred_steps_and_ten_levels_are_accepted() -> None:
    assert len(define([DELAY] * 200).steps) == 200
    steps: list[Any] = [EXIT]
    for _ in range(9):
        steps = [{"type": "branch", "condition": PRO, "then": steps}]
    assert len(list(walk(define(steps).steps))) == 10


# --- bad definitions -----------------------------------------------------------------------

def step_with(**fields: Any) -> dict[str, Any]:
    return {"steps": [fields]}


def nest(depth: int) -> list[Any]:
    steps: list[Any] = [EXIT]
    for _ in range(depth - 1):
        steps = [{"type": "branch", "condition": PRO, "then": steps}]
    return steps


SEND = {"type": "send", "channel": "email", "template_id": "welcome"}
WAIT = {"type": "wait_until", "event": "purchase", "max_wait": "1d"}
WINDOW = {"type": "time_window", "start": "09:00", "end": "17:00"}
SPLIT_B = {"name": "B", "weight": 1}

BAD: list[tuple[dict[str, Any], str, str]] = [
    # the workflow
    ({"workflow_id": ""}, "workflow_id", "1-64 letters"),
    ({"workflow_id": "on boarding"}, "workflow_id", "1-64 letters"),
    ({"workflow_id": None}, "workflow_id", "1-64 letters"),
    ({"name": ""}, "name", "must not be empty"),
    ({"name": "x" * 201}, "name", "at most 200"),
    ({"name": 5}, "name", "must be a string"),
    ({"steps": []}, "steps", "give at least one step"),
    ({"steps": {"type": "exit"}}, "steps", "must be a list"),
    ({"steps": ["delay"]}, "steps[0]", "must be a step object"),
    ({"steps": [DELAY] * 201}, "steps[200]", "at most 200 steps"),
    ({"steps": [{"type": "branch", "condition": PRO, "then": [DELAY] * 100,
                 "else": [DELAY] * 100}]}, "steps[0].else[99]", "at most 200 steps"),
    ({"steps": nest(11)}, "steps" + "[0].then" * 10, "the limit is 10"),
    # triggers
    ({"trigger": "api"}, "trigger", "must be an object"),
    ({"trigger": {}}, "trigger.type", "write one of api, event, segment_entered"),
    ({"trigger": {"type": "webhook"}}, "trigger.type", "write one of api, event"),
    ({"trigger": {"type": "api", "event": "x"}}, "trigger.event", "an api trigger takes type"),
    ({"trigger": {"type": "event"}}, "trigger.event", "missing; give the event name"),
    ({"trigger": {"type": "event", "event": ""}}, "trigger.event", "must not be empty"),
    ({"trigger": {"type": "event", "event": "x", "timeframe": "7d"}}, "trigger.timeframe",
     "takes type, event, properties"),
    ({"trigger": {"type": "event", "event": "x", "properties": {"plan": "pro"}}},
     "trigger.properties", "must be a list of filters"),
    ({"trigger": {"type": "event", "event": "x", "properties": [
        {"property": "plan", "operator": "equals", "value": "pro"}]}},
     "trigger.properties[0].operator", "unknown operator"),
    ({"trigger": {"type": "event", "event": "x", "properties": [
        {"property": "plan", "op": "eq"}]}},
     "trigger.properties[0].op", "takes property, operator, value"),
    ({"trigger": {"type": "event", "event": "x", "properties": [
        {"property": "plan", "operator": "in", "value": "pro"}]}},
     "trigger.properties[0].value", "needs a non-empty list"),
    ({"trigger": {"type": "segment_entered"}}, "trigger.segment_id", "missing"),
    ({"trigger": {"type": "segment_exited", "segment_id": "VIP!"}}, "trigger.segment_id",
     "not a segment id"),
    ({"trigger": {"type": "attribute_changed"}}, "trigger.attribute", "missing"),
    ({"trigger": {"type": "attribute_changed", "attribute": "_update"}}, "trigger.attribute",
     "not an attribute"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "offset": "3 days"}},
     "trigger.offset", "like '-3d'"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "offset": -3}},
     "trigger.offset", "like '-3d'"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "offset": "-400d"}},
     "trigger.offset", "at most 365d"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "at": "9am"}}, "trigger.at",
     "'HH:MM'"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "at": "24:00"}}, "trigger.at",
     "'HH:MM'"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "timezone": "Mars/Olympus"}},
     "trigger.timezone", "not an IANA timezone"),
    ({"trigger": {"type": "date", "attribute": "renewal_date", "timezone": ""}},
     "trigger.timezone", "must not be empty"),
    ({"trigger": {"type": "date", "offset": "1d"}}, "trigger.attribute", "missing"),
    # step types and ids
    (step_with(type="sleep"), "steps[0].type", "write one of send, delay, wait_until"),
    (step_with(duration="1d"), "steps[0].type", "missing"),
    (step_with(type="exit", reason="done"), "steps[0].reason", "an exit step takes id, type"),
    (step_with(id="a b", type="exit"), "steps[0].id", "1-64 letters"),
    ({"steps": [{"id": "a", **DELAY}, {"id": "a", **EXIT}]}, "steps[1].id",
     "already the id of steps[0]"),
    ({"steps": [DELAY, {"id": "s0", **EXIT}]}, "steps[1].id", "already the id of steps[0]"),
    ({"steps": [{"id": "s1", **DELAY}, EXIT]}, "steps[1].id", "made from its position"),
    ({"steps": [{"type": "branch", "condition": PRO, "then": [{"id": "x", **EXIT}],
                 "else": [{"id": "x", **EXIT}]}]}, "steps[0].else[0].id",
     "already the id of steps[0].then[0]"),
    # send
    (step_with(type="send", channel="fax", template_id="t"), "steps[0].channel",
     "write one of email, sms"),
    (step_with(type="send", channel="email"), "steps[0].template_id", "missing"),
    (step_with(**SEND, fallback=[{"channel": "sms"}]), "steps[0].fallback[0].template_id",
     "give the sms template"),
    (step_with(**SEND, fallback=[{"channel": "email", "template_id": "x"}]),
     "steps[0].fallback[0].channel", "the primary channel"),
    (step_with(**SEND, fallback={"channel": "sms"}), "steps[0].fallback", "must be a list"),
    (step_with(**SEND, transactional="yes"), "steps[0].transactional", "true or false"),
    (step_with(**SEND, topic="big news"), "steps[0].topic", "1-64 letters"),
    (step_with(**SEND, subject="Hi"), "steps[0].subject", "a send step takes"),
    # delay
    (step_with(type="delay"), "steps[0].duration", "missing; write a duration like '3d'"),
    (step_with(type="delay", duration="3 days"), "steps[0].duration", "not a duration"),
    (step_with(type="delay", duration=3), "steps[0].duration", "must be a duration string"),
    (step_with(type="delay", duration="400d"), "steps[0].duration", "out of range"),
    (step_with(type="delay", duration="1d", until="monday"), "steps[0].until",
     "a delay step takes id, type, duration"),
    ({"steps": [DELAY, {"type": "branch", "condition": PRO,
                        "then": [{"type": "delay", "duration": "3 days"}]}]},
     "steps[1].then[0].duration", "write a whole number and a unit"),
    # wait_until
    (step_with(type="wait_until", max_wait="1d"), "steps[0].event", "neither given"),
    (step_with(type="wait_until", event="x", condition=PRO, max_wait="1d"),
     "steps[0].condition", "both given"),
    (step_with(type="wait_until", event="x"), "steps[0].max_wait", "missing"),
    (step_with(type="wait_until", event="x", max_wait="30s"), "steps[0].max_wait",
     "out of range"),
    (step_with(**WAIT, on_timeout="retry"), "steps[0].on_timeout", "'continue', 'exit'"),
    (step_with(**WAIT, on_timeout=[]), "steps[0].on_timeout", "non-empty list"),
    (step_with(type="wait_until", condition=PRO, max_wait="1d",
               properties=[{"property": "a", "operator": "exists"}]),
     "steps[0].properties", "inside the condition"),
    (step_with(type="wait_until", condition={"attribute": "plan", "operator": "is"},
               max_wait="1d"), "steps[0].condition.operator", "unknown operator"),
    (step_with(type="wait_until", condition={"plan": "pro"}, max_wait="1d"),
     "steps[0].condition", "not a condition"),
    (step_with(**WAIT, on_timeout=[{"type": "delay", "duration": "x"}]),
     "steps[0].on_timeout[0].duration", "not a duration"),
    # time_window
    (step_with(**WINDOW, days=["monday"]), "steps[0].days[0]", "is not a day"),
    (step_with(**WINDOW, days=["mon", "mon"]), "steps[0].days[1]", "repeats 'mon'"),
    (step_with(**WINDOW, days=[]), "steps[0].days", "non-empty list"),
    (step_with(type="time_window", start="9:00", end="17:00"), "steps[0].start", "'HH:MM'"),
    (step_with(type="time_window", start="09:00"), "steps[0].end", "missing"),
    (step_with(type="time_window", start="22:00", end="06:00"), "steps[0].end",
     "must be after start"),
    (step_with(**WINDOW, timezone="Nowhere/City"), "steps[0].timezone", "not an IANA timezone"),
    # branch
    (step_with(type="branch", then=[EXIT]), "steps[0].condition", "missing"),
    (step_with(type="branch", condition=PRO), "steps[0].then", "both empty"),
    (step_with(type="branch", condition=PRO, then=[], **{"else": []}), "steps[0].then",
     "both empty"),
    (step_with(type="branch", condition=PRO, then="exit"), "steps[0].then", "must be a list"),
    (step_with(type="branch", condition=PRO, then=[EXIT], otherwise=[EXIT]),
     "steps[0].otherwise", "takes id, type, condition, then, else"),
    (step_with(type="branch", condition={"and": []}, then=[EXIT]), "steps[0].condition.and",
     "non-empty list"),
    # split
    (step_with(type="split", cohorts=[SPLIT_B]), "steps[0].cohorts", "2 to 10 cohorts"),
    (step_with(type="split", cohorts=[{"name": str(i)} for i in range(11)]),
     "steps[0].cohorts", "2 to 10 cohorts"),
    (step_with(type="split", cohorts=[SPLIT_B, SPLIT_B]), "steps[0].cohorts[1].name",
     "unique"),
    (step_with(type="split", cohorts=[{"name": "A", "weight": 0}, SPLIT_B]),
     "steps[0].cohorts[0].weight", "above 0"),
    (step_with(type="split", cohorts=[{"name": "A", "weight": True}, SPLIT_B]),
     "steps[0].cohorts[0].weight", "above 0"),
    (step_with(type="split", cohorts=[{"name": "A", "percent": 50}, SPLIT_B]),
     "steps[0].cohorts[0].percent", "a cohort takes name, weight, steps"),
    (step_with(type="split", cohorts=[{"weight": 1}, SPLIT_B]), "steps[0].cohorts[0].name",
     "missing"),
    (step_with(type="split", cohorts=[SPLIT_B, {"name": "C", "steps": [{"type": "wait"}]}]),
     "steps[0].cohorts[1].steps[0].type", "not a step type"),
    # update_attributes
    (step_with(type="update_attributes"), "steps[0].set", "both empty"),
    (step_with(type="update_attributes", set={"plan": None}), "steps[0].set.plan",
     "list it in unset"),
    (step_with(type="update_attributes", set={"greeting": "Hi {{ customer.name "}),
     "steps[0].set.greeting", "expected '}}'"),
    (step_with(type="update_attributes", unset="plan"), "steps[0].unset", "must be a list"),
    (step_with(type="update_attributes", set={"plan": "pro"}, unset=["plan"]),
     "steps[0].unset[0]", "cannot be unset"),
    (step_with(type="update_attributes", unset=["created_at"]), "steps[0].unset[0]",
     "cannot be unset"),
    (step_with(type="update_attributes", set={"anonymous_id": "x"}),
     "steps[0].set.anonymous_id", "not an attribute"),
    (step_with(type="update_attributes", set={"timezone": "Mars"}), "steps[0].set.timezone",
     "not an IANA timezone"),
    (step_with(type="update_attributes", set={"email": "nobody"}), "steps[0].set.email",
     "not an email address"),
    (step_with(type="update_attributes", set={"a": 1}, delete=["b"]), "steps[0].delete",
     "takes id, type, set, unset"),
    # webhook, emit_event
    (step_with(type="webhook"), "steps[0].template_id", "missing"),
    (step_with(type="webhook", template_id="a/b"), "steps[0].template_id", "1-64 letters"),
    (step_with(type="emit_event"), "steps[0].name", "missing"),
    (step_with(type="emit_event", name="x", properties=[1]), "steps[0].properties",
     "must be an object"),
    (step_with(type="update_attributes", set=[]), "steps[0].set", "must be an object"),
    (step_with(type="update_attributes", set={"a": 1}, unset=""), "steps[0].unset",
     "must be a list"),
    (step_with(type="emit_event", name="x", properties={"n": float("nan")}),
     "steps[0].properties", "not JSON-serialisable"),
    # settings
    ({"settings": "once"}, "settings", "must be an object"),
    ({"settings": {"reentry": "sometimes"}}, "settings.reentry", "'once', 'always'"),
    ({"settings": {"reentry": "30s"}}, "settings.reentry", "out of range"),
    ({"settings": {"reentry": ""}}, "settings.reentry", "'once', 'always'"),
    ({"settings": {"exit_on_trigger_exit": True}}, "settings.exit_on_trigger_exit",
     "needs a segment_entered trigger"),
    ({"settings": {"goal": {}}}, "settings.goal.event", "give exactly one"),
    ({"settings": {"goal": {"event": "x", "condition": PRO}}}, "settings.goal.condition",
     "give exactly one"),
    ({"settings": {"goal": {"event": "x", "exit": "no"}}}, "settings.goal.exit",
     "true or false"),
    ({"settings": {"goal": {"condition": {"event": "x", "timeframe": "forever"}}}},
     "settings.goal.condition.timeframe", "timeframe like"),
    ({"settings": {"status": "active"}}, "settings.status",
     "takes reentry, exit_on_trigger_exit, goal"),
]


@pytest.mark.parametrize(("arguments", "field", "says"), BAD,
                         ids=[f"{i}-{case[1]}" for i, case in enumerate(BAD)])
def test_a_bad_definition_is_refused_naming_the_path(arguments: dict[str, Any], field: str,
                                                     says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        define(**arguments)
    assert caught.value.field == field
    assert field in caught.value.message
    assert says in caught.value.message


def test_there_are_plenty_of_bad_cases() -> None:
    assert len(BAD) >= 40


COSTLY = {"and": [{"event": "e", "properties": [
    {"property": f"p{i}", "operator": "exists"} for i in range(20)]}] * 25}


@pytest.mark.parametrize(("steps", "field"), [
    ([{"type": "branch", "condition": COSTLY, "then": [EXIT]}], "steps[0].condition"),
    ([{"type": "update_attributes", "set": {"tags": ["x" * 2000]}}], "steps[0].set.tags"),
    ([DELAY, {"type": "emit_event", "name": "x" * 101}], "steps[1].name"),
])
def test_an_oversized_value_or_rule_is_a_limit_naming_its_path(steps: list[Any],
                                                               field: str) -> None:
    with pytest.raises(LimitExceeded) as caught:
        define(steps)
    assert caught.value.field == field and field in caught.value.message


def test_a_hostile_list_of_a_million_steps_stops_at_the_limit() -> None:
    with pytest.raises(InvalidInput, match="at most 200 steps"):
        define([DELAY] * 1_000_000)


# --- references --------------------------------------------------------------------------

def test_references_collect_every_id_through_nested_steps() -> None:
    workflow = define(
        trigger={"type": "segment_entered", "segment_id": "trial"},
        settings={"goal": {"condition": {"or": [{"segment": "paying"},
                                                {"event": "purchase"}]}}},
        steps=[
            {"type": "send", "channel": "email", "template_id": "welcome", "topic": "news",
             "fallback": [{"channel": "sms", "template_id": "welcome-sms"}]},
            {"type": "branch", "condition": {"not": {"segment": "vip"}}, "then": [
                {"type": "split", "cohorts": [
                    {"name": "A", "steps": [{"type": "webhook", "template_id": "welcome"}]},
                    {"name": "B", "steps": [
                        {"type": "wait_until", "event": "login", "max_wait": "1d",
                         "on_timeout": [{"type": "send", "channel": "push",
                                         "template_id": "nudge", "topic": "tips"}]}]}]}]},
            {"type": "wait_until", "condition": {"event": "click", "operator": "did"},
             "max_wait": "1d"},
            {"type": "emit_event", "name": "onboarded"},
        ])
    assert references(workflow) == References(
        templates={"welcome": {"email", "webhook"}, "welcome-sms": {"sms"}, "nudge": {"push"}},
        segments={"trial", "paying", "vip"}, topics={"news", "tips"},
        events={"purchase", "login", "click"}, emits={"onboarded"})


def test_an_event_triggered_workflow_references_its_event() -> None:
    refs = references(define(trigger={"type": "event", "event": "signup"},
                             settings={"goal": {"event": "purchase"}}))
    assert refs == References(events={"signup", "purchase"})


# --- the way back --------------------------------------------------------------------------

ROUND_TRIPS = [
    define(NESTED),
    define([{"type": "send", "channel": "email", "template_id": "w", "transactional": True,
             "fallback": [{"channel": "sms", "template_id": "w2"}], "topic": "news"},
            {"type": "delay", "duration": "90m"}, {"type": "delay", "duration": "14d"},
            {"type": "wait_until", "condition": PRO, "max_wait": "1h", "on_timeout": "exit"},
            {"type": "wait_until", "event": "buy", "max_wait": "1h",
             "properties": [{"property": "n", "operator": "in", "value": [1, 2]}]},
            {"type": "time_window", "days": ["sun", "wed"], "start": "00:00", "end": "24:00",
             "timezone": "Asia/Tokyo"},
            {"type": "time_window", "start": "09:15", "end": "10:00"},
            {"type": "split", "cohorts": [{"name": "A", "weight": 0.5}, {"name": "B"}]},
            {"type": "update_attributes", "set": {"x": {"deep": [1]}}, "unset": ["y"]},
            {"type": "emit_event", "name": "e", "properties": {"a": [1, {"b": 2}]}}],
           trigger={"type": "event", "event": "signup",
                    "properties": [{"property": "plan", "operator": "exists"}]},
           settings={"reentry": "1h30m", "goal": {"event": "buy", "exit": False}}),
    define(trigger={"type": "date", "attribute": "renewal", "offset": "-1w", "at": "23:59",
                    "timezone": "Europe/Paris"}, settings={"reentry": "always"}),
    define(trigger={"type": "date", "attribute": "renewal", "offset": "36h"}),
    define(trigger={"type": "attribute_changed", "attribute": "plan", "from": None,
                    "to": {"tier": 2}}),
    define(trigger={"type": "segment_entered", "segment_id": "vip"},
           settings={"exit_on_trigger_exit": True, "goal": {"condition": {"segment": "paid"}}}),
]


@pytest.mark.parametrize("workflow", ROUND_TRIPS)
def test_the_canonical_json_parses_back_to_the_same_workflow(workflow: Workflow) -> None:
    assert parse_workflow(**to_json(workflow)) == workflow


def test_the_canonical_json_names_generated_ids_and_normalised_durations() -> None:
    canonical = to_json(define([{"type": "delay", "duration": "14d"},
                                {"type": "branch", "condition": PRO, "then": [EXIT]}]))
    assert canonical["steps"] == [
        {"id": "s0", "type": "delay", "duration": "2w"},
        {"id": "s1", "type": "branch", "condition": PRO,
         "then": [{"id": "s1-then-0", "type": "exit"}]}]
    assert canonical["trigger"] == {"type": "api"} and canonical["settings"] == {"reentry": "once"}


DURATIONS = st.sampled_from(["30s", "15m", "2h", "3d", "1w", "1h30m", "365d"])
LEAVES = st.one_of(
    st.builds(lambda d: {"type": "delay", "duration": d}, DURATIONS),
    st.builds(lambda c, t: {"type": "send", "channel": c, "template_id": t},
              st.sampled_from(["email", "sms", "push", "in_app"]),
              st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)),
    st.just(EXIT),
    st.builds(lambda days, start: {"type": "time_window", "days": days,
                                   "start": f"{start:02d}:00", "end": "24:00"},
              st.lists(st.sampled_from(["mon", "tue", "sat"]), min_size=1, unique=True),
              st.integers(0, 23)),
)


def _containers(children: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda t, e: {"type": "branch", "condition": PRO, "then": t, "else": e},
                  children.filter(bool), children),
        st.builds(lambda a, b: {"type": "split", "cohorts": [
            {"name": "A", "weight": 3, "steps": a}, {"name": "B", "weight": 1, "steps": b}]},
            children, children),
        st.builds(lambda t: {"type": "wait_until", "event": "buy", "max_wait": "2d",
                             "on_timeout": t}, children.filter(bool)),
    )


STEP_LISTS = st.recursive(
    st.lists(LEAVES, min_size=1, max_size=3),
    lambda children: st.lists(st.one_of(LEAVES, _containers(children)), min_size=1, max_size=3),
    max_leaves=20)


def depth(steps: list[Any]) -> int:
    inner = [list(value) for step in steps for key, value in step.items()
             if key in ("then", "else", "on_timeout") and isinstance(value, list)]
    inner += [c["steps"] for step in steps for c in step.get("cohorts", ())]
    return 1 + max((depth(s) for s in inner if s), default=0)


@settings(max_examples=60, deadline=None)
@given(STEP_LISTS)
def test_any_valid_definition_survives_the_round_trip(steps: list[Any]) -> None:
    assume(depth(steps) <= 10)
    workflow = define(steps)
    canonical = to_json(workflow)
    assert parse_workflow(**canonical) == workflow
    assert to_json(parse_workflow(**canonical)) == canonical
