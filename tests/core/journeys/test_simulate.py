"""The simulator: a journey on a virtual clock with injected events, no side effects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.core.journeys.model import (
    BranchStep,
    DelayStep,
    EmitEventStep,
    Goal,
    SendStep,
    Settings,
    Step,
    TimeWindowStep,
    Trigger,
    UpdateAttributesStep,
    Waiting,
    WaitUntilStep,
    Workflow,
)
from tools.core.journeys.simulate import Simulation, simulate

START = 1_780_000_000.0  # Thursday 2026-05-28 20:26:40 UTC
HOUR, DAY = 3_600.0, 86_400.0
PRO = {"attribute": "plan", "operator": "eq", "value": "pro"}

WIN_BACK = Workflow(
    "win_back", "Win back lapsed customers", Trigger("segment_entered", segment_id="lapsed"),
    (
        SendStep("miss_you", "email", "we_miss_you", topic="promotions"),
        WaitUntilStep("wait_purchase", 3 * DAY, event="purchase", on_timeout="branch",
                      timeout=(SendStep("offer", "email", "discount_20", topic="promotions"),
                               UpdateAttributesStep("mark_offer",
                                                    {"winback_offer": "{{ 20 }}%"}))),
        DelayStep("cool_off", 2 * DAY),
        BranchStep("is_pro", PRO,
                   then=(TimeWindowStep("office_hours", frozenset(range(5)), 9 * 60, 17 * 60),
                         SendStep("call", "sms", "account_manager_call")),
                   otherwise=(SendStep("last_push", "push", "last_chance"),)),
        EmitEventStep("finished", "winback_finished", {"journey": "win_back"}),
    ),
    Settings(goal=Goal(event="purchase")),
)


def run(workflow: Workflow = WIN_BACK, profile: Mapping[str, Any] | None = None,
        events: list[tuple[float, str, Mapping[str, Any]]] | None = None,
        horizon: float = 30 * DAY, **options: Any) -> Simulation:
    return simulate(workflow, profile=profile or {}, events=events or [], start=START,
                    horizon=horizon, **options)


def timeline(result: Simulation) -> list[tuple[float, str, str]]:
    return [(round((e.at - START) / HOUR, 2), e.step_id, e.what) for e in result.path]


def flow(*steps: Step, goal: Goal | None = None) -> Workflow:
    return Workflow("wf", "Test", Trigger("api"), tuple(steps), Settings(goal=goal))


def test_a_win_back_journey_without_a_purchase_runs_to_the_end() -> None:
    result = run(profile={"plan": "pro", "timezone": "Europe/Paris"})
    # The offer goes out after 3 days; the 2-day cool-off ends on Tuesday 2026-06-02 at
    # 22:26 in Paris, after office hours: the call goes out Wednesday 09:00 CEST (07:00 UTC).
    wednesday_nine = (1_780_470_000.0 - START) / HOUR
    assert timeline(result) == [
        (0.0, "miss_you", "sent"),
        (0.0, "wait_purchase", "waiting"),
        (72.0, "wait_purchase", "timeout"),
        (72.0, "offer", "sent"),
        (72.0, "mark_offer", "updated"),
        (72.0, "cool_off", "waiting"),
        (120.0, "cool_off", "resumed"),
        (120.0, "is_pro", "branch"),
        (120.0, "office_hours", "waiting"),
        (round(wednesday_nine, 2), "office_hours", "resumed"),
        (round(wednesday_nine, 2), "call", "sent"),
        (round(wednesday_nine, 2), "finished", "emitted"),
        (round(wednesday_nine, 2), "", "completed"),
    ]
    assert [m.template_id for m in result.messages] == [
        "we_miss_you", "discount_20", "account_manager_call"]
    assert [m.key for m in result.messages] == [
        "simulation:miss_you:1", "simulation:offer:3", "simulation:call:8"]
    assert result.status == "completed" and result.waiting is None
    assert result.attributes == {"plan": "pro", "timezone": "Europe/Paris",
                                 "winback_offer": "{{ 20 }}%"}
    assert [when for when, _ in result.message_context] == [
        START, START + 3 * DAY, 1_780_470_000.0]
    assert result.message_context[2][1]["winback_offer"] == "{{ 20 }}%"
    assert result.path[7].detail.startswith("then: ")


def test_a_purchase_converts_and_ends_the_journey() -> None:
    result = run(profile={"plan": "free"}, events=[(DAY, "purchase", {"value": 40})])
    assert timeline(result) == [
        (0.0, "miss_you", "sent"), (0.0, "wait_purchase", "waiting"),
        (24.0, "", "event"), (24.0, "", "converted")]
    assert result.status == "exited" and result.state is not None
    assert result.state.converted_at == START + DAY
    assert [m.template_id for m in result.messages] == ["we_miss_you"]


def test_without_a_goal_the_purchase_ends_the_wait_and_the_journey_goes_on() -> None:
    workflow = Workflow(WIN_BACK.workflow_id, WIN_BACK.name, WIN_BACK.trigger, WIN_BACK.steps)
    result = run(workflow, profile={"plan": "free"}, events=[(DAY, "purchase", {})])
    assert [(t, step, what) for t, step, what in timeline(result)][2:6] == [
        (24.0, "", "event"), (24.0, "wait_purchase", "resumed"),
        (24.0, "cool_off", "waiting"), (72.0, "cool_off", "resumed")]
    assert [m.template_id for m in result.messages] == ["we_miss_you", "last_chance"]
    assert result.status == "completed"


def test_a_goal_that_does_not_exit_records_the_conversion_and_the_journey_goes_on() -> None:
    workflow = flow(DelayStep("d", DAY), SendStep("s", "email", "after"),
                    goal=Goal(event="purchase", exit=False))
    result = run(workflow, events=[(HOUR, "purchase", {})])
    assert result.status == "completed" and result.state is not None
    assert result.state.converted_at == START + HOUR
    assert [m.template_id for m in result.messages] == ["after"]


WAIT_BIG = flow(WaitUntilStep("w", 2 * DAY, event="purchase",
                              properties=({"property": "value", "operator": "gte",
                                           "value": 50},)),
                SendStep("thanks", "email", "thanks"))


def test_only_an_event_whose_properties_match_ends_the_wait() -> None:
    result = run(WAIT_BIG, events=[(HOUR, "purchase", {"value": 20}),
                                   (DAY, "purchase", {"value": 80})])
    assert timeline(result)[1:] == [(1.0, "", "event"), (24.0, "", "event"),
                                    (24.0, "w", "resumed"), (24.0, "thanks", "sent"),
                                    (24.0, "", "completed")]


def test_an_event_after_the_deadline_comes_too_late() -> None:
    result = run(WAIT_BIG, events=[(3 * DAY, "purchase", {"value": 80})])
    assert timeline(result)[1:4] == [(48.0, "w", "timeout"), (48.0, "thanks", "sent"),
                                     (48.0, "", "completed")]


def test_an_event_exactly_at_the_deadline_still_counts() -> None:
    result = run(WAIT_BIG, events=[(2 * DAY, "purchase", {"value": 80})])
    assert [what for _, _, what in timeline(result)][1:4] == ["event", "resumed", "sent"]


def test_a_condition_wait_is_met_by_an_event_that_makes_it_true() -> None:
    workflow = flow(WaitUntilStep("w", 5 * DAY, condition={"event": "login", "at_least": 2}),
                    SendStep("engaged", "email", "engaged"))
    result = run(workflow, events=[(DAY, "login", {}), (2 * DAY, "login", {})])
    assert timeline(result)[-3:] == [(48.0, "w", "resumed"), (48.0, "engaged", "sent"),
                                     (48.0, "", "completed")]


def test_history_events_are_known_from_the_start() -> None:
    workflow = flow(BranchStep("bought?", {"event": "purchase", "timeframe": "30d"},
                               then=(SendStep("a", "email", "thanks"),),
                               otherwise=(SendStep("b", "email", "nudge"),)))
    assert run(workflow, events=[(-5 * DAY, "purchase", {})]).messages[0].template_id == "thanks"
    assert run(workflow, events=[(-40 * DAY, "purchase", {})]).messages[0].template_id == "nudge"


def test_segments_and_devices_of_the_person_are_seen_by_conditions() -> None:
    workflow = flow(BranchStep("b", {"and": [{"segment": "vip"}, {"device": "ios"}]},
                               then=(SendStep("a", "push", "vip_push"),)))
    assert run(workflow, segments=["vip"], devices=["ios"]).messages[0].template_id == "vip_push"
    assert run(workflow, segments=["vip"]).messages == []


def test_emitted_events_become_events_of_the_person() -> None:
    workflow = flow(EmitEventStep("e", "nudged"), DelayStep("d", HOUR),
                    BranchStep("b", {"event": "nudged"}, then=(SendStep("a", "email", "x"),)),
                    goal=Goal(event="never"))
    result = run(workflow)
    assert [m.template_id for m in result.messages] == ["x"]


def test_an_emitted_goal_event_converts() -> None:
    workflow = flow(EmitEventStep("e", "purchase"), DelayStep("d", HOUR),
                    goal=Goal(event="purchase"))
    result = run(workflow)
    assert result.status == "exited" and timeline(result)[-1] == (0.0, "", "converted")


def test_attribute_values_go_through_the_render_hook() -> None:
    workflow = flow(UpdateAttributesStep("u", {"greeting": "Hi {{ customer.name }}",
                                               "count": 3}, ("stale",)),
                    WaitUntilStep("w", DAY, condition={"attribute": "greeting",
                                                       "operator": "eq", "value": "Hi Ada"}),
                    SendStep("s", "email", "greeted"))

    def render(value: Any, profile: Mapping[str, Any]) -> Any:
        return value.replace("{{ customer.name }}", profile["name"])

    result = run(workflow, profile={"name": "Ada", "stale": 1}, render_value=render)
    assert result.attributes == {"name": "Ada", "greeting": "Hi Ada", "count": 3}
    assert timeline(result)[1:4] == [(0.0, "w", "waiting"), (0.0, "w", "resumed"),
                                     (0.0, "s", "sent")]
    assert [m.template_id for m in result.messages] == ["greeted"]


def test_an_attribute_goal_converts_when_a_step_sets_it() -> None:
    workflow = flow(DelayStep("d", HOUR), UpdateAttributesStep("u", {"plan": "pro"}),
                    DelayStep("d2", DAY), SendStep("s", "email", "never"),
                    goal=Goal(condition=PRO))
    result = run(workflow, profile={"plan": "free"})
    assert result.status == "exited" and result.messages == []
    assert timeline(result)[-1] == (1.0, "", "converted")


def test_at_the_horizon_the_journey_is_reported_where_it_waits() -> None:
    workflow = flow(DelayStep("d", 40 * DAY), SendStep("s", "email", "late"))
    result = run(workflow, events=[(35 * DAY, "purchase", {})])
    assert result.status == "waiting" and result.messages == []
    assert result.waiting == Waiting("delay", "d", START + 40 * DAY, START)
    assert [e.what for e in result.path] == ["waiting"]  # the event after the horizon: unseen


def test_a_simulation_is_deterministic() -> None:
    events: list[tuple[float, str, Mapping[str, Any]]] = [(4 * DAY, "login", {})]
    profile = {"plan": "pro", "timezone": "America/New_York"}
    assert run(profile=profile, events=events) == run(profile=profile, events=events)


def test_a_long_journey_stops_the_clock_only_at_due_moments() -> None:
    """Event-driven: a 10-step journey over 30 days costs one stop per wait and event."""
    steps: list[Step] = []
    for day in range(5):
        steps += [SendStep(f"s{day}", "email", f"day_{day}"), DelayStep(f"d{day}", 6 * DAY)]
    events: list[tuple[float, str, Mapping[str, Any]]] = [
        (n * HOUR, "page_view", {"n": n}) for n in range(0, 720, 24)]
    result = run(flow(*steps), events=events)
    assert [m.template_id for m in result.messages] == [f"day_{d}" for d in range(5)]
    assert len(events) == 30 and result.status == "completed"  # the last delay ends at 30d
    assert result.wakeups == 5 + len(events)
