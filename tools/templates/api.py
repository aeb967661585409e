"""Template operations of the engine (mixed into tools.api.CustomerIO).

    await cio.templates_create("welcome", "email", subject="Hi {{ customer.first_name }}",
                               body="<p>Welcome!</p>")
    await cio.templates_preview("welcome", user_id="ada")

Fields are given as `fields={...}` and/or keyword arguments (`from_` stands for `from`).
Parsing a saved source is CPU work: it runs on a worker thread (offload.off_loop), never on
the event loop; reads that may parse again are not `small`. Previews render in a render
process (render_pool), where a render running to its time budget takes nothing from the
other agents' calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from store.templates_repo import PieceKind
from tools.core.cursor import decode_cursor
from tools.core.errors import InvalidInput
from tools.core.templates.cache import CACHE
from tools.core.templates.channels import check_channel
from tools.core.templates.commands import (
    check_id,
    check_preview_context,
    prepare_piece,
    prepare_template,
)
from tools.core.templates.preview import render_preview
from tools.core.validate import check_identifier
from tools.engine import EngineBase, check_limit
from tools.render_pool import RENDERS
from tools.templates import pieces, queries, units
from tools.templates.models import (
    Piece,
    PieceDeleted,
    PieceSaved,
    PiecesPage,
    Preview,
    Template,
    TemplateDeleted,
    TemplateSaved,
    TemplatesPage,
)
from tools.templates.offload import off_loop


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def collect_fields(fields: Mapping[str, Any] | None, more: Mapping[str, Any]) -> dict[str, Any] | None:
    """`fields` plus keyword fields (`from_` -> `from`); None when neither was given."""
    if fields is not None and not isinstance(fields, Mapping):
        raise InvalidInput("fields must be an object of field name -> Liquid template",
                           field="fields")
    if fields is None and not more:
        return None
    collected = dict(fields or {})
    for name, value in more.items():
        collected["from" if name == "from_" else name] = value
    return collected


class TemplatesOps(EngineBase):
    """Templates, snippets and layouts; previews."""

    async def templates_create(self, template_id: str, channel: str,
                               fields: Mapping[str, Any] | None = None, *,
                               layout_id: str | None = None, **more: Any) -> TemplateSaved:
        """Parse and store a new template; returns the variables it uses and warnings."""
        cmd = await off_loop(prepare_template, template_id, channel, collect_fields(fields, more))
        layout = check_id(layout_id, "layout_id") if layout_id is not None else None
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_create(conn, cmd, layout, now))

    async def templates_update(self, template_id: str, fields: Mapping[str, Any] | None = None,
                               *, layout_id: str | None = UNSET, **more: Any) -> TemplateSaved:
        """Change some fields (None or "" removes an optional one) and/or the layout
        (None or "" removes it)."""
        tid = check_id(template_id, "template_id")
        changes = collect_fields(fields, more)
        keep_layout = layout_id is UNSET
        layout = None if keep_layout or not layout_id else check_id(layout_id, "layout_id")
        if changes is None and keep_layout:
            raise InvalidInput("nothing to update: give fields and/or layout_id",
                               field="fields")
        now = self.clock.now()
        updated = await self._write(
            lambda conn: units.apply_update(conn, tid, changes, layout, keep_layout, now))
        CACHE.discard(updated.replaced_sources)
        return updated.result

    async def templates_get(self, template_id: str) -> Template:
        """A template's sources, the snippets it renders and the variables it reads."""
        tid = check_id(template_id, "template_id")
        # not small: a template no longer in the parse cache is parsed again (CPU work that
        # must not run inline on the event loop)
        return await self._read(lambda conn: queries.read_template(conn, tid))

    async def templates_list(self, channel: str | None = None, limit: int = 50,
                             cursor: str | None = None) -> TemplatesPage:
        """Templates in id order, a page at a time, optionally of one channel."""
        size = check_limit(limit)
        name = check_channel(channel) if channel is not None else None
        after = decode_cursor(cursor, (str,))[0] if cursor is not None else None
        return await self._read(lambda conn: queries.read_templates(conn, name, after, size))

    async def templates_delete(self, template_id: str) -> TemplateDeleted:
        """Delete a template."""
        tid = check_id(template_id, "template_id")
        deleted, sources = await self._write(lambda conn: units.apply_delete(conn, tid))
        CACHE.discard(sources)
        return deleted

    async def templates_preview(self, template_id: str, user_id: str | None = None,
                                context: Mapping[str, Any] | None = None) -> Preview:
        """Render every field for a stored person and/or an explicit context."""
        tid = check_id(template_id, "template_id")
        uid = check_identifier(user_id) if user_id is not None else None
        extra = check_preview_context(context)
        inputs = await self._read(lambda conn: queries.read_preview_inputs(conn, tid, uid),
                                  small=True)
        template, layout = inputs.template, inputs.layout
        rendered, warnings = await RENDERS.run(
            self.agent_id, render_preview, template.channel, template.fields,
            layout.body if layout else None, inputs.snippets, inputs.customer, extra,
            self.clock.now())
        return Preview(template_id=tid, channel=inputs.template.channel,  # type: ignore[arg-type]
                       user_id=uid, layout_id=inputs.template.layout_id, fields=rendered,
                       warnings=warnings)

    # --- snippets and layouts ----------------------------------------------------------

    async def _put_piece(self, kind: PieceKind, piece_id: str, body: str) -> PieceSaved:
        cmd = await off_loop(prepare_piece, kind, piece_id, body)
        now = self.clock.now()
        saved, replaced = await self._write(lambda conn: pieces.apply_put(conn, cmd, now))
        if replaced is not None and replaced != body:
            CACHE.discard([replaced])
        return saved

    async def _get_piece(self, kind: PieceKind, piece_id: str) -> Piece:
        pid = check_id(piece_id, f"{kind}_id")
        return await self._read(lambda conn: pieces.read_piece(conn, kind, pid))  # parses

    async def _list_pieces(self, kind: PieceKind, limit: int, cursor: str | None) -> PiecesPage:
        size = check_limit(limit)
        after = decode_cursor(cursor, (str,))[0] if cursor is not None else None
        return await self._read(lambda conn: pieces.read_pieces(conn, kind, after, size))

    async def _delete_piece(self, kind: PieceKind, piece_id: str) -> PieceDeleted:
        pid = check_id(piece_id, f"{kind}_id")
        deleted, body = await self._write(lambda conn: pieces.apply_delete(conn, kind, pid))
        CACHE.discard([body])
        return deleted

    async def templates_snippet_put(self, snippet_id: str, body: str) -> PieceSaved:
        """Create or replace a snippet, rendered with {% render 'snippet_id' %}."""
        return await self._put_piece("snippet", snippet_id, body)

    async def templates_snippet_get(self, snippet_id: str) -> Piece:
        """A snippet's source, what it renders and reads, and who renders it."""
        return await self._get_piece("snippet", snippet_id)

    async def templates_snippet_list(self, limit: int = 50, cursor: str | None = None) -> PiecesPage:
        """Snippets in id order, a page at a time."""
        return await self._list_pieces("snippet", limit, cursor)

    async def templates_snippet_delete(self, snippet_id: str) -> PieceDeleted:
        """Delete a snippet that no template, layout or snippet renders."""
        return await self._delete_piece("snippet", snippet_id)

    async def templates_layout_put(self, layout_id: str, body: str) -> PieceSaved:
        """Create or replace an email layout; it places the message with {{ content }}."""
        return await self._put_piece("layout", layout_id, body)

    async def templates_layout_get(self, layout_id: str) -> Piece:
        """A layout's source, what it renders and reads, and the templates that use it."""
        return await self._get_piece("layout", layout_id)

    async def templates_layout_list(self, limit: int = 50, cursor: str | None = None) -> PiecesPage:
        """Layouts in id order, a page at a time."""
        return await self._list_pieces("layout", limit, cursor)

    async def templates_layout_delete(self, layout_id: str) -> PieceDeleted:
        """Delete a layout that no template uses."""
        return await self._delete_piece("layout", layout_id)
