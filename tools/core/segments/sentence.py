"""Human-readable sentences for rules and conditions:
plan = "pro" and did "login" in the last 7 days."""

from __future__ import annotations

import json
from typing import Any

from tools.core.segments.nodes import (
    AllOf,
    AnyOf,
    AttrLeaf,
    DeviceLeaf,
    EventLeaf,
    Node,
    Not,
    SegmentLeaf,
)
from tools.core.timefmt import iso

_SYMBOLS = {
    "eq": "=", "neq": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "contains": "contains", "not_contains": "does not contain", "starts_with": "starts with",
    "ends_with": "ends with", "before": "is before", "after": "is after",
}
MAX_SHOWN = 80


def show(value: Any) -> str:
    """A value as JSON text, shortened when long."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def sentence(node: Node) -> str:
    """The whole rule as one sentence."""
    if isinstance(node, (AllOf, AnyOf)):
        joiner = " and " if isinstance(node, AllOf) else " or "
        return joiner.join(_nested(child) for child in node.children)
    if isinstance(node, Not):
        return f"not ({sentence(node.child)})"
    return leaf_sentence(node)


def _nested(node: Node) -> str:
    text = sentence(node)
    many = isinstance(node, (AllOf, AnyOf)) and len(node.children) > 1
    return f"({text})" if many else text


def leaf_sentence(leaf: Node) -> str:
    """One condition as a phrase."""
    if isinstance(leaf, AttrLeaf):
        return attr_sentence(leaf)
    if isinstance(leaf, EventLeaf):
        return _event_sentence(leaf)
    if isinstance(leaf, SegmentLeaf):
        return f"is {'not ' if leaf.negated else ''}in segment {show(leaf.segment_id)}"
    if isinstance(leaf, DeviceLeaf):
        what = f"{leaf.platform} device" if leaf.platform else "device"
        article = "an" if leaf.platform == "ios" or leaf.platform == "android" else "a"
        return f"has no {what}" if leaf.negated else f"has {article} {what}"
    return sentence(leaf)


def attr_sentence(leaf: AttrLeaf) -> str:
    """plan = "pro", created_at is within the last 30 days, tags contains "vip"."""
    name = leaf.name
    if leaf.op == "exists":
        return f"{name} is set"
    if leaf.op == "not_exists":
        return f"{name} is not set"
    if leaf.op in ("in", "not_in"):
        shown = ", ".join(show(choice) for choice in leaf.choices[:10])
        more = f" (and {len(leaf.choices) - 10} more)" if len(leaf.choices) > 10 else ""
        return f"{name} is {'not ' if leaf.op == 'not_in' else ''}one of {shown}{more}"
    if leaf.op in ("within", "not_within"):
        assert leaf.timeframe is not None
        verb = "is not" if leaf.op == "not_within" else "is"
        return f"{name} {verb} within the last {leaf.timeframe.words()}"
    if leaf.op in ("before", "after"):
        assert leaf.seconds is not None
        return f"{name} {_SYMBOLS[leaf.op]} {iso(leaf.seconds)}"
    return f"{name} {_SYMBOLS[leaf.op]} {show(leaf.value)}"


def _event_sentence(leaf: EventLeaf) -> str:
    if leaf.kind == "page":
        what = (f"a page whose URL contains {show(leaf.name)}" if leaf.match == "contains"
                else f"page {show(leaf.name)}")
        text = f"did not view {what}" if leaf.negated else f"viewed {what}"
    else:
        text = f"did not do {show(leaf.name)}" if leaf.negated else f"did {show(leaf.name)}"
    if leaf.filters:
        text += " with " + " and ".join(attr_sentence(f) for f in leaf.filters)
    if leaf.counted:
        text += f" {leaf.counted} time{'' if leaf.counted.endswith(' 1') else 's'}"
    if leaf.timeframe is not None:
        text += f" in the last {leaf.timeframe.words()}"
    return text
