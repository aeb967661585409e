"""What keeps a render bounded and free of I/O.

python-liquid enforces loop iterations, output size, context depth and local namespace
size (limits on the Environment). This module adds the time bound (checked on every loop
iteration, assignment, snippet render and filter call) and the snippet loader: snippets are
read from the store BEFORE rendering and handed to the render as a mapping of name to
source, so a `{% render %}` tag never touches a file or a database.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from io import StringIO
from typing import TYPE_CHECKING, Any, TextIO

from liquid import BoundTemplate, RenderContext
from liquid.exceptions import (
    ContextDepthError,
    FilterArgumentError,
    LoopIterationLimitError,
    OutputStreamLimitError,
    ResourceLimitError,
    TemplateNotFoundError,
)
from liquid.loader import BaseLoader, TemplateSource

from tools.core.templates import limits
from tools.core.templates.cache import CACHE
from tools.core.templates.values import held_size

if TYPE_CHECKING:
    from contextlib import _GeneratorContextManager


class RenderTimeLimitError(ResourceLimitError):
    """The render ran past its time bound."""


class RenderLimitError(ResourceLimitError):
    """A filter was asked for more work than a render may do."""


class FilterLimitError(RenderLimitError, FilterArgumentError):
    """A limit hit inside a filter. Being a FilterArgumentError too, python-liquid gives
    it the filter's own position (a plain limit error gets its statement's)."""


class RenderBudget:
    """The state of one message render: its snippets, its clock reading, its deadline."""

    __slots__ = ("deadline", "loads", "now", "snippets", "time_limit")

    def __init__(self, snippets: Mapping[str, str], now: datetime, time_limit: float) -> None:
        self.snippets = snippets
        self.now = now
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit
        self.loads = 0

    def check_time(self) -> None:
        """Raise RenderTimeLimitError once the deadline has passed."""
        if time.monotonic() > self.deadline:
            raise RenderTimeLimitError(
                f"rendering took longer than {self.time_limit * 1000:.0f} ms", token=None
            )

    def paced(self, items: Iterator[Any]) -> Iterator[Any]:
        """`items`, checking the deadline before each one."""
        deadline = self.deadline
        for item in items:
            if time.monotonic() > deadline:
                self.check_time()
            yield item


BUDGET: ContextVar[RenderBudget | None] = ContextVar("template_render_budget", default=None)


def current_budget() -> RenderBudget | None:
    """The budget of the render in progress on this thread / task, if any."""
    return BUDGET.get()


class render_scope:  # noqa: N801 - used like a function: `with render_scope(...) as budget`
    """Make `snippets` and the clock reading `now` available to renders in this block."""

    __slots__ = ("budget", "token")

    def __init__(self, snippets: Mapping[str, str], now: datetime,
                 time_limit: float = limits.RENDER_TIME_LIMIT_S) -> None:
        self.budget = RenderBudget(snippets, now, time_limit)

    def __enter__(self) -> RenderBudget:
        self.token = BUDGET.set(self.budget)
        return self.budget

    def __exit__(self, *exc: object) -> None:
        BUDGET.reset(self.token)


_write = StringIO.write


class GuardedBuffer(StringIO):
    """An output buffer with room for `room` more characters. (python-liquid's
    LimitedStringIO counts UTF-8 bytes, an encode per write; this is the cheaper bound.)
    The deadline is watched by loops, assigns, snippet renders and filters."""

    __slots__ = ("room",)

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, text: str) -> int:  # noqa: D102
        self.room -= len(text)
        if self.room < 0:
            raise OutputStreamLimitError(
                f"the output is over the limit of {limits.OUTPUT_MAX_CHARS:,} characters",
                token=None)
        return _write(self, text)


class GuardedContext(RenderContext):
    """A render context that also enforces the time bound and a range-size bound, counts
    what assigned arrays and objects hold (python-liquid counts only their top level), and
    keeps Python's (key, value) pairs out of `object.first`."""

    __slots__ = ("_held",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: dict[int, tuple[object, int]] = {}  # id -> (array or object, size)

    def get_item(self, obj: Any, key: Any) -> Any:  # noqa: D102
        if (key == "first" or key == "last") and isinstance(obj, dict) and key not in obj:
            raise KeyError(key)  # an object has no first or last: nil
        return super().get_item(obj, key)

    def get_size_of_locals(self) -> int:
        """Bytes held by assigned values, arrays and objects counted deeply."""
        limit = self.env.local_namespace_limit
        if not limit:
            return 0
        total = self.local_namespace_size_carry
        held: dict[int, tuple[object, int]] = {}
        for value in self.locals.values():
            if isinstance(value, (list, tuple, dict)):
                known = self._held.get(id(value))
                size = known[1] if known is not None and known[0] is value \
                    else held_size(value, limit)
                held[id(value)] = (value, size)
            else:
                size = sys.getsizeof(value, 1)
            total += size
        self._held = held  # only values still assigned: nothing is kept alive
        return total

    def assign(self, key: str, val: Any) -> None:  # noqa: D102
        budget = BUDGET.get()
        if budget is not None:
            budget.check_time()
        super().assign(key, val)

    def loop(self, namespace: Mapping[str, object],
             forloop: Any) -> _GeneratorContextManager[RenderContext]:
        budget = BUDGET.get()
        if budget is not None:
            forloop.it = budget.paced(forloop.it)
        return super().loop(namespace, forloop)

    def stopindex(self, key: str, index: int | None = None) -> int:
        # The for tag records where a loop stops BEFORE it may materialise the items
        # (`reversed`), so a huge range is refused here, before any memory is spent.
        if index is not None and index > limits.SEQUENCE_ITEMS:
            raise LoopIterationLimitError(
                f"a loop over {index:,} items is over the limit of "
                f"{limits.LOOP_ITERATIONS:,} iterations", token=None
            )
        return super().stopindex(key, index)

    def get_buffer(self, buf: TextIO | None = None) -> StringIO:  # noqa: D102
        if isinstance(buf, GuardedBuffer):  # {% capture %} shares the room left
            return GuardedBuffer(buf.room)
        return super().get_buffer(buf)


class MessageTemplate(BoundTemplate):
    """A parsed template whose renders (including snippets) use GuardedContext."""

    context_class = GuardedContext


class SnippetLoader(BaseLoader):
    """Loads `{% render 'name' %}` snippets from the mapping of the render in progress."""

    def get_source(self, env: Any, template_name: str, *, context: Any = None,
                   **kwargs: object) -> TemplateSource:  # noqa: D102
        budget = BUDGET.get()
        source = budget.snippets.get(template_name) if budget is not None else None
        if source is None:
            raise TemplateNotFoundError(
                f"snippet {template_name!r} does not exist", filename=template_name
            )
        return TemplateSource(source, template_name, None)

    def load(self, env: Any, name: str, *, globals: Mapping[str, object] | None = None,  # noqa: A002
             context: Any = None, **kwargs: object) -> BoundTemplate:
        """The parsed snippet (from the shared parse cache)."""
        source = self.get_source(env, name, context=context)
        budget = BUDGET.get()
        if budget is not None:
            budget.check_time()
            budget.loads += 1
            if budget.loads > limits.SNIPPET_LOADS:
                raise ContextDepthError(
                    f"more than {limits.SNIPPET_LOADS} snippet renders in one message",
                    token=None,
                )
        return CACHE.parse(env, name, source.text).template


def render_to_string(template: BoundTemplate, data: Mapping[str, object]) -> str:
    """Render one parsed template with `data` as its globals (inside a render_scope)."""
    context = GuardedContext(template, globals=template.make_globals(data))
    buffer = GuardedBuffer(limits.OUTPUT_MAX_CHARS)
    template.render_with_context(context, buffer)
    return buffer.getvalue()
