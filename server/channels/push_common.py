"""A push to several devices as one Outcome, and the notification fields of push content."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from server.channels.base import Device, Outcome


@dataclass(frozen=True)
class DeviceResult:
    device: Device
    kind: Literal["sent", "transient", "permanent"]
    detail: str
    gone: bool = False
    retry_after: float | None = None
    provider_message_id: str | None = None


def short_id(device_id: str) -> str:
    return device_id if len(device_id) <= 16 else device_id[:16] + "…"


def combine(results: Sequence[DeviceResult], platforms: str) -> Outcome:
    """Any device sent: sent; else any transient: transient; else permanent."""
    if not results:
        return Outcome("permanent", f"the person has no {platforms} device")
    lines = tuple(f"{r.device.platform} {short_id(r.device.device_id)}: {r.detail}"
                  for r in results)
    gone = tuple(r.device.device_id for r in results if r.gone)
    sent = [r for r in results if r.kind == "sent"]
    transient = [r for r in results if r.kind == "transient"]
    tail = f"; {len(gone)} gone" if gone else ""
    if sent:
        return Outcome("sent", f"sent to {len(sent)} of {len(results)} devices{tail}",
                       provider_message_id=sent[0].provider_message_id,
                       gone_devices=gone, per_device=lines)
    if transient:
        waits = [r.retry_after for r in transient if r.retry_after is not None]
        return Outcome("transient", f"no device sent; {transient[0].detail}{tail}",
                       retry_after=max(waits) if waits else None,
                       gone_devices=gone, per_device=lines)
    return Outcome("permanent", f"no device sent; {results[0].detail}{tail}",
                   gone_devices=gone, per_device=lines)


def text(content: Mapping[str, Any], key: str) -> str | None:
    value = content.get(key)
    return value if isinstance(value, str) and value else None


def string_data(content: Mapping[str, Any]) -> dict[str, str]:
    """content["data"] with every value a string (non-strings as compact JSON)."""
    data = content.get("data")
    if not isinstance(data, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else compact(v) for k, v in data.items()}


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
