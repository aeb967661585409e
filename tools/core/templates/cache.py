"""A process-wide cache of parsed templates, keyed by environment, name and source text.

The key holds the source itself, so an edited template can never be served stale: the new
text is a new key. `discard` drops the entries of replaced sources so that memory goes with
them (templates_update and the delete operations call it after they commit).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liquid import BoundTemplate, Environment
    from liquid.static_analysis import TemplateAnalysis

CAPACITY = 1024


class Parsed:
    """One parsed source and (computed on first use) its own static analysis."""

    __slots__ = ("_analysis", "checked", "source", "template")

    def __init__(self, template: BoundTemplate, source: str) -> None:
        self.template = template
        self.source = source
        self.checked = False  # set once the save-time checks (filters exist) passed
        self._analysis: TemplateAnalysis | None = None

    def analysis(self) -> TemplateAnalysis:
        """Variables, filters and tags of this source alone (snippets not followed)."""
        if self._analysis is None:
            self._analysis = self.template.analyze(include_partials=False)
        return self._analysis


class ParseCache:
    """A bounded LRU of parsed templates, safe to share between threads."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[int, str, str], Parsed] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def parse(self, env: Environment, name: str, source: str) -> Parsed:
        """The parsed `source` (raises the LiquidError of a syntax error, never cached)."""
        key = (id(env), name, source)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
        entry = Parsed(env.from_string(source, name=name), source)
        with self._lock:
            self.misses += 1
            self._entries[key] = entry
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry

    def discard(self, sources: list[str]) -> int:
        """Forget every entry parsed from one of `sources`; returns how many went."""
        gone = set(sources)
        with self._lock:
            stale = [key for key in self._entries if key[2] in gone]
            for key in stale:
                del self._entries[key]
        return len(stale)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = ParseCache()
