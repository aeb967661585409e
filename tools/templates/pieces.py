"""Units of work for snippets and layouts (the pieces templates are built from)."""

from __future__ import annotations

import sqlite3

from store import templates_repo as repo
from tools.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from tools.core.templates import limits
from tools.core.templates.cache import CACHE
from tools.core.templates.commands import PieceCommand, variable_warnings
from tools.core.templates.compile import check_references, snippet_references, variables_of
from tools.core.templates.environment import HTML, TEXT
from tools.core.timefmt import iso
from tools.core.validate import utf8_len
from tools.paging import paged
from tools.templates.models import Piece, PieceDeleted, PieceSaved, PiecesPage, PieceSummary

_LIMITS = {"snippet": limits.SNIPPETS_PER_AGENT, "layout": limits.LAYOUTS_PER_AGENT}


def piece_not_found(kind: repo.PieceKind, piece_id: str) -> NotFound:
    return NotFound(f"no {kind} {piece_id!r}; templates_{kind}_list shows the ids",
                    field=f"{kind}_id")


def _users(conn: sqlite3.Connection, kind: repo.PieceKind, piece_id: str) -> list[str]:
    if kind == "layout":
        return [f"template:{t}" for t in repo.templates_using_layout(conn, piece_id)]
    return [f"{k}:{i}" for k, i in repo.users_of(conn, piece_id)]


def _cycle(conn: sqlite3.Connection, snippet_id: str, renders: list[str]) -> list[str] | None:
    """The path snippet_id -> ... -> snippet_id that `renders` would close, if any."""
    graph = repo.snippet_graph(conn)
    graph[snippet_id] = renders
    paths = {name: [snippet_id, name] for name in renders}
    queue = list(renders)
    while queue:
        current = queue.pop(0)
        if current == snippet_id:
            return paths[current]
        for following in graph.get(current, []):
            if following not in paths:
                paths[following] = [*paths[current], following]
                queue.append(following)
    return None


def apply_put(conn: sqlite3.Connection, cmd: PieceCommand,
              now: float) -> tuple[PieceSaved, str | None]:
    """Create or replace a snippet or layout after checking what it renders; returns the
    replaced body too (for the parse cache)."""
    kind: repo.PieceKind = "snippet" if cmd.kind == "snippet" else "layout"
    existing = repo.get_piece(conn, kind, cmd.piece_id)
    if existing is None and repo.count_pieces(conn, kind) >= _LIMITS[kind]:
        raise LimitExceeded(f"an agent holds at most {_LIMITS[kind]:,} {kind}s; delete some "
                            "first", field=f"{kind}_id")
    wanted = [ref.name for ref in snippet_references(cmd.parsed.template) if ref.name]
    known = repo.existing_snippets(conn, wanted)
    renders = check_references("body", cmd.parsed, known | {cmd.piece_id} if kind == "snippet"
                               else known)
    if kind == "snippet":
        cycle = _cycle(conn, cmd.piece_id, renders)
        if cycle is not None:
            raise InvalidInput(f"snippet {cmd.piece_id!r} would render itself: "
                               f"{' -> '.join(cycle)}; remove one of these renders",
                               field="body")
    version = repo.put_piece(conn, kind, cmd.piece_id, cmd.body, now)
    repo.set_uses(conn, kind, cmd.piece_id, renders)
    closure = repo.snippet_closure(conn, [(kind, cmd.piece_id)])
    used = variables_of([cmd.parsed.template], closure,
                        {"content"} if kind == "layout" else ())
    saved = PieceSaved(
        id=cmd.piece_id, kind=kind, created=existing is None, version=version,
        snippets=sorted(closure), variables=used.paths, used_by=_users(conn, kind, cmd.piece_id),
        warnings=variable_warnings(used, lambda name: repo.attribute_in_use(conn, name)),
    )
    return saved, existing.body if existing is not None else None


def read_piece(conn: sqlite3.Connection, kind: repo.PieceKind, piece_id: str) -> Piece:
    """A stored snippet or layout with what it renders, reads and who uses it."""
    row = repo.get_piece(conn, kind, piece_id)
    if row is None:
        raise piece_not_found(kind, piece_id)
    closure = repo.snippet_closure(conn, [(kind, piece_id)])
    parsed = CACHE.parse(HTML if kind == "layout" else TEXT, "body", row.body)
    used = variables_of([parsed.template], closure, {"content"} if kind == "layout" else ())
    return Piece(id=row.piece_id, kind=kind, body=row.body, version=row.version,
                 created_at=iso(row.created_at), updated_at=iso(row.updated_at),
                 snippets=sorted(closure), variables=used.paths,
                 used_by=_users(conn, kind, row.piece_id))


def apply_delete(conn: sqlite3.Connection, kind: repo.PieceKind,
                 piece_id: str) -> tuple[PieceDeleted, str]:
    """Delete a snippet or layout nobody uses; returns its body (for the parse cache)."""
    row = repo.get_piece(conn, kind, piece_id)
    if row is None:
        raise piece_not_found(kind, piece_id)
    users = _users(conn, kind, piece_id)
    if users:
        shown = ", ".join(users[:10]) + (" ..." if len(users) > 10 else "")
        raise Conflict(f"{kind} {piece_id!r} is used by {shown}; change those first",
                       field=f"{kind}_id")
    repo.delete_piece(conn, kind, piece_id)
    return PieceDeleted(id=piece_id, kind=kind, deleted=True), row.body


def read_pieces(conn: sqlite3.Connection, kind: repo.PieceKind, after: str | None,
                limit: int) -> PiecesPage:
    rows, cursor = paged(lambda n: repo.list_pieces(conn, kind, after, n), limit,
                         lambda row: [row.piece_id])
    return PiecesPage(
        items=[PieceSummary(id=r.piece_id, version=r.version, bytes=utf8_len(r.body),
                            updated_at=iso(r.updated_at)) for r in rows],
        total=repo.count_pieces(conn, kind),
        next_cursor=cursor,
    )
