"""Track API commands are checked before any I/O: who, what type, what name, when."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.people import prepare_device, prepare_identify, prepare_track

NOW = 1_780_000_000.0


def track(**overrides: Any) -> Any:
    args: dict[str, Any] = {"name": "login", "user_id": "ada", "anonymous_id": None,
                            "properties": None, "type": "event", "timestamp": None,
                            "event_id": None}
    args.update(overrides)
    return prepare_track(now=NOW, **args)


def test_a_track_defaults_to_now_and_empty_properties() -> None:
    cmd = track()
    assert (cmd.user_id, cmd.anonymous_id, cmd.name) == ("ada", None, "login")
    assert cmd.data_json == "{}" and cmd.timestamp == NOW and cmd.event_id is None


@pytest.mark.parametrize(("user_id", "anonymous_id"), [(None, None), ("ada", "anon-1")])
def test_a_track_needs_exactly_one_of_user_id_and_anonymous_id(
    user_id: Any, anonymous_id: Any
) -> None:
    with pytest.raises(InvalidInput) as info:
        track(user_id=user_id, anonymous_id=anonymous_id)
    assert "exactly one of user_id" in info.value.message


@pytest.mark.parametrize("kind", ["event", "page", "screen"])
def test_event_page_and_screen_are_the_event_types(kind: str) -> None:
    assert track(type=kind).type == kind


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        track(type="click")
    assert info.value.field == "type"


def test_a_page_name_is_a_url_and_may_be_longer_than_an_event_name() -> None:
    url = "https://example.com/" + "p" * 500
    assert track(type="page", name=url).name == url
    with pytest.raises(LimitExceeded):
        track(type="event", name="e" * 101)


def test_event_data_over_100000_bytes_is_refused() -> None:
    with pytest.raises(LimitExceeded) as info:
        track(properties={"blob": "x" * 100_000})
    assert info.value.field == "properties"


def test_identify_refuses_two_different_anonymous_ids() -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_identify("ada", {"anonymous_id": "a1"}, "a2", None, NOW)
    assert info.value.field == "anonymous_id"


def test_identify_accepts_the_same_anonymous_id_twice() -> None:
    cmd = prepare_identify("ada", {"anonymous_id": "a1"}, "a1", None, NOW)
    assert cmd.changes.anonymous_id == "a1"


def test_a_device_takes_last_used_out_of_its_attributes() -> None:
    cmd = prepare_device("ada", "tok", "ios", {"last_used": NOW - 60, "model": "x"}, NOW)
    assert cmd.last_used == NOW - 60 and cmd.attributes_json == '{"model":"x"}'


@pytest.mark.parametrize("platform", ["windows", "IOS", None])
def test_a_device_platform_must_be_ios_android_or_web(platform: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_device("ada", "tok", platform, None, NOW)
    assert info.value.field == "platform"
