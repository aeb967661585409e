"""A plain-text version of an HTML email (for text_body when none is given).

Headings, paragraphs, list items and table rows become lines; links become
"text (url)"; images their alt text; <head>, <style> and <script> are dropped. One regular
expression splits the HTML into tags and text; every alternative either matches a bounded
prefix or runs to the end of the input, so the scan is linear even for broken markup (and
links do not nest, so each piece of text is joined once).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment (an unclosed one runs to the end)
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*)([^>]*)(?:>|\Z)"  # start or end tag
    r"|<[!?][^>]*(?:>|\Z)"  # doctype, processing instruction
    r"|[^<]+|<",  # text
    re.S,
)
_ATTRIBUTE = re.compile(r"""\b(href|alt)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_DROPPED = frozenset({"head", "style", "script", "title", "template", "noscript"})
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
                        "ul", "ol", "hr", "section", "article", "header", "footer"})
_LINE = frozenset({"div", "tr", "li", "dt", "dd", "center"})
# Markers: a line break and a paragraph break from block tags (merged when adjacent), <br>.
_SOFT, _HARD, _BR = "\x01", "\x02", "\x03"
_BLANK_LINES = re.compile(r"\n{3,}")


def _attributes(text: str) -> dict[str, str]:
    return {name.lower(): unescape(value.strip("\"'"))
            for name, value in _ATTRIBUTE.findall(text)}


class _Text:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, index of the first part of its text)

    def start(self, tag: str, attributes: str) -> None:
        if tag in _PARAGRAPH:
            self.parts.append(_HARD)
        elif tag == "br":
            self.parts.append(_BR)
        elif tag in _LINE:
            self.parts.append(_SOFT + "- " if tag == "li" else _SOFT)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            if self.links:  # links do not nest: a new one ends the open one (as browsers do)
                self.end("a")
            self.links.append((_attributes(attributes).get("href", ""), len(self.parts)))
        elif tag == "img":
            self.parts.append(_attributes(attributes).get("alt", ""))

    def end(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self.parts.append(_HARD)
        elif tag in _LINE and tag != "li":
            self.parts.append(_SOFT)
        elif tag == "a" and self.links:
            href, first = self.links.pop()
            text = "".join(self.parts[first:]).strip()
            if href and not href.startswith("#") and href != text:
                self.parts.append(f" ({href.removeprefix('mailto:')})" if text else href)

    def result(self, check: Callable[[], None]) -> str:
        # Only C-speed string operations (no per-match callbacks): spaces around markers
        # go, a run of markers is a paragraph break if it holds one, else a line break.
        text = " ".join("".join(self.parts).split())
        check()
        for marker in (_SOFT, _HARD):
            text = text.replace(" " + marker, marker).replace(marker + " ", marker)
        text = _squeeze(text, _SOFT).replace(_SOFT + _HARD, _HARD).replace(_HARD + _SOFT, _HARD)
        check()
        text = _squeeze(text, _HARD).replace(_HARD, "\n\n").replace(_SOFT, "\n")
        text = text.replace(_BR, "\n").replace(" \n", "\n").replace("\n ", "\n")
        return _BLANK_LINES.sub("\n\n", text).strip()


def _squeeze(text: str, char: str) -> str:
    """`text` with every run of `char` made one."""
    double = char * 2
    while double in text:
        text = text.replace(double, char)
    return text


def _no_check() -> None:
    return None


def html_to_text(html: str, check: Callable[[], None] = _no_check) -> str:
    """The readable text of `html`; `check` is called every 1,024 tokens (a render passes
    its deadline check)."""
    out = _Text()
    dropping: str | None = None
    for count, match in enumerate(_TOKEN.finditer(html)):
        if count & 1023 == 1023:
            check()
        tag = match[2]
        if tag is None:
            if dropping is None and not match[0].startswith(("<!", "<?")):
                out.parts.append(unescape(match[0]) if "&" in match[0] else match[0])
            continue
        name = tag.lower()
        if dropping is not None:
            if match[1] and name == dropping:
                dropping = None
        elif name in _DROPPED and not match[1]:
            dropping = None if match[3].rstrip().endswith("/") else name
        elif match[1]:
            out.end(name)
        else:
            out.start(name, match[3])
            if match[3].rstrip().endswith("/"):
                out.end(name)
    check()
    return out.result(check)
