"""A workflow definition as an agent writes it, validated in one go into a Workflow
(`parse_workflow`), the ids the store must check (`references`) and the canonical JSON back
(`to_json`; `parse_workflow(**to_json(w)) == w`). Nothing is half accepted: a whole
Workflow comes back or an InvalidInput (LimitExceeded for an oversized value or rule) whose
`field` is the path of the fault, like `steps[3].then[0].duration`. Unknown keys are refused
everywhere; null means "left out" except in attribute_changed's from / to.

    workflow_id  1-64 letters, digits, '_' or '-'      name  1-200 characters
    trigger, one of:
      {"type": "api"}                                  started by workflows_trigger
      {"type": "event", "event": "signup", "properties": [{"property": "plan",
          "operator": "eq", "value": "pro"}]}          filters as in segment rules
      {"type": "segment_entered" | "segment_exited", "segment_id": "vip"}
      {"type": "attribute_changed", "attribute": "plan", "from": "free", "to": "pro"}
                                                       from / to optional (null: was unset)
      {"type": "date", "attribute": "renewal_date", "offset": "-3d", "at": "09:00",
          "timezone": "Europe/Paris"}                  offset: signed duration (default
          "0s"); at: HH:MM in the person's `timezone` attribute, else `timezone` (UTC)
    steps: a list; each step {"id": optional, "type": ..., ...}. Without an id, one is made
    from the position: "s3" (steps[3]), "s3-then-0", "s3-else-1", "s2-cohort-1-0" (split
    cohort 1), "s4-timeout-0" (wait_until's timeout steps). Ids are unique in the workflow.
      send         channel (email, sms, push, in_app, webhook), template_id,
                   fallback [{"channel", "template_id"}], topic, transactional (false)
      delay        duration "1s" .. "365d"
      wait_until   event (+ properties) or condition (a rule), max_wait "1m" .. "365d",
                   on_timeout "continue" (default) | "exit" | [steps run on timeout]
      time_window  days ["mon".."sun"] (default all), start "09:00", end "17:00" (end after
                   start, "24:00" at most), timezone "person" (default: the person's
                   `timezone` attribute, UTC without one) | a zone like "Europe/Paris"
      branch       condition (a rule), then [steps], else [steps]: at least one non-empty
      split        cohorts: 2-10 of {"name", "weight" (> 0, default 1), "steps"}; names unique
      update_attributes  set {name: value} (strings may be Liquid), unset [names]
      webhook      template_id (a webhook template)
      emit_event   name, properties {}
      exit         -
    settings: {"reentry": "once" (default) | "always" | a duration like "7d" (at most once
    per that interval), "exit_on_trigger_exit": false (true only for segment_entered),
    "goal": {"event": NAME} or {"condition": rule}, with "exit": true (default)}.
    Limits: 200 steps in all, step lists nested at most 10 deep. Durations: durations.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, cast

from tools.core import limits
from tools.core.attributes import check_timezone
from tools.core.durations import check_duration, format_duration, parse_duration
from tools.core.errors import InvalidInput
from tools.core.journeys.definition_steps import (
    PARSERS,
    WEEKDAYS,
    YEAR,
    Scope,
    article,
    attribute_name,
    check_keys,
    clock,
    clock_text,
    condition,
    event_filters,
    flag,
    given,
    need,
)
from tools.core.journeys.model import (
    BranchStep,
    Goal,
    Settings,
    SplitStep,
    Step,
    TimeWindowStep,
    Trigger,
    TriggerType,
    WaitUntilStep,
    Workflow,
)
from tools.core.segments.slug import check_segment_id
from tools.core.templates.commands import check_id
from tools.core.validate import check_text
from tools.core.validate import to_json as json_text

NAME_MAX_CHARS = 200
TRIGGER_KEYS: dict[str, tuple[str, ...]] = {
    "api": (), "event": ("event", "properties"), "segment_entered": ("segment_id",),
    "segment_exited": ("segment_id",), "attribute_changed": ("attribute", "from", "to"),
    "date": ("attribute", "offset", "at", "timezone"),
}


@dataclass
class References:
    """What a workflow names: templates (id -> the channels it is sent on), segments,
    topics, and the events it reads (trigger, waits, goal, event conditions in rules)."""

    templates: dict[str, set[str]] = field(default_factory=dict)
    segments: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    emits: set[str] = field(default_factory=set)  # events its emit_event steps send


def parse_workflow(workflow_id: Any, name: Any, trigger: Any, steps: Any,
                   settings: Any = None) -> Workflow:
    """The validated Workflow, or InvalidInput naming the path of the first fault."""
    wid = check_id(workflow_id, "workflow_id")
    if isinstance(name, str) and len(name) > NAME_MAX_CHARS:
        raise InvalidInput(f"name is {len(name)} characters; use at most {NAME_MAX_CHARS}",
                           field="name")
    title = check_text(name, "name", 4 * NAME_MAX_CHARS, "workflow name")
    parsed_trigger = parse_trigger(trigger)
    parsed_steps = Scope().steps(steps, "steps", "s", 1, allow_empty=False)
    return Workflow(wid, title, parsed_trigger, parsed_steps,
                    parse_settings(settings, parsed_trigger))


def parse_trigger(raw: Any) -> Trigger:
    if not isinstance(raw, dict):
        raise InvalidInput("trigger must be an object like {\"type\": \"event\", \"event\": "
                           f"\"signup\"}}, got {type(raw).__name__}", field="trigger")
    kind = need(raw, "type", "trigger", f"write one of {', '.join(TRIGGER_KEYS)}")
    if not isinstance(kind, str) or kind not in TRIGGER_KEYS:
        raise InvalidInput(f"trigger.type {str(kind)[:40]!r} is not a trigger type; write one "
                           f"of {', '.join(TRIGGER_KEYS)}", field="trigger.type")
    check_keys(raw, "trigger", ("type", *TRIGGER_KEYS[kind]), f"{article(kind)} trigger")
    kind = cast(TriggerType, kind)
    if kind == "event":
        event, filters = event_filters(need(raw, "event", "trigger", "give the event name"),
                                       raw.get("properties"), "trigger")
        return Trigger("event", event=event, properties=filters)
    if kind in ("segment_entered", "segment_exited"):
        segment = need(raw, "segment_id", "trigger", "give the segment's id")
        return Trigger(kind, segment_id=check_segment_id(segment, "trigger.segment_id"))
    if kind == "attribute_changed":
        attribute = attribute_name(need(raw, "attribute", "trigger", "name the attribute"),
                                   "trigger.attribute")
        values = {f"{key}_value": _json_value(raw[key], f"trigger.{key}")
                  for key in ("from", "to") if key in raw}
        return Trigger(kind, attribute=attribute, **values)
    if kind == "date":
        return _date_trigger(raw)
    return Trigger("api")


def _json_value(value: Any, where: str) -> Any:
    json_text(value, where, limits.ATTRIBUTE_VALUE_MAX_BYTES)
    return value


def _date_trigger(raw: dict[str, Any]) -> Trigger:
    attribute = attribute_name(need(raw, "attribute", "trigger", "name the timestamp "
                                    "attribute, like 'renewal_date'"), "trigger.attribute")
    at = raw.get("at")
    return Trigger("date", attribute=attribute,
                   offset=_offset(given(raw, "offset", "0s"), "trigger.offset"),
                   at_time=None if at is None else clock(at, "trigger.at"),
                   timezone=check_timezone(given(raw, "timezone", "UTC"), "trigger.timezone"))


def _offset(value: Any, where: str) -> float:
    """A duration with an optional sign: '-3d' is three days before."""
    text = value if isinstance(value, str) else None
    sign = -1.0 if text and text.startswith("-") else 1.0
    body = text[1:] if text and text[0] in "+-" else text
    if body == "0s":
        return 0.0
    try:
        seconds = parse_duration(body, where)
    except InvalidInput:
        raise InvalidInput(f"{where} must be a duration with an optional sign, like '-3d' "
                           f"(3 days before), '12h' or '0s'; got {str(value)[:40]!r}",
                           field=where) from None
    if seconds > YEAR:
        raise InvalidInput(f"{where} {value!r} is out of range; use at most 365d either way",
                           field=where)
    return sign * seconds


def parse_settings(raw: Any, trigger: Trigger) -> Settings:
    if raw is None:
        return Settings()
    check_keys(raw, "settings", ("reentry", "exit_on_trigger_exit", "goal"), "settings")
    reentry, interval = given(raw, "reentry", "once"), None
    if reentry not in ("once", "always"):
        if not isinstance(reentry, str) or not reentry[:1].isdigit():
            raise InvalidInput("settings.reentry must be 'once', 'always' or a duration like "
                               f"'7d' (at most once per 7 days), got {str(reentry)[:40]!r}",
                               field="settings.reentry")
        reentry, interval = "interval", check_duration(reentry, "settings.reentry", 60, YEAR)
    leave = flag(raw, "exit_on_trigger_exit", "settings", False)
    if leave and trigger.type != "segment_entered":
        raise InvalidInput("settings.exit_on_trigger_exit needs a segment_entered trigger "
                           f"(this one is {trigger.type}); remove it",
                           field="settings.exit_on_trigger_exit")
    goal = raw.get("goal")
    return Settings(reentry, interval, leave, None if goal is None else _goal(goal))


def _goal(raw: Any) -> Goal:
    where = "settings.goal"
    check_keys(raw, where, ("event", "condition", "exit"), "a goal")
    has_event, has_condition = raw.get("event") is not None, raw.get("condition") is not None
    if has_event == has_condition:
        raise InvalidInput(f"{where}.event / {where}.condition: give exactly one, an event "
                           "name or a rule",
                           field=f"{where}.{'condition' if has_event else 'event'}")
    exit_ = flag(raw, "exit", where, True)
    if has_event:
        return Goal(event=event_filters(raw["event"], None, where)[0], exit=exit_)
    return Goal(condition=condition(raw["condition"], f"{where}.condition"), exit=exit_)


# --- what a workflow names ---------------------------------------------------------------

def walk(steps: tuple[Step, ...]) -> Iterator[Step]:
    """Every step, nested ones included, in document order."""
    for step in steps:
        yield step
        if isinstance(step, BranchStep):
            yield from walk(step.then)
            yield from walk(step.otherwise)
        elif isinstance(step, SplitStep):
            for cohort in step.cohorts:
                yield from walk(cohort.steps)
        elif isinstance(step, WaitUntilStep):
            yield from walk(step.timeout)


def references(workflow: Workflow) -> References:
    refs = References()
    trigger, goal = workflow.trigger, workflow.settings.goal
    _add(refs.segments, trigger.segment_id)
    _add(refs.events, trigger.event)
    if goal is not None:
        _add(refs.events, goal.event)
        _rule_references(goal.condition, refs)
    for step in walk(workflow.steps):
        if step.type == "send":
            for channel, template in ((step.channel, step.template_id), *step.fallback):
                refs.templates.setdefault(template, set()).add(channel)
            _add(refs.topics, step.topic)
        elif step.type == "webhook":
            refs.templates.setdefault(step.template_id, set()).add("webhook")
        elif step.type == "emit_event":
            refs.emits.add(step.name)
        elif step.type == "wait_until":
            _add(refs.events, step.event)
            _rule_references(step.condition, refs)
        elif step.type == "branch":
            _rule_references(step.condition, refs)
    return refs


def _add(names: set[str], name: str | None) -> None:
    if name is not None:
        names.add(name)


def _rule_references(rule: Mapping[str, Any] | None, refs: References) -> None:
    if rule is None:
        return
    for key in ("and", "or"):
        for child in rule.get(key, ()):
            _rule_references(child, refs)
    _rule_references(rule.get("not"), refs)
    _add(refs.segments, rule.get("segment"))
    _add(refs.events, rule.get("event"))


# --- back to JSON ------------------------------------------------------------------------

def to_json(workflow: Workflow) -> dict[str, Any]:
    """The canonical definition: generated ids filled in, durations normalised."""
    return {"workflow_id": workflow.workflow_id, "name": workflow.name,
            "trigger": _trigger_json(workflow.trigger),
            "steps": [step_json(step) for step in workflow.steps],
            "settings": _settings_json(workflow.settings)}


def _trigger_json(trigger: Trigger) -> dict[str, Any]:
    out: dict[str, Any] = {"type": trigger.type}
    if trigger.type == "event":
        out["event"] = trigger.event
        if trigger.properties:
            out["properties"] = _plain(trigger.properties)
    elif trigger.type in ("segment_entered", "segment_exited"):
        out["segment_id"] = trigger.segment_id
    elif trigger.type == "attribute_changed":
        out["attribute"] = trigger.attribute
        if trigger.has_from():
            out["from"] = _plain(trigger.from_value)
        if trigger.has_to():
            out["to"] = _plain(trigger.to_value)
    elif trigger.type == "date":
        sign = "-" if trigger.offset < 0 else ""
        out.update(attribute=trigger.attribute, offset=sign + format_duration(abs(trigger.offset)),
                   timezone=trigger.timezone)
        if trigger.at_time is not None:
            out["at"] = clock_text(trigger.at_time)
    return out


def _settings_json(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"reentry": settings.reentry}
    if settings.reentry == "interval":
        out["reentry"] = format_duration(settings.reentry_interval or 0)
    if settings.exit_on_trigger_exit:
        out["exit_on_trigger_exit"] = True
    goal = settings.goal
    if goal is not None:
        out["goal"] = ({"event": goal.event} if goal.event is not None
                       else {"condition": _plain(goal.condition)})
        out["goal"]["exit"] = goal.exit
    return out


_RENAMED = {"otherwise": "else", "seconds": "duration", "timeout": "on_timeout"}


def step_json(step: Step) -> dict[str, Any]:
    """One step as written: its keys in the input's order, empty and default values left
    out (on_timeout stays)."""
    if isinstance(step, TimeWindowStep):
        return {"id": step.id, "type": step.type,
                "days": [WEEKDAYS[d] for d in sorted(step.days)],
                "start": clock_text(step.start), "end": clock_text(step.end),
                "timezone": "person" if step.person_timezone else step.timezone}
    if isinstance(step, SplitStep):
        return {"id": step.id, "type": step.type, "cohorts": [
            {"name": c.name, "weight": int(c.weight) if c.weight.is_integer() else c.weight,
             "steps": [step_json(s) for s in c.steps]} for c in step.cohorts]}
    written: dict[str, Any] = {}
    for item in fields(step):
        value = getattr(step, item.name)
        if value is None or value is False or (isinstance(value, (tuple, Mapping))
                                               and not value):
            continue
        if item.name in ("seconds", "max_wait"):
            value = format_duration(value)
        elif item.name == "fallback":
            value = [{"channel": c, "template_id": t} for c, t in value]
        elif item.name in ("then", "otherwise", "timeout"):
            value = [step_json(s) for s in value]
        written[_RENAMED.get(item.name, item.name)] = _plain(value)
    if written.get("on_timeout") == "branch":
        del written["on_timeout"]  # the timeout steps take its place
    keys = ("id", "type", *PARSERS[step.type][1])
    return {key: written[key] for key in keys if key in written}


def _plain(value: Any) -> Any:
    """Tuples as lists and mappings as dicts, for JSON."""
    if isinstance(value, Mapping):
        return {key: _plain(child) for key, child in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(child) for child in value]
    return value
