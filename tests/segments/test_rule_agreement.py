"""One table of cases through three implementations on real SQLite: the Python evaluator on
facts in memory, the SQL compiler over the people table, and the evaluator on facts loaded
per person from the database (what real-time membership uses). All must give the table's
answer, and agree on when each answer next changes by time alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import segments_repo
from tests.segments.cases import CASES
from tests.segments.world import NOW, PEOPLE, D, H, build, static_facts
from tools.core.segments.compile import Compiler
from tools.core.segments.evaluate import evaluate, judge, next_change
from tools.core.segments.nodes import Node
from tools.core.segments.rules import parse_rule
from tools.segments.facts import PersonFacts
from tools.segments.index import index_for

IDS = [name for name, _, _ in CASES]
LATER = [NOW + 30, NOW + 1 * H, NOW + 3 * D, NOW + 8 * D, NOW + 40 * D]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection,
                                                                      dict[str, int]]]:
    conn, pks = build(Path(tmp_path_factory.mktemp("world")) / "world.sqlite3")
    yield conn, pks
    conn.close()


def via_sql(conn: sqlite3.Connection, pks: dict[str, int], root: Node, now: float) -> set[str]:
    compiler = Compiler(now, pks)
    where = compiler.value(root)
    rows = conn.execute(f"SELECT p.user_id FROM people p WHERE {where}", compiler.params)
    return {row[0] for row in rows}


def loaded_facts(conn: sqlite3.Connection, user_id: str) -> PersonFacts:
    pk = conn.execute("SELECT pk FROM people WHERE user_id = ?", (user_id,)).fetchone()[0]
    return PersonFacts(conn, pk, index_for(conn), segments_repo.memberships_of(conn, pk))


def via_loader(conn: sqlite3.Connection, root: Node, now: float) -> set[str]:
    return {uid for uid in PEOPLE if evaluate(root, loaded_facts(conn, uid), now)}


def via_python(root: Node, now: float) -> set[str]:
    return {uid for uid in PEOPLE if evaluate(root, static_facts(uid), now)}


def test_the_table_has_at_least_sixty_cases_with_unique_names() -> None:
    assert len(CASES) >= 60
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize(("name", "rule", "expected"), CASES, ids=IDS)
def test_evaluator_compiler_and_loader_give_the_expected_members(
    world: tuple[sqlite3.Connection, dict[str, int]], name: str, rule: dict[str, Any],
    expected: frozenset[str],
) -> None:
    conn, pks = world
    root = parse_rule(rule).root
    assert via_python(root, NOW) == expected
    assert via_sql(conn, pks, root, NOW) == expected
    assert via_loader(conn, root, NOW) == expected


@pytest.mark.parametrize(("name", "rule", "expected"), CASES, ids=IDS)
def test_all_three_agree_at_later_times_too(
    world: tuple[sqlite3.Connection, dict[str, int]], name: str, rule: dict[str, Any],
    expected: frozenset[str],
) -> None:
    conn, pks = world
    root = parse_rule(rule).root
    for when in LATER:
        python = via_python(root, when)
        assert via_sql(conn, pks, root, when) == python, when
        assert via_loader(conn, root, when) == python, when


@pytest.mark.parametrize(("name", "rule", "expected"), CASES, ids=IDS)
def test_next_change_agrees_between_python_sql_and_loader(
    world: tuple[sqlite3.Connection, dict[str, int]], name: str, rule: dict[str, Any],
    expected: frozenset[str],
) -> None:
    conn, pks = world
    parsed = parse_rule(rule)
    compiler = Compiler(NOW, pks)
    change = compiler.next_change(parsed.root)
    if not parsed.time_relative:
        assert change is None
        assert all(next_change(parsed.root, static_facts(uid), NOW) is None for uid in PEOPLE)
        return
    assert change is not None
    from_sql = dict(conn.execute(f"SELECT p.user_id, {change} FROM people p", compiler.params))
    for uid in PEOPLE:
        python = next_change(parsed.root, static_facts(uid), NOW)
        assert from_sql[uid] == python, uid
        assert next_change(parsed.root, loaded_facts(conn, uid), NOW) == python, uid


@pytest.mark.parametrize(("name", "rule", "expected"), CASES, ids=IDS)
def test_judge_is_evaluate_and_next_change_in_one_walk(
    world: tuple[sqlite3.Connection, dict[str, int]], name: str, rule: dict[str, Any],
    expected: frozenset[str],
) -> None:
    conn, _ = world
    root = parse_rule(rule).root
    for uid in PEOPLE:
        for when in (NOW, *LATER):
            both = (evaluate(root, static_facts(uid), when),
                    next_change(root, static_facts(uid), when))
            assert judge(root, static_facts(uid), when) == both, (uid, when)
            assert judge(root, loaded_facts(conn, uid), when) == both, (uid, when)


@pytest.mark.parametrize(("name", "rule", "expected"), CASES, ids=IDS)
def test_no_answer_changes_before_its_predicted_next_change(
    name: str, rule: dict[str, Any], expected: frozenset[str],
) -> None:
    root = parse_rule(rule).root
    for uid in PEOPLE:
        facts = static_facts(uid)
        answer = evaluate(root, facts, NOW)
        change = next_change(root, facts, NOW)
        if change is None:
            probes = [NOW + offset for offset in (1, H, D, 8 * D, 40 * D, 500 * D)]
        else:
            assert change > NOW
            span = change - NOW
            probes = [NOW + span * fraction for fraction in (0.01, 0.5, 0.99)]
            probes.append(change - 1e-3)
        for when in probes:
            assert evaluate(root, facts, when) == answer, (uid, when, change)
