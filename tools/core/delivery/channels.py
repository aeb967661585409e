"""The delivery channels, and the check of a channel name."""

from __future__ import annotations

from typing import Any, Literal

from tools.core.errors import InvalidInput

Channel = Literal["email", "sms", "push", "in_app", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "push", "in_app", "webhook")


def check_channel(value: Any, field: str = "channel") -> Channel:
    """One of CHANNELS."""
    if not isinstance(value, str) or value not in CHANNELS:
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidInput(
            f"{field} is {shown}; write one of {', '.join(CHANNELS)}", field=field
        )
    return value
