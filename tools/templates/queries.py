"""Read units for templates: get, list, and what a preview needs (one read transaction)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from store import people_repo
from store import templates_repo as repo
from tools.core.errors import NotFound
from tools.core.timefmt import iso
from tools.paging import paged
from tools.templates.models import Template, TemplatesPage, TemplateSummary
from tools.templates.units import analyse, compile_stored, require_layout, require_template


def _layout_of(conn: sqlite3.Connection, row: repo.TemplateRow) -> repo.PieceRow | None:
    return require_layout(conn, row.layout_id) if row.layout_id else None


def read_template(conn: sqlite3.Connection, template_id: str) -> Template:
    """A template's sources with the snippets it renders and the variables it reads."""
    row = require_template(conn, template_id)
    layout = _layout_of(conn, row)
    found = analyse(conn, template_id, compile_stored(row, None), layout)
    return Template(
        template_id=row.template_id, channel=row.channel,  # type: ignore[arg-type]
        fields=row.fields, layout_id=row.layout_id, version=row.version,
        created_at=iso(row.created_at), updated_at=iso(row.updated_at),
        snippets=found.snippets, variables=found.used.paths,
    )


def read_templates(conn: sqlite3.Connection, channel: str | None, after: str | None,
                   limit: int) -> TemplatesPage:
    rows, cursor = paged(lambda n: repo.list_templates(conn, channel, after, n), limit,
                         lambda row: [row.template_id])
    return TemplatesPage(
        templates=[
            TemplateSummary(template_id=r.template_id, channel=r.channel,  # type: ignore[arg-type]
                            layout_id=r.layout_id, version=r.version, fields=sorted(r.fields),
                            updated_at=iso(r.updated_at))
            for r in rows
        ],
        total=repo.count_templates(conn, channel),
        next_cursor=cursor,
    )


@dataclass(frozen=True)
class PreviewInputs:
    template: repo.TemplateRow
    layout: repo.PieceRow | None
    snippets: dict[str, str]
    customer: dict[str, Any] | None  # the person's attributes plus id, when a user_id is given


def read_preview_inputs(conn: sqlite3.Connection, template_id: str,
                        user_id: str | None) -> PreviewInputs:
    """Everything a preview renders from, read before rendering (rendering does no I/O)."""
    row = require_template(conn, template_id)
    layout = _layout_of(conn, row)
    roots: list[tuple[repo.UserKind, str]] = [("template", template_id)]
    if layout is not None:
        roots.append(("layout", layout.piece_id))
    customer = None
    if user_id is not None:
        person = people_repo.find_person(conn, user_id)
        if person is None:
            raise NotFound(f"no person with user_id {user_id!r}; identify creates people and "
                           "list_people shows who exists", field="user_id")
        customer = {**person.attributes, "id": person.user_id}
    return PreviewInputs(row, layout, repo.snippet_closure(conn, roots), customer)
