"""A small fixed world of people on a real SQLite file, for the rule agreement table: the
same people as StaticFacts (in memory) and as rows (for the SQL compiler and the loader)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from store import people_repo, segments_repo
from store.database import connect_sync
from tools.core.segments.evaluate import EventFact, StaticFacts

NOW = 1_780_000_000.0
H, D = 3600.0, 86_400.0
MANUAL = "beta-testers"

# user_id: (attributes, [(type, name, timestamp, data)], [platforms], in beta-testers)
PEOPLE: dict[str, tuple[dict[str, Any], list[tuple[str, str, float, dict[str, Any]]],
                        list[str], bool]] = {
    "ada": (
        {"plan": "pro", "age": 36, "score": 4.5, "vip": True, "tags": ["beta", "vip", 3],
         "email": "ada@example.com", "nickname": "", "created_at": NOW - 40 * D,
         "trial_end": NOW + 3 * D, "last_seen": NOW - 2 * H, "note": "café ☕"},
        [("event", "login", NOW - 1 * D, {}), ("event", "login", NOW - 3 * D, {}),
         ("event", "login", NOW - 10 * D, {}),
         ("event", "purchase", NOW - 2 * D, {"price": 29.5, "sku": "BOOK-42", "gift": True}),
         ("event", "purchase", NOW - 20 * D, {"price": 5, "sku": "PEN-1"}),
         ("page", "https://shop.example/pricing", NOW - 1 * H, {})],
        ["ios"], True,
    ),
    "bob": (
        {"plan": "free", "age": "36", "score": 10, "vip": False, "tags": "vip",
         "created_at": NOW - 5 * D, "trial_end": "2026-06-01", "last_seen": NOW - 8 * D},
        [("event", "login", NOW - 8 * D, {}),
         ("page", "https://shop.example/pricing?x=1", NOW - 3 * D, {}),
         ("event", "purchase", NOW - 1 * D, {"price": "30"})],
        ["android", "web"], False,
    ),
    "cy": (
        {"plan": "Pro", "age": 17, "created_at": NOW - 1 * D, "vip": 1, "tags": [],
         "email": "CY@EXAMPLE.COM"},
        [], [], False,
    ),
    "dee": (
        {"created_at": NOW - 400 * D},
        [("event", "login", NOW - 7 * D, {}), ("event", "login", NOW - 7 * D + 1, {}),
         ("screen", "checkout", NOW - 1 * H, {})],
        [], False,
    ),
    "eve": (
        {"plan": "team", "age": 36.0, "score": -1, "created_at": NOW - 30 * D,
         "trial_end": NOW, "nested": {"a": 1}},
        [*[("event", "login", NOW - k * H, {}) for k in (1, 2, 3, 30, 100)],
         ("event", "purchase", NOW - 1 * D, {"price": 100, "sku": "BOOK-1", "items": ["a"]})],
        ["ios", "ios"], False,
    ),
    "fay": (
        {"plan": ["pro"], "age": True, "created_at": NOW - 10 * D},
        [("event", "login", NOW + 30, {})],
        [], False,
    ),
}
EVERYONE = frozenset(PEOPLE)


def build(path: Path) -> tuple[sqlite3.Connection, dict[str, int]]:
    """The world in a freshly migrated database; returns the connection and segment pks."""
    conn = connect_sync(path)
    conn.execute("BEGIN")
    manual = segments_repo.insert_segment(conn, MANUAL, "Beta testers", None, "manual", None,
                                          NOW)
    for user_id, (attributes, events, platforms, beta) in PEOPLE.items():
        pk = people_repo.insert_person(conn, user_id, json.dumps(attributes, ensure_ascii=False),
                                       attributes.get("email"), attributes["created_at"], NOW)
        for kind, name, stamp, data in events:
            people_repo.insert_event(conn, (None, pk, None, kind, name,
                                            json.dumps(data, ensure_ascii=False), stamp, NOW))
        for number, platform in enumerate(platforms):
            people_repo.upsert_device(conn, pk, f"{user_id}-device-{number}", platform, "{}",
                                      NOW)
        if beta:
            segments_repo.enter(conn, manual, [pk], NOW, "manual")
    segments_repo.bump_version(conn)
    conn.execute("COMMIT")
    return conn, {MANUAL: manual}


def static_facts(user_id: str) -> StaticFacts:
    """Everything about one person, in memory (read from PEOPLE, not from the database)."""
    attributes, events, platforms, beta = PEOPLE[user_id]
    return StaticFacts(
        attrs=json.loads(json.dumps(attributes)),
        all_events=[EventFact(kind, name, stamp, data) for kind, name, stamp, data in events],
        devices=set(platforms), segments={MANUAL} if beta else set(),
    )
