"""The send-time preference decision, and the checks of stored preference choices.

Customer.io semantics: transactional messages ignore preferences (suppression is checked
elsewhere). A global unsubscribe stops every marketing message except in-app ones.
Webhooks are not messages to the person, so no preference applies to them. Otherwise a
channel opt-out, then the topic, decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from tools.core.delivery.channels import CHANNELS
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.validate import check_object

TopicDefault = Literal["opt_in", "opt_out"]
MAX_CHOICES = 100
MAX_NAME_CHARS = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
UNSUBSCRIBED = "unsubscribed from all marketing messages"


def drop_reason(channel: str, *, transactional: bool, globally_unsubscribed: bool,
                channel_choices: Mapping[str, bool], topic: str | None,
                topic_default: TopicDefault | None,
                topic_choices: Mapping[str, bool]) -> str | None:
    """None when the person's preferences allow the message, else why it is dropped."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if channel == "webhook" or transactional:
        return None
    if globally_unsubscribed and channel != "in_app":
        return UNSUBSCRIBED
    if channel_choices.get(channel) is False:
        return f"opted out of {channel}"
    if topic is None:
        return None
    return topic_reason(topic, topic_default, topic_choices.get(topic))


def topic_reason(topic: str, default: TopicDefault | None, choice: bool | None) -> str | None:
    """None when the person is subscribed to `topic`, else why not."""
    if default is None:
        return f"topic '{topic}' does not exist"
    if choice is False:
        return f"opted out of topic '{topic}'"
    if choice is None and default == "opt_in":
        return f"topic '{topic}' is opt-in and the person has not opted in"
    return None


def merge_choices(current: Mapping[str, bool],
                  changes: Mapping[str, bool | None]) -> dict[str, bool]:
    """`current` with `changes` applied; None removes a choice (back to the default)."""
    merged = dict(current)
    for name, choice in changes.items():
        if choice is None:
            merged.pop(name, None)
        else:
            merged[name] = choice
    return merged


def check_choices(value: Any, field: str, known: set[str] | None) -> dict[str, bool | None]:
    """A {name: true | false | null} object; names are identifiers, from `known` if given."""
    choices = check_object(value, field)
    if len(choices) > MAX_CHOICES:
        raise LimitExceeded(f"{field} has {len(choices)} entries; send at most {MAX_CHOICES} "
                            "at a time", field=field)
    for name, choice in choices.items():
        _check_name(name, field, known)
        if choice is not None and type(choice) is not bool:
            raise InvalidInput(
                f"{field}.{name} must be true (subscribed), false (opted out) or null (back "
                f"to the default), got {str(choice)[:40]!r}", field=f"{field}.{name}")
    return dict(choices)


def _check_name(name: str, field: str, known: set[str] | None) -> None:
    if known is not None and name not in known:
        raise InvalidInput(f"{field} has {name[:70]!r}; the allowed names are "
                           f"{', '.join(sorted(known))}", field=f"{field}.{name[:70]}")
    if len(name) > MAX_NAME_CHARS or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{field} has {name[:70]!r}, not a name: use 1-{MAX_NAME_CHARS} letters, digits, "
            "'_', '.' or '-', starting with a letter or digit", field=f"{field}.{name[:70]}")
