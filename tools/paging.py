"""List paging shared by every area: read one row more than the page to know whether
another page follows, and hand out an opaque cursor to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tools.core.cursor import encode_cursor

T = TypeVar("T")


def paged(fetch: Callable[[int], list[T]], limit: int,
          position: Callable[[T], list[Any]]) -> tuple[list[T], str | None]:
    """The first `limit` rows `fetch(n)` returns, and the cursor of the next page (None on
    the last): `position(row)` is the sort position a cursor resumes after."""
    rows = fetch(limit + 1)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(position(rows[-1]))
