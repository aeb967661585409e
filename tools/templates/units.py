"""Units of work for templates: sync functions run inside one transaction on the agent's
connection (see store.database.AgentDatabase.write)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from store import journeys_repo
from store import templates_repo as repo
from tools.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from tools.core.templates import limits
from tools.core.templates.cache import CACHE
from tools.core.templates.channels import Sources, template_sources
from tools.core.templates.commands import (
    TemplateCommand,
    merge_fields,
    prepare_template,
    variable_warnings,
)
from tools.core.templates.compile import (
    UsedVariables,
    check_references,
    snippet_references,
    variables_of,
)
from tools.core.templates.environment import HTML
from tools.core.templates.render import CompiledMessage, compile_message
from tools.core.validate import to_json
from tools.templates.models import TemplateDeleted, TemplateSaved

FIELDS_MAX_BYTES = 1_000_000


def template_not_found(template_id: str) -> NotFound:
    return NotFound(f"no template {template_id!r}; templates_list shows the ids",
                    field="template_id")


def require_template(conn: sqlite3.Connection, template_id: str) -> repo.TemplateRow:
    row = repo.get_template(conn, template_id)
    if row is None:
        raise template_not_found(template_id)
    return row


def require_layout(conn: sqlite3.Connection, layout_id: str) -> repo.PieceRow:
    row = repo.get_piece(conn, "layout", layout_id)
    if row is None:
        raise NotFound(f"no layout {layout_id!r}; templates_layout_list shows the ids and "
                       "templates_layout_put creates one", field="layout_id")
    return row


def direct_snippets(conn: sqlite3.Connection, message: CompiledMessage) -> list[str]:
    """The snippets the message's fields render; each must exist (errors say where)."""
    wanted = sorted({ref.name for part in message.parts
                     for ref in snippet_references(part.parsed.template) if ref.name})
    known = repo.existing_snippets(conn, wanted)
    used: list[str] = []
    for part in message.parts:
        for name in check_references(part.path, part.parsed, known):
            if name not in used:
                used.append(name)
    return used


@dataclass(frozen=True)
class Analysis:
    snippets: list[str]
    used: UsedVariables


def analyse(conn: sqlite3.Connection, template_id: str, message: CompiledMessage,
            layout: repo.PieceRow | None) -> Analysis:
    """The snippets (transitively) and variables of a stored template and its layout."""
    roots: list[tuple[repo.UserKind, str]] = [("template", template_id)]
    if layout is not None:
        roots.append(("layout", layout.piece_id))
    closure = repo.snippet_closure(conn, roots)
    used = variables_of([part.parsed.template for part in message.parts], closure)
    if layout is not None:
        layout_used = variables_of([CACHE.parse(HTML, "layout", layout.body).template], closure,
                                   {"content"})
        used = UsedVariables(sorted({*used.paths, *layout_used.paths}),
                             used.customer_attributes + [a for a in layout_used.customer_attributes
                                                         if a not in used.customer_attributes])
    return Analysis(sorted(closure), used)


def _saved(conn: sqlite3.Connection, cmd: TemplateCommand, layout: repo.PieceRow | None,
           version: int, created: bool) -> TemplateSaved:
    found = analyse(conn, cmd.template_id, cmd.message, layout)
    warnings = variable_warnings(found.used, lambda name: repo.attribute_in_use(conn, name))
    return TemplateSaved(
        template_id=cmd.template_id, channel=cmd.channel,  # type: ignore[arg-type]
        version=version, created=created, layout_id=layout.piece_id if layout else None,
        snippets=found.snippets, variables=found.used.paths, warnings=warnings,
    )


def _check_layout(conn: sqlite3.Connection, channel: str,
                  layout_id: str | None) -> repo.PieceRow | None:
    if layout_id is None:
        return None
    if channel != "email":
        raise InvalidInput("only email templates have a layout", field="layout_id")
    return require_layout(conn, layout_id)


def apply_create(conn: sqlite3.Connection, cmd: TemplateCommand, layout_id: str | None,
                 now: float) -> TemplateSaved:
    """Store a new template after checking its layout and snippets exist."""
    if repo.get_template(conn, cmd.template_id) is not None:
        raise Conflict(f"template {cmd.template_id!r} already exists; templates_update "
                       "changes it", field="template_id")
    if repo.count_templates(conn) >= limits.TEMPLATES_PER_AGENT:
        raise LimitExceeded(f"an agent holds at most {limits.TEMPLATES_PER_AGENT:,} templates; "
                            "delete some first", field="template_id")
    layout = _check_layout(conn, cmd.channel, layout_id)
    snippets = direct_snippets(conn, cmd.message)
    repo.insert_template(conn, cmd.template_id, cmd.channel,
                         to_json(cmd.fields, "fields", FIELDS_MAX_BYTES), layout_id, now)
    repo.set_uses(conn, "template", cmd.template_id, snippets)
    return _saved(conn, cmd, layout, 1, True)


@dataclass(frozen=True)
class Updated:
    result: TemplateSaved
    replaced_sources: list[str]  # sources no longer used (dropped from the parse cache)


def apply_update(conn: sqlite3.Connection, template_id: str, changes: Sources | None,
                 layout_id: str | None, keep_layout: bool, now: float) -> Updated:
    """Merge the changes into the stored template, re-check everything, store it."""
    row = require_template(conn, template_id)
    fields = merge_fields(row.channel, row.fields, changes)
    cmd = prepare_template(template_id, row.channel, fields)
    new_layout_id = row.layout_id if keep_layout else layout_id
    layout = _check_layout(conn, row.channel, new_layout_id)
    snippets = direct_snippets(conn, cmd.message)
    version = repo.update_template(conn, template_id,
                                   to_json(cmd.fields, "fields", FIELDS_MAX_BYTES),
                                   new_layout_id, now)
    repo.set_uses(conn, "template", template_id, snippets)
    old = {source for _, source, _ in template_sources(row.channel, row.fields)}
    new = {source for _, source, _ in template_sources(row.channel, cmd.fields)}
    return Updated(_saved(conn, cmd, layout, version, False), sorted(old - new))


def apply_delete(conn: sqlite3.Connection, template_id: str) -> tuple[TemplateDeleted, list[str]]:
    """Delete a template; returns its sources too (for the parse cache)."""
    row = require_template(conn, template_id)
    workflows = journeys_repo.workflows_using(conn, "template", template_id)
    if workflows:
        raise Conflict(f"template {template_id!r} is sent by workflow(s) "
                       f"{', '.join(map(repr, workflows))}; change or archive those first "
                       "(workflows_delete)", field="template_id")
    repo.delete_template(conn, template_id)
    sources = [source for _, source, _ in template_sources(row.channel, row.fields)]
    return TemplateDeleted(template_id=template_id, deleted=True), sources


def compile_stored(row: repo.TemplateRow, layout: repo.PieceRow | None) -> CompiledMessage:
    """The compiled form of a stored template (parse cache hits after the first time)."""
    return compile_message(row.channel, row.fields, layout.body if layout else None)
