"""The pure step interpreter: each step type, waits and their timeouts, windows, branches,
splits, goals, effect keys and positions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from tools.core.journeys.interpreter import (
    RuleFacts,
    advance,
    check_goal,
    cohort_of,
    converted,
    path_of,
    recheck,
    start,
    step_at,
    steps_on_path,
    wake_on_event,
)
from tools.core.journeys.model import (
    Advanced,
    BranchStep,
    Cohort,
    DelayStep,
    Emit,
    EmitEventStep,
    ExitStep,
    Goal,
    JourneyState,
    Send,
    SendStep,
    SetAttributes,
    Settings,
    SplitStep,
    Step,
    TimeWindowStep,
    Trigger,
    UpdateAttributesStep,
    Waiting,
    WaitUntilStep,
    WebhookStep,
    Workflow,
)
from tools.core.segments.evaluate import EventFact, StaticFacts

NOW = 1_780_000_000.0  # Thursday 2026-05-28 20:26:40 UTC
HOUR, DAY = 3_600.0, 86_400.0
PRO = {"attribute": "plan", "operator": "eq", "value": "pro"}
BIG = ({"property": "value", "operator": "gte", "value": 50},)


def facts(attrs: Mapping[str, Any] | None = None, events: Iterable[EventFact] = (),
          segments: Iterable[str] = ()) -> RuleFacts:
    return RuleFacts(StaticFacts(dict(attrs or {}), list(events), (), frozenset(segments)))


def event(name: str, at: float, **data: Any) -> EventFact:
    return EventFact("event", name, at, data)


def flow(*steps: Step, goal: Goal | None = None) -> Workflow:
    return Workflow("wf", "Test", Trigger("api"), tuple(steps), Settings(goal=goal))


def run(workflow: Workflow, person: RuleFacts | None = None, now: float = NOW,
        state: JourneyState | None = None, key: str = "j1") -> Advanced:
    return advance(workflow, state if state is not None else start(workflow, now),
                   person if person is not None else facts(), now, journey_key=key)


def whats(result: Advanced) -> list[tuple[str, str]]:
    return [(entry.step_id, entry.what) for entry in result.log]


def sent(result: Advanced) -> list[str]:
    return [e.template_id for e in result.effects if isinstance(e, Send)]


WAIT = WaitUntilStep("wait", 3 * DAY, event="purchase", properties=BIG)


# --- starting, ending, effects --------------------------------------------------------------

def test_a_journey_starts_at_its_first_step_and_an_empty_one_completes_at_once() -> None:
    assert start(flow(ExitStep("x")), NOW) == JourneyState(path=(0,))
    empty = flow()
    assert start(empty, NOW).path == ()
    result = run(empty)
    assert result.state.status == "completed" and whats(result) == [("", "completed")]


def test_sends_webhooks_attribute_updates_and_events_are_effects_in_step_order() -> None:
    workflow = flow(
        SendStep("hello", "email", "welcome", (("sms", "welcome_sms"),), "news", False),
        WebhookStep("hook", "crm_sync"),
        UpdateAttributesStep("mark", {"stage": "welcomed"}, ("trial",)),
        EmitEventStep("tell", "welcomed", {"via": "email"}),
    )
    result = run(workflow)
    assert result.effects == (
        Send("hello", "j1:hello:1", "email", "welcome", (("sms", "welcome_sms"),), "news"),
        Send("hook", "j1:hook:2", "webhook", "crm_sync"),
        SetAttributes("mark", {"stage": "welcomed"}, ("trial",)),
        Emit("tell", "j1:tell:4", "welcomed", {"via": "email"}),
    )
    assert whats(result) == [("hello", "sent"), ("hook", "sent"), ("mark", "updated"),
                             ("tell", "emitted"), ("", "completed")]
    state = result.state
    assert (state.status, state.path, state.steps_done, state.visits) == ("completed", (), 4, 4)


def test_later_steps_of_the_same_advance_see_attributes_set_and_events_emitted() -> None:
    workflow = flow(
        UpdateAttributesStep("upgrade", {"plan": "pro"}),
        BranchStep("is_pro", PRO, then=(SendStep("a", "email", "pro_welcome"),)),
        EmitEventStep("tell", "upgraded"),
        BranchStep("told", {"event": "upgraded"}, then=(SendStep("b", "email", "told"),)),
    )
    result = run(workflow, facts({"plan": "free"}))
    assert sent(result) == ["pro_welcome", "told"]


def test_an_exit_step_ends_the_journey_before_the_steps_after_it() -> None:
    result = run(flow(SendStep("a", "email", "one"), ExitStep("stop"),
                      SendStep("b", "email", "two")))
    assert sent(result) == ["one"]
    assert (result.state.status, result.state.exit_reason) == ("exited", "exit step 'stop'")
    assert result.state.path == () and result.state.steps_done == 2


@pytest.mark.parametrize("status", ["completed", "exited", "cancelled", "failed"])
def test_an_ended_journey_does_not_move(status: str) -> None:
    state = JourneyState(path=(0,), status=status)  # type: ignore[arg-type]
    assert run(flow(SendStep("a", "email", "one")), state=state) == Advanced(state, (), ())


# --- delays -----------------------------------------------------------------------------

def test_a_delay_waits_and_resumes_once_its_time_has_come() -> None:
    workflow = flow(DelayStep("d", 2 * DAY), SendStep("a", "email", "later"))
    first = run(workflow)
    assert first.state.status == "waiting"
    assert first.state.waiting == Waiting("delay", "d", NOW + 2 * DAY, NOW)
    assert whats(first) == [("d", "waiting")] and first.effects == ()
    early = run(workflow, now=NOW + DAY, state=first.state)
    assert early == Advanced(first.state, (), ())
    due = run(workflow, now=NOW + 2 * DAY, state=first.state)
    assert sent(due) == ["later"] and due.state.status == "completed"
    assert due.log[0].what == "resumed" and due.log[0].detail == "after 2d"
    assert due.state.steps_done == 2


def test_a_late_resume_records_the_lateness_and_times_the_next_wait_from_now() -> None:
    workflow = flow(DelayStep("d1", DAY), DelayStep("d2", DAY))
    first = run(workflow)
    late = run(workflow, now=NOW + DAY + 3 * HOUR, state=first.state)
    assert late.log[0].detail == "after 1d3h (3h late)"
    assert late.state.waiting == Waiting("delay", "d2", NOW + 2 * DAY + 3 * HOUR,
                                         NOW + DAY + 3 * HOUR)


# --- wait_until -------------------------------------------------------------------------

def test_a_wait_for_an_event_waits_until_the_deadline() -> None:
    result = run(flow(WAIT, SendStep("a", "email", "thanks")))
    assert result.state.waiting == Waiting("wait_until", "wait", NOW + 3 * DAY, NOW)
    assert whats(result) == [("wait", "waiting")]


@pytest.mark.parametrize(
    ("name", "properties", "at", "wakes"),
    [
        ("purchase", {"value": 80}, NOW + DAY, True),
        ("purchase", {"value": 80}, NOW + 3 * DAY, True),  # at the deadline
        ("purchase", {"value": 20}, NOW + DAY, False),  # properties do not match
        ("purchase", {}, NOW + DAY, False),
        ("refund", {"value": 80}, NOW + DAY, False),  # another event
        ("purchase", {"value": 80}, NOW + 3 * DAY + 1, False),  # past the deadline
        ("purchase", {"value": 80}, NOW, False),  # not after the wait began
    ],
)
def test_an_event_ends_the_wait_when_it_matches_in_time(
        name: str, properties: dict[str, Any], at: float, wakes: bool) -> None:
    workflow = flow(WAIT, SendStep("a", "email", "thanks"))
    waiting = run(workflow).state
    woken = wake_on_event(workflow, waiting, facts(events=[event(name, at, **properties)]),
                          name, properties, at, journey_key="j1")
    if not wakes:
        assert woken is None
        return
    assert woken is not None
    assert woken.log[0].what == "resumed" and woken.log[0].detail == "'purchase' happened"
    assert sent(woken) == ["thanks"] and woken.state.status == "completed"


def test_a_journey_that_waits_on_a_delay_is_not_woken_by_events() -> None:
    workflow = flow(DelayStep("d", DAY))
    state = run(workflow).state
    assert wake_on_event(workflow, state, facts(), "purchase", {}, NOW + 1,
                         journey_key="j1") is None


@pytest.mark.parametrize(
    ("stamp", "outcome"),
    [(NOW + DAY, "resumed"), (NOW + 3 * DAY, "resumed"), (NOW + 3 * DAY + 60, "timeout"),
     (NOW - DAY, "timeout"), (NOW, "timeout")],
)
def test_at_the_deadline_an_event_stored_in_the_window_still_counts(stamp: float,
                                                                   outcome: str) -> None:
    """The wake was missed (a crash, a catch-up): the stored events decide."""
    workflow = flow(WAIT, SendStep("a", "email", "after"))
    state = run(workflow).state
    late = run(workflow, facts(events=[event("purchase", stamp, value=99)]),
               now=NOW + 4 * DAY, state=state)
    assert late.log[0].what == outcome
    assert sent(late) == ["after"]


def test_before_the_deadline_an_advance_finds_an_event_the_wake_missed() -> None:
    workflow = flow(WAIT, SendStep("a", "email", "after"))
    state = run(workflow).state
    assert run(workflow, facts(), now=NOW + DAY, state=state).state == state
    found = run(workflow, facts(events=[event("purchase", NOW + HOUR, value=99)]),
                now=NOW + DAY, state=state)
    assert found.log[0].what == "resumed" and sent(found) == ["after"]


TIMEOUTS = [
    ("continue", (), ["after"], "completed", None),
    ("exit", (), [], "exited", "wait_until 'wait' timed out"),
    ("branch", (SendStep("t1", "email", "nudge"), DelayStep("t2", DAY)), ["nudge"], "waiting",
     None),
]


@pytest.mark.parametrize(("on_timeout", "branch", "sends", "status", "reason"), TIMEOUTS)
def test_on_timeout_continues_exits_or_runs_its_branch(
        on_timeout: Any, branch: tuple[Step, ...], sends: list[str], status: str,
        reason: str | None) -> None:
    wait = WaitUntilStep("wait", 3 * DAY, event="purchase", on_timeout=on_timeout,
                         timeout=branch)
    workflow = flow(wait, SendStep("a", "email", "after"))
    state = run(workflow).state
    result = run(workflow, now=NOW + 3 * DAY, state=state)
    assert result.log[0].what == "timeout"
    assert sent(result) == sends
    assert (result.state.status, result.state.exit_reason) == (status, reason)


def test_after_its_timeout_branch_the_journey_continues_after_the_wait_step() -> None:
    wait = WaitUntilStep("wait", DAY, event="purchase", on_timeout="branch",
                         timeout=(DelayStep("t", HOUR),))
    workflow = flow(wait, SendStep("a", "email", "after"))
    in_branch = run(workflow, now=NOW + DAY, state=run(workflow).state)
    assert in_branch.state.path == (0, "timeout", 0)
    done = run(workflow, now=NOW + DAY + HOUR, state=in_branch.state)
    assert sent(done) == ["after"] and done.state.status == "completed"


def test_a_condition_that_already_holds_passes_the_wait_at_once() -> None:
    wait = WaitUntilStep("wait", DAY, condition=PRO)
    result = run(flow(wait, SendStep("a", "email", "pro")), facts({"plan": "pro"}))
    assert result.log[0].what == "entered" and "already met" in result.log[0].detail
    assert sent(result) == ["pro"]


def test_recheck_resumes_a_condition_wait_once_the_condition_holds() -> None:
    wait = WaitUntilStep("wait", DAY, condition=PRO)
    workflow = flow(wait, SendStep("a", "email", "pro"))
    state = run(workflow, facts({"plan": "free"})).state
    assert state.status == "waiting"
    assert recheck(workflow, state, facts({"plan": "free"}), NOW + HOUR,
                   journey_key="j1") is None
    woken = recheck(workflow, state, facts({"plan": "pro"}), NOW + HOUR, journey_key="j1")
    assert woken is not None and sent(woken) == ["pro"]
    assert woken.log[0].detail == 'condition met: plan = "pro" ✓ (saw "pro")'
    assert recheck(workflow, state, facts({"plan": "pro"}), NOW + 2 * DAY,
                   journey_key="j1") is None  # past the deadline: the timeout decides


def test_recheck_ignores_event_waits_and_wake_ignores_condition_waits() -> None:
    cond = flow(WaitUntilStep("wait", DAY, condition=PRO))
    state = run(cond).state
    assert wake_on_event(cond, state, facts(), "purchase", {}, NOW + 1, journey_key="j") is None
    ev = flow(WAIT)
    state = run(ev).state
    assert recheck(ev, state, facts(), NOW + 1, journey_key="j") is None


# --- time windows -----------------------------------------------------------------------

WEEKDAY_HOURS = TimeWindowStep("hours", frozenset(range(5)), 9 * 60, 17 * 60)


def test_inside_its_window_a_time_window_step_lets_the_journey_through() -> None:
    noon = 1_779_969_600.0  # Thursday 2026-05-28 12:00 UTC
    result = run(flow(WEEKDAY_HOURS, SendStep("a", "email", "hi")), now=noon)
    assert sent(result) == ["hi"] and result.log[0].detail == "inside the window (UTC)"


def test_outside_it_the_journey_waits_for_the_opening_in_the_persons_zone() -> None:
    workflow = flow(WEEKDAY_HOURS, SendStep("a", "email", "hi"))
    person = facts({"timezone": "America/New_York"})
    result = run(workflow, person)  # Thursday 16:26 in New York: inside
    assert sent(result) == ["hi"]
    paris = facts({"timezone": "Europe/Paris"})  # Thursday 22:26 in Paris: closed
    waiting = run(workflow, paris)
    friday_nine = 1_780_038_000.0  # Friday 2026-05-29 07:00 UTC = 09:00 CEST
    assert waiting.state.waiting == Waiting("time_window", "hours", friday_nine, NOW)
    assert "(Europe/Paris)" in waiting.log[0].detail
    opened = run(workflow, paris, now=friday_nine, state=waiting.state)
    assert opened.log[0].what == "resumed" and sent(opened) == ["hi"]


def test_a_window_resumed_after_it_closed_waits_for_the_next_opening() -> None:
    workflow = flow(WEEKDAY_HOURS, SendStep("a", "email", "hi"))
    paris = facts({"timezone": "Europe/Paris"})
    waiting = run(workflow, paris).state
    late = run(workflow, paris, now=1_780_038_000.0 + 9 * HOUR, state=waiting)  # 18:00 CEST
    monday_nine = 1_780_038_000.0 + 3 * DAY
    assert late.state.waiting == Waiting("time_window", "hours", monday_nine, NOW)
    assert late.effects == ()


# --- branches and splits ----------------------------------------------------------------

@pytest.mark.parametrize(("plan", "way", "template"), [("pro", "then", "pro_tips"),
                                                      ("free", "else", "upgrade")])
def test_a_branch_goes_the_way_its_condition_says_and_logs_why(plan: str, way: str,
                                                              template: str) -> None:
    workflow = flow(
        BranchStep("plan?", PRO, then=(SendStep("p", "email", "pro_tips"),),
                   otherwise=(SendStep("f", "email", "upgrade"),)),
        SendStep("after", "email", "everyone"),
    )
    result = run(workflow, facts({"plan": plan}))
    assert sent(result) == [template, "everyone"]
    entry = result.log[0]
    assert (entry.what, entry.detail.split(":")[0]) == ("branch", way)
    assert f'(saw "{plan}")' in entry.detail


def test_a_branch_with_an_empty_side_continues_after_the_branch() -> None:
    workflow = flow(BranchStep("b", PRO, then=(SendStep("p", "email", "pro"),)),
                    SendStep("after", "email", "everyone"))
    assert sent(run(workflow, facts({"plan": "free"}))) == ["everyone"]


def test_branches_nest_and_the_journey_climbs_back_out_of_them() -> None:
    inner = BranchStep("inner", {"attribute": "vip", "operator": "eq", "value": True},
                       then=(SendStep("vip", "email", "vip"), DelayStep("d", DAY)))
    workflow = flow(BranchStep("outer", PRO, then=(inner, SendStep("p2", "email", "p2"))),
                    SendStep("last", "email", "last"))
    first = run(workflow, facts({"plan": "pro", "vip": True}))
    assert first.state.path == (0, "then", 0, "then", 1)
    rest = run(workflow, facts(), now=NOW + DAY, state=first.state)
    assert sent(rest) == ["p2", "last"]


SPLIT = SplitStep("ab", (Cohort("A", 70, (SendStep("a", "email", "variant_a"),)),
                         Cohort("B", 30, (SendStep("b", "email", "variant_b"),))))


def test_a_split_is_deterministic_per_journey_key_and_recorded() -> None:
    workflow = flow(SPLIT)
    once, again = run(workflow, key="person-7"), run(workflow, key="person-7")
    assert once == again
    cohort = once.state.cohorts["ab"]
    assert sent(once) == [f"variant_{cohort.lower()}"]
    assert once.log[0].detail == f"cohort {cohort!r}"


def test_a_recorded_cohort_is_kept() -> None:
    workflow = flow(SPLIT)
    for key in ("k1", "k2", "k3", "k4"):
        state = JourneyState(path=(0,), cohorts={"ab": "B"})
        assert sent(run(workflow, state=state, key=key)) == ["variant_b"]


@pytest.mark.parametrize("weights", [(70, 30), (50, 30, 20), (1, 1, 1, 1), (0.9, 0.1)])
def test_cohorts_follow_their_weights_over_many_people(weights: tuple[float, ...]) -> None:
    step = SplitStep("s", tuple(Cohort(str(i), w) for i, w in enumerate(weights)))
    counts = Counter(cohort_of(f"journey-{n}", step) for n in range(10_000))
    total = sum(weights)
    for index, weight in enumerate(weights):
        assert abs(counts[index] / 10_000 - weight / total) < 0.02


def test_another_split_step_splits_the_same_people_independently() -> None:
    other = SplitStep("other", SPLIT.cohorts)
    pairs = Counter((cohort_of(f"k{n}", SPLIT), cohort_of(f"k{n}", other))
                    for n in range(4_000))
    assert abs(pairs[(0, 0)] / 4_000 - 0.49) < 0.03


# --- keys, limits, failures -------------------------------------------------------------

def test_rerunning_the_same_transition_gives_the_same_keys_and_another_journey_others() -> None:
    workflow = flow(SendStep("a", "email", "one"), DelayStep("d", DAY),
                    SendStep("b", "email", "two"), EmitEventStep("e", "done"))
    first = run(workflow)
    later = [run(workflow, now=NOW + DAY, state=first.state) for _ in range(2)]
    assert later[0] == later[1]
    keys = [e.key for e in (*first.effects, *later[0].effects) if isinstance(e, Send | Emit)]
    assert keys == ["j1:a:1", "j1:b:3", "j1:e:4"]
    other = run(workflow, key="j2")
    assert [e.key for e in other.effects if isinstance(e, Send)] == ["j2:a:1"]


def test_a_very_long_journey_key_gives_a_bounded_key() -> None:
    result = run(flow(SendStep("a", "email", "one")), key="k" * 200)
    key = result.effects[0].key  # type: ignore[union-attr]
    assert len(key) <= 150 and key == run(flow(SendStep("a", "email", "one")),
                                          key="k" * 200).effects[0].key  # type: ignore[union-attr]


def test_more_steps_than_max_steps_in_one_advance_fails_the_journey() -> None:
    workflow = flow(*(SendStep(f"s{i}", "email", "t") for i in range(5)))
    result = advance(workflow, start(workflow, NOW), facts(), NOW, journey_key="j",
                     max_steps=3)
    assert result.state.status == "failed" and len(result.effects) == 3
    assert result.state.exit_reason == "ran more than 3 steps in one advance"


def test_a_condition_that_does_not_parse_fails_the_journey_with_the_reason() -> None:
    workflow = flow(BranchStep("b", {"attribute": "plan", "operator": "resembles"}))
    result = run(workflow)
    assert result.state.status == "failed"
    assert result.state.exit_reason is not None and "resembles" in result.state.exit_reason


def test_a_position_that_names_no_step_fails_the_journey() -> None:
    result = run(flow(SendStep("a", "email", "one")), state=JourneyState(path=(5,)))
    assert result.state.status == "failed" and "no step at [5]" in str(result.state.exit_reason)
    waiting = JourneyState(path=(0,), status="waiting",
                           waiting=Waiting("delay", "gone", NOW, NOW - 1))
    assert run(flow(SendStep("a", "email", "one")), state=waiting).state.status == "failed"


# --- goals ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("goal", "person", "event", "reason"),
    [
        (Goal(event="purchase"), facts(), "purchase", "goal event 'purchase' happened"),
        (Goal(event="purchase"), facts(), "refund", None),
        (Goal(event="purchase"), facts(), None, None),
        (Goal(condition=PRO), facts({"plan": "pro"}), None,
         'goal condition met: plan = "pro" ✓ (saw "pro")'),
        (Goal(condition=PRO), facts({"plan": "free"}), "purchase", None),
        (None, facts(), "purchase", None),
    ],
)
def test_a_goal_is_reached_by_its_event_or_its_condition(
        goal: Goal | None, person: RuleFacts, event: str | None, reason: str | None) -> None:
    workflow = flow(DelayStep("d", DAY), goal=goal)
    state = run(workflow).state
    assert check_goal(workflow, state, person, NOW + HOUR, event) == reason


def test_reaching_the_goal_ends_the_journey_or_records_the_conversion() -> None:
    workflow = flow(DelayStep("d", DAY), goal=Goal(event="purchase"))
    state = run(workflow).state
    ended = converted(state, NOW + HOUR, True)
    assert (ended.status, ended.exit_reason, ended.converted_at, ended.waiting) == (
        "exited", "converted", NOW + HOUR, None)
    kept = converted(state, NOW + HOUR, False)
    assert kept.status == "waiting" and kept.converted_at == NOW + HOUR
    assert check_goal(workflow, kept, facts(), NOW + 2 * HOUR, "purchase") is None
    assert check_goal(workflow, ended, facts(), NOW + 2 * HOUR, "purchase") is None


# --- positions and progress -------------------------------------------------------------

NESTED = flow(
    SendStep("s0", "email", "t"),
    BranchStep("b1", PRO, then=(SendStep("s2", "email", "t"), DelayStep("d3", DAY)),
               otherwise=(SendStep("s4", "email", "t"),)),
    SplitStep("x5", (Cohort("A", 1, (SendStep("s6", "email", "t"),)), Cohort("B", 1))),
    WaitUntilStep("w7", DAY, event="e", on_timeout="branch",
                  timeout=(SendStep("s8", "email", "t"),)),
    ExitStep("x9"),
)


@pytest.mark.parametrize(
    ("step_id", "path"),
    [("s0", (0,)), ("b1", (1,)), ("d3", (1, "then", 1)), ("s4", (1, "else", 0)),
     ("s6", (2, "cohort", 0, 0)), ("s8", (3, "timeout", 0)), ("x9", (4,)), ("nope", None)],
)
def test_path_of_and_step_at_agree(step_id: str, path: tuple[Any, ...] | None) -> None:
    assert path_of(NESTED, step_id) == path
    if path is not None:
        found = step_at(NESTED, path)
        assert found is not None and found.id == step_id


@pytest.mark.parametrize("path", [(), (9,), (1, "then"), (1, "then", 5), (0, "then", 0),
                                  (2, "cohort", 7, 0), (1, "sideways", 0), ("x",)])
def test_step_at_is_none_for_paths_that_name_no_step(path: tuple[Any, ...]) -> None:
    assert step_at(NESTED, path) is None


def test_progress_counts_steps_done_and_the_steps_ahead_on_the_path() -> None:
    waiting = run(NESTED, facts({"plan": "pro"})).state  # s0, b1, s2 done; waits on d3
    assert (waiting.steps_done, waiting.path) == (3, (1, "then", 1))
    assert steps_on_path(NESTED, waiting) == 3 + 1 + 3  # d3, then x5, w7, x9
    ended = run(NESTED, facts(), now=NOW + DAY, state=waiting).state
    assert ended.status == "waiting" and ended.path == (3,)
    assert steps_on_path(NESTED, ended) == ended.steps_done + 2
    finished = JourneyState(path=(), status="completed", steps_done=6)
    assert steps_on_path(NESTED, finished) == 6
