"""The send-time preference decision and the checks of preference choices."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.delivery.channels import CHANNELS
from tools.core.delivery.preferences import (
    TopicDefault,
    check_choices,
    drop_reason,
    merge_choices,
)
from tools.core.errors import InvalidInput, LimitExceeded

UNSUB = "unsubscribed from all marketing messages"


def decide(channel: str = "email", *, transactional: bool = False, unsubscribed: bool = False,
           channels: dict[str, bool] | None = None, topic: str | None = None,
           default: TopicDefault | None = None,
           topics: dict[str, bool] | None = None) -> str | None:
    return drop_reason(channel, transactional=transactional,
                       globally_unsubscribed=unsubscribed, channel_choices=channels or {},
                       topic=topic, topic_default=default, topic_choices=topics or {})


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        # nothing set: everything goes
        ({}, None),
        ({"channel": "sms"}, None),
        # global unsubscribe stops marketing on every channel but in-app and webhooks
        ({"unsubscribed": True}, UNSUB),
        ({"channel": "sms", "unsubscribed": True}, UNSUB),
        ({"channel": "push", "unsubscribed": True}, UNSUB),
        ({"channel": "in_app", "unsubscribed": True}, None),
        ({"channel": "webhook", "unsubscribed": True}, None),
        # the global reason wins over a channel and a topic opt-out
        ({"unsubscribed": True, "channels": {"email": False}, "topic": "news",
          "default": "opt_out", "topics": {"news": False}}, UNSUB),
        # channel opt-outs
        ({"channels": {"email": False}}, "opted out of email"),
        ({"channel": "sms", "channels": {"sms": False}}, "opted out of sms"),
        ({"channel": "sms", "channels": {"email": False}}, None),
        ({"channels": {"email": True}}, None),
        ({"channel": "in_app", "unsubscribed": True, "channels": {"in_app": False}},
         "opted out of in_app"),
        ({"channel": "webhook", "channels": {"webhook": False}}, None),
        # a channel opt-out wins over the topic
        ({"channel": "push", "channels": {"push": False}, "topic": "news",
          "default": "opt_in"}, "opted out of push"),
        # opt-out topics: subscribed unless the person opted out
        ({"topic": "news", "default": "opt_out"}, None),
        ({"topic": "news", "default": "opt_out", "topics": {"news": True}}, None),
        ({"topic": "news", "default": "opt_out", "topics": {"news": False}},
         "opted out of topic 'news'"),
        ({"topic": "news", "default": "opt_out", "topics": {"other": False}}, None),
        # opt-in topics: not subscribed unless the person opted in
        ({"topic": "news", "default": "opt_in"},
         "topic 'news' is opt-in and the person has not opted in"),
        ({"topic": "news", "default": "opt_in", "topics": {"news": True}}, None),
        ({"topic": "news", "default": "opt_in", "topics": {"news": False}},
         "opted out of topic 'news'"),
        ({"topic": "news", "default": "opt_in", "topics": {"other": True}},
         "topic 'news' is opt-in and the person has not opted in"),
        # in-app still honours the topic
        ({"channel": "in_app", "unsubscribed": True, "topic": "news", "default": "opt_in"},
         "topic 'news' is opt-in and the person has not opted in"),
        # a topic that no longer exists: dropped
        ({"topic": "gone"}, "topic 'gone' does not exist"),
        ({"topic": "gone", "topics": {"gone": True}}, "topic 'gone' does not exist"),
        # transactional messages ignore every preference
        ({"transactional": True, "unsubscribed": True}, None),
        ({"transactional": True, "channels": {"email": False}}, None),
        ({"channel": "sms", "transactional": True, "unsubscribed": True,
          "channels": {"sms": False}, "topic": "news", "default": "opt_in",
          "topics": {"news": False}}, None),
        ({"transactional": True, "topic": "gone"}, None),
        # webhooks are not messages to the person
        ({"channel": "webhook", "topic": "news", "default": "opt_in"}, None),
    ],
)
def test_preferences_decide_whether_a_message_is_dropped(
    case: dict[str, Any], reason: str | None
) -> None:
    assert decide(**case) == reason


def test_an_unknown_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        decide("fax")


@pytest.mark.parametrize(
    ("current", "changes", "merged"),
    [
        ({}, {}, {}),
        ({}, {"news": True}, {"news": True}),
        ({"news": True}, {"news": False}, {"news": False}),
        ({"news": True, "promo": False}, {"news": None}, {"promo": False}),
        ({"news": True}, {"absent": None}, {"news": True}),
        ({"a": True}, {"b": False, "c": None, "a": None}, {"b": False}),
    ],
)
def test_merging_choices_sets_them_and_null_returns_to_the_default(
    current: dict[str, bool], changes: dict[str, bool | None], merged: dict[str, bool]
) -> None:
    before = dict(current)
    assert merge_choices(current, changes) == merged
    assert current == before  # not modified in place


@pytest.mark.parametrize(
    ("value", "known"),
    [({}, None), ({"news": True, "promo": False, "old": None}, None),
     ({"a.b-c_9": True, "X" * 64: False}, None),
     ({channel: False for channel in CHANNELS}, set(CHANNELS)),
     ({"sms": None}, set(CHANNELS))],
)
def test_well_formed_choices_are_accepted(value: dict[str, Any], known: set[str] | None) -> None:
    assert check_choices(value, "topics", known) == value


@pytest.mark.parametrize(
    ("value", "known", "field", "says"),
    [
        ([], None, "topics", "must be an object"),
        ("news", None, "topics", "must be an object"),
        ({1: True}, None, "topics", "keys must be strings"),
        ({"news": 1}, None, "topics.news", "must be true"),
        ({"news": "true"}, None, "topics.news", "must be true"),
        ({"news": 0}, None, "topics.news", "must be true"),
        ({"": True}, None, "topics.", "not a name"),
        ({"-news": True}, None, "topics.-news", "not a name"),
        ({"news letter": True}, None, "topics.news letter", "not a name"),
        ({"x" * 65: True}, None, "topics." + "x" * 65, "1-64"),
        ({"fax": False}, set(CHANNELS), "topics.fax",
         "email, in_app, push, sms, webhook"),
        ({"Email": False}, set(CHANNELS), "topics.Email", "allowed names"),
    ],
)
def test_malformed_choices_are_refused_naming_the_entry(
    value: Any, known: set[str] | None, field: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        check_choices(value, "topics", known)
    assert info.value.field == field
    assert says in info.value.message


def test_at_most_100_choices_are_taken_at_once() -> None:
    with pytest.raises(LimitExceeded):
        check_choices({f"t{i}": True for i in range(101)}, "topics", None)
