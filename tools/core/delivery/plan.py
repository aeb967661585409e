"""Fallback plans: the channels to try, in order, when the primary channel cannot deliver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.core.delivery.channels import CHANNELS, Channel, check_channel
from tools.core.errors import InvalidInput
from tools.core.templates.commands import check_id

MAX_FALLBACKS = 4
_KEYS = ("channel", "template_id")


@dataclass(frozen=True)
class FallbackStep:
    channel: Channel
    template_id: str | None = None


def check_fallback(value: Any, primary: str, field: str = "fallback") -> list[FallbackStep]:
    """An ordered list of {"channel", "template_id"?} (null: none), at most four, each
    channel once and none the `primary` channel."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list like [{{\"channel\": \"sms\"}}], got "
                           f"{type(value).__name__}", field=field)
    if len(value) > MAX_FALLBACKS:
        raise InvalidInput(f"{field} has {len(value)} steps; give at most {MAX_FALLBACKS}",
                           field=field)
    steps: list[FallbackStep] = []
    for index, item in enumerate(value):
        step = _step(item, f"{field}[{index}]")
        _check_new(step.channel, primary, steps, f"{field}[{index}].channel")
        steps.append(step)
    return steps


def _step(item: Any, where: str) -> FallbackStep:
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object like {{\"channel\": \"sms\"}}, got "
                           f"{type(item).__name__}", field=where)
    extra = sorted(str(key) for key in item if key not in _KEYS)
    if extra:
        raise InvalidInput(f"{where} has unknown key {extra[0][:40]!r}; the keys are "
                           "channel and template_id", field=where)
    if "channel" not in item:
        raise InvalidInput(f"{where} has no channel; write one of {', '.join(CHANNELS)}",
                           field=f"{where}.channel")
    channel = check_channel(item["channel"], f"{where}.channel")
    template_id = item.get("template_id")
    if template_id is not None:
        template_id = check_id(template_id, f"{where}.template_id")
    return FallbackStep(channel, template_id)


def _check_new(channel: str, primary: str, steps: list[FallbackStep], where: str) -> None:
    if channel == primary:
        raise InvalidInput(f"{where} is {channel!r}, the primary channel; a fallback must "
                           "be a different channel", field=where)
    if any(step.channel == channel for step in steps):
        raise InvalidInput(f"{where} repeats {channel!r}; list each channel at most once",
                           field=where)
