"""The steps of a workflow definition: parsing each step type (see definition.py for the
format), the checks shared with the trigger and settings, and the way back to JSON."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.core import limits
from tools.core.attributes import check_email, check_timezone
from tools.core.delivery.channels import CHANNELS, check_channel
from tools.core.delivery.plan import check_fallback
from tools.core.durations import check_duration
from tools.core.errors import InvalidInput
from tools.core.journeys.model import (
    WEEKDAYS,
    BranchStep,
    Cohort,
    DelayStep,
    EmitEventStep,
    ExitStep,
    SendStep,
    SplitStep,
    Step,
    TimeWindowStep,
    UpdateAttributesStep,
    WaitUntilStep,
    WebhookStep,
)
from tools.core.segments.rules import parse_rule
from tools.core.templates.commands import check_id
from tools.core.templates.compile import parse as parse_liquid
from tools.core.templates.environment import TEXT
from tools.core.validate import check_event_name, check_object, check_text, to_json

MAX_STEPS = 200  # in the whole workflow, nested ones included
MAX_DEPTH = 10  # step lists inside step lists, the top level being 1
DAY, YEAR = 86_400, 365 * 86_400
MAX_COHORTS, MAX_ATTRIBUTES = 10, 100
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_FILTER_KEYS = ("property", "operator", "value")
_RESERVED = ("_update", "anonymous_id")  # identify directives, not attributes


# --- checks shared with the trigger and settings -----------------------------------------

def check_keys(raw: Any, where: str, allowed: Sequence[str], what: str) -> dict[str, Any]:
    """`raw` is an object whose keys are all in `allowed`."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} must be an object ({what}), got {type(raw).__name__}",
                           field=where)
    for key in raw:
        if key not in allowed:
            shown = str(key)[:40]
            raise InvalidInput(f"{where}.{shown} is not a known key; {what} takes "
                               f"{', '.join(allowed) or 'no keys'}", field=f"{where}.{shown}")
    return raw


def article(word: str) -> str:
    """'an exit', 'a send'."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def need(raw: dict[str, Any], key: str, where: str, hint: str) -> Any:
    """The value of a required key (null counts as missing)."""
    if raw.get(key) is None:
        raise InvalidInput(f"{where}.{key} is missing; {hint}", field=f"{where}.{key}")
    return raw[key]


def given(raw: dict[str, Any], key: str, default: Any) -> Any:
    """The value of an optional key; null counts as left out."""
    value = raw.get(key)
    return default if value is None else value


def flag(raw: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if type(value) is not bool:
        raise InvalidInput(f"{where}.{key} must be true or false, got {str(value)[:40]!r}",
                           field=f"{where}.{key}")
    return value


def clock(value: Any, where: str, allow_midnight_end: bool = False) -> int:
    """'09:30' -> minutes of the day (570); '24:00' too when it ends a window."""
    if allow_midnight_end and value == "24:00":
        return 1440
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"{where} must be a time of day 'HH:MM' (24-hour, like '09:00' or "
                           f"'17:30'), got {str(value)[:40]!r}", field=where)
    return int(match[1]) * 60 + int(match[2])


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def condition(raw: Any, where: str) -> dict[str, Any]:
    """A rule in the segment rule language, in its canonical JSON."""
    return parse_rule(raw, where).canonical


def event_filters(name: Any, properties: Any, where: str) -> tuple[str, tuple[Any, ...]]:
    """An event name and filters on its properties, checked as a rule's event condition."""
    name = check_event_name(name, f"{where}.event")
    if properties is None:
        return name, ()
    if not isinstance(properties, list):
        raise InvalidInput(
            f"{where}.properties must be a list of filters like [{{\"property\": \"plan\", "
            f"\"operator\": \"eq\", \"value\": \"pro\"}}], got {type(properties).__name__}",
            field=f"{where}.properties")
    for index, item in enumerate(properties):
        check_keys(item, f"{where}.properties[{index}]", _FILTER_KEYS, "a property filter")
    canonical = parse_rule({"event": name, "properties": properties}, where).canonical
    return name, tuple(canonical.get("properties", ()))


def attribute_name(value: Any, where: str) -> str:
    """An attribute name as identify accepts it."""
    name = check_text(value, where, limits.ATTRIBUTE_NAME_MAX_BYTES, "attribute name")
    if name in _RESERVED:
        raise InvalidInput(f"{where} {name!r} is not an attribute (it is an identify "
                           "option); use another name", field=where)
    return name


# --- steps ---------------------------------------------------------------------------------

@dataclass
class Scope:
    """Parsing state: ids taken (id -> the path that has it), steps counted so far."""

    ids: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def steps(self, raw: Any, where: str, prefix: str, depth: int,
              allow_empty: bool = True) -> tuple[Step, ...]:
        """A list of steps at nesting `depth`; a step without an id gets prefix + index."""
        if not isinstance(raw, list):
            raise InvalidInput(f"{where} must be a list of steps like [{{\"type\": \"delay\", "
                               f"\"duration\": \"1d\"}}], got {type(raw).__name__}", field=where)
        if not raw and not allow_empty:
            raise InvalidInput(f"{where} is empty; give at least one step", field=where)
        if raw and depth > MAX_DEPTH:
            raise InvalidInput(f"{where} nests steps {depth} deep; the limit is {MAX_DEPTH}. "
                               "Move the inner part into another workflow (an emit_event step "
                               "can start it)", field=where)
        return tuple(self.step(item, f"{where}[{index}]", f"{prefix}{index}", depth)
                     for index, item in enumerate(raw))

    def step(self, raw: Any, where: str, generated: str, depth: int) -> Step:
        self.count += 1
        if self.count > MAX_STEPS:
            raise InvalidInput(f"{where}: a workflow has at most {MAX_STEPS} steps, counting "
                               "those in branches, splits and timeouts; split it into workflows "
                               "linked by emit_event", field=where)
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where} must be a step object like {{\"type\": \"delay\", "
                               f"\"duration\": \"1d\"}}, got {type(raw).__name__}", field=where)
        kind = need(raw, "type", where, f"write one of {', '.join(PARSERS)}")
        if not isinstance(kind, str) or kind not in PARSERS:
            raise InvalidInput(f"{where}.type {str(kind)[:40]!r} is not a step type; write one "
                               f"of {', '.join(PARSERS)}", field=f"{where}.type")
        parser, keys = PARSERS[kind]
        check_keys(raw, where, ("id", "type", *keys), f"{article(kind)} step")
        step_id = self.claim(raw.get("id"), where, generated)
        return parser(raw, where, step_id, lambda value, key, label: self.steps(
            value, f"{where}.{key}", f"{generated}-{label}-", depth + 1))

    def claim(self, written: Any, where: str, generated: str) -> str:
        step_id = short_id(generated) if written is None else check_id(written, f"{where}.id")
        other = self.ids.get(step_id)
        if other is not None:
            said = (f"{where}.id is left out, and the one made from its position, {step_id!r},"
                    if written is None else f"{where}.id {step_id!r}")
            raise InvalidInput(f"{said} is already the id of {other}; step ids are unique "
                               f"across the workflow: give {where} another id",
                               field=f"{where}.id")
        self.ids[step_id] = where
        return step_id


def short_id(generated: str) -> str:
    """A generated id within the 64-character limit (a hash replaces a deep path's tail)."""
    if len(generated) <= 64:
        return generated
    return generated[:55] + "-" + hashlib.blake2s(generated.encode(), digest_size=4).hexdigest()


# (list, its key path under the step, label for generated ids) -> the nested steps
Nested = Callable[[Any, str, str], tuple[Step, ...]]


def _send(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    channel = check_channel(need(raw, "channel", where, f"write one of {', '.join(CHANNELS)}"),
                            f"{where}.channel")
    template = check_id(need(raw, "template_id", where, f"give the id of a {channel} template"),
                        f"{where}.template_id")
    pairs = []
    for index, item in enumerate(check_fallback(raw.get("fallback"), channel,
                                                f"{where}.fallback")):
        if item.template_id is None:
            place = f"{where}.fallback[{index}].template_id"
            raise InvalidInput(f"{place} is missing; give the {item.channel} template to send "
                               "instead", field=place)
        pairs.append((item.channel, item.template_id))
    topic = raw.get("topic")
    return SendStep(sid, channel, template, tuple(pairs),
                    None if topic is None else check_id(topic, f"{where}.topic"),
                    flag(raw, "transactional", where, False))


def _delay(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    duration = need(raw, "duration", where, "write a duration like '3d'")
    return DelayStep(sid, check_duration(duration, f"{where}.duration", 1, YEAR))


def _wait_until(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    has_event, has_condition = raw.get("event") is not None, raw.get("condition") is not None
    if has_event == has_condition:
        raise InvalidInput(
            f"{where}.event / {where}.condition: give exactly one, the name of an event to "
            f"wait for or a rule to wait for ({'both' if has_event else 'neither'} given)",
            field=f"{where}.{'condition' if has_event else 'event'}")
    if has_condition and raw.get("properties") is not None:
        raise InvalidInput(f"{where}.properties filter an event; with a condition, put event "
                           "filters inside the condition", field=f"{where}.properties")
    max_wait = check_duration(need(raw, "max_wait", where, "write the longest wait, like '3d'"),
                              f"{where}.max_wait", 60, YEAR)
    event, filters = (event_filters(raw["event"], raw.get("properties"), where) if has_event
                      else (None, ()))
    rule = condition(raw["condition"], f"{where}.condition") if has_condition else None
    timeout: tuple[Step, ...] = ()
    on_timeout = given(raw, "on_timeout", "continue")
    if isinstance(on_timeout, list) and on_timeout:
        on_timeout, timeout = "branch", nested(on_timeout, "on_timeout", "timeout")
    elif on_timeout not in ("continue", "exit"):
        raise InvalidInput(f"{where}.on_timeout must be 'continue', 'exit' or a non-empty list "
                           f"of steps to run on timeout, got {str(on_timeout)[:40]!r}",
                           field=f"{where}.on_timeout")
    return WaitUntilStep(sid, max_wait, event, filters, rule, on_timeout, timeout)


def _time_window(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    days = given(raw, "days", list(WEEKDAYS))
    if not isinstance(days, list) or not days:
        raise InvalidInput(f"{where}.days must be a non-empty list of {', '.join(WEEKDAYS)} "
                           "(or left out for every day)", field=f"{where}.days")
    numbers: set[int] = set()
    for index, day in enumerate(days):
        if day not in WEEKDAYS or WEEKDAYS.index(day) in numbers:
            said = "repeats" if day in WEEKDAYS else "is not a day:"
            raise InvalidInput(f"{where}.days[{index}] {said} {str(day)[:20]!r}; write each of "
                               f"{', '.join(WEEKDAYS)} at most once",
                               field=f"{where}.days[{index}]")
        numbers.add(WEEKDAYS.index(day))
    start = clock(need(raw, "start", where, "write a time like '09:00'"), f"{where}.start")
    end = clock(need(raw, "end", where, "write a time like '17:00'"), f"{where}.end", True)
    if end <= start:
        raise InvalidInput(f"{where}.end {clock_text(end)!r} must be after start "
                           f"{clock_text(start)!r}: a window lies within one day (end it at "
                           "'24:00' at the latest)", field=f"{where}.end")
    zone = given(raw, "timezone", "person")
    if zone == "person":
        return TimeWindowStep(sid, frozenset(numbers), start, end)
    return TimeWindowStep(sid, frozenset(numbers), start, end,
                          check_timezone(zone, f"{where}.timezone"), person_timezone=False)


def _branch(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    rule = condition(need(raw, "condition", where, "write a rule like {\"attribute\": \"plan\", "
                          "\"operator\": \"eq\", \"value\": \"pro\"}"), f"{where}.condition")
    then, otherwise = (() if raw.get(key) is None else nested(raw[key], key, key)
                       for key in ("then", "else"))
    if not then and not otherwise:
        raise InvalidInput(f"{where}.then and {where}.else are both empty; give steps to at "
                           "least one of them (or remove the branch)", field=f"{where}.then")
    return BranchStep(sid, rule, then, otherwise)


def _split(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    cohorts = need(raw, "cohorts", where, "write 2-10 cohorts like {\"name\": \"A\", "
                   "\"weight\": 50, \"steps\": [...]}")
    if not isinstance(cohorts, list) or not 2 <= len(cohorts) <= MAX_COHORTS:
        raise InvalidInput(f"{where}.cohorts must be a list of 2 to {MAX_COHORTS} cohorts",
                           field=f"{where}.cohorts")
    parsed: list[Cohort] = []
    for index, item in enumerate(cohorts):
        place = f"{where}.cohorts[{index}]"
        check_keys(item, place, ("name", "weight", "steps"), "a cohort")
        name = check_text(need(item, "name", place, "name the cohort, like 'A'"),
                          f"{place}.name", 100, "cohort name")
        if any(c.name == name for c in parsed):
            raise InvalidInput(f"{place}.name {name!r} is taken by another cohort; cohort names "
                               "are unique", field=f"{place}.name")
        weight = given(item, "weight", 1)
        if (type(weight) not in (int, float) or not math.isfinite(weight)
                or not 0 < weight <= 1_000_000):
            raise InvalidInput(f"{place}.weight must be a number above 0 (up to 1,000,000), "
                               f"like 50, got {str(weight)[:40]!r}", field=f"{place}.weight")
        steps = () if item.get("steps") is None else nested(
            item["steps"], f"cohorts[{index}].steps", f"cohort-{index}")
        parsed.append(Cohort(name, float(weight), steps))
    return SplitStep(sid, tuple(parsed))


def _update_attributes(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    sets = check_object(given(raw, "set", {}), f"{where}.set")
    unset = given(raw, "unset", [])
    if not isinstance(unset, list):
        raise InvalidInput(f"{where}.unset must be a list of attribute names",
                           field=f"{where}.unset")
    if not sets and not unset:
        raise InvalidInput(f"{where}.set and {where}.unset are both empty; give set "
                           "{\"name\": value} and/or unset [\"name\"]", field=f"{where}.set")
    if len(sets) + len(unset) > MAX_ATTRIBUTES:
        raise InvalidInput(f"{where}.set and unset change {len(sets) + len(unset)} attributes; "
                           f"give at most {MAX_ATTRIBUTES} per step", field=f"{where}.set")
    values = {attribute_name(name, f"{where}.set.{name[:40]}"):
              _attribute_value(name, value, f"{where}.set.{name}")
              for name, value in sets.items()}
    names: list[str] = []
    for index, name in enumerate(unset):
        place = f"{where}.unset[{index}]"
        attribute_name(name, place)
        if name in values or name in names or name == "created_at":
            raise InvalidInput(f"{place} {name!r} cannot be unset here (it is set by this step, "
                               "listed twice, or created_at); remove it", field=place)
        names.append(name)
    return UpdateAttributesStep(sid, values, tuple(names))


def _attribute_value(name: str, value: Any, where: str) -> Any:
    if value is None:
        raise InvalidInput(f"{where} is null; to remove the attribute, list it in unset",
                           field=where)
    to_json(value, where, limits.ATTRIBUTE_VALUE_MAX_BYTES)
    liquid = isinstance(value, str) and ("{{" in value or "{%" in value)
    if liquid:
        parse_liquid(TEXT, where, value)
    elif name == "email":
        check_email(value, where)
    elif name == "timezone":
        check_timezone(value, where)
    elif name == "unsubscribed" and type(value) is not bool:
        raise InvalidInput(f"{where} must be true or false", field=where)
    return value


def _webhook(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    template = need(raw, "template_id", where, "give the id of a webhook template")
    return WebhookStep(sid, check_id(template, f"{where}.template_id"))


def _emit_event(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    name = check_event_name(need(raw, "name", where, "give the event name"), f"{where}.name")
    properties = check_object(given(raw, "properties", {}), f"{where}.properties")
    to_json(properties, f"{where}.properties", limits.EVENT_DATA_MAX_BYTES)
    return EmitEventStep(sid, name, dict(properties))


def _exit(raw: dict[str, Any], where: str, sid: str, nested: Nested) -> Step:
    return ExitStep(sid)


Parser = Callable[[dict[str, Any], str, str, Nested], Step]
PARSERS: dict[str, tuple[Parser, tuple[str, ...]]] = {
    "send": (_send, ("channel", "template_id", "fallback", "topic", "transactional")),
    "delay": (_delay, ("duration",)),
    "wait_until": (_wait_until, ("event", "properties", "condition", "max_wait", "on_timeout")),
    "time_window": (_time_window, ("days", "start", "end", "timezone")),
    "branch": (_branch, ("condition", "then", "else")),
    "split": (_split, ("cohorts",)),
    "update_attributes": (_update_attributes, ("set", "unset")),
    "webhook": (_webhook, ("template_id",)),
    "emit_event": (_emit_event, ("name", "properties")),
    "exit": (_exit, ()),
}
