"""Attribute lists and template leftovers: syntax the generator consumes, never text a reader sees.

- kramdown's inline attribute lists and extensions (https://kramdown.gettalong.org/syntax.html#inline-attribute-lists):
  `{: .notice}` on its own line, `[link](url){:target="_blank"}` after a span, `{:ref: .x}`
  definitions, `{::comment}…{:/comment}` (dropped), `{::nomarkdown}…{:/}` (kept), `{::options /}`;
- goldmark's attributes (`## Title {#id .class}`, `{.class}` on its own line after a block);
- template syntax a generator would expand and we cannot (a `{{ var }}` left after Liquid or
  Nunjucks ran): removed with a warning, and an HTML tag holding one goes whole (`<img src="">`).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from syndicate.content.markdown.anchors import Explicit, explicit_key
from syndicate.content.markdown.context import Context

_HEADING = r"^( {0,3}#{1,6}[ \t].*?)[ \t]*\{[#.:][^{}\n]*\}[ \t]*$"
_OWN_LINE = r"^[ \t]*\{(?::[^{}\n]*|[.#][\w-][^{}\n]*)\}[ \t]*(?:\n|$)"
_SPAN = r"\{:(?!:)[^{}\n]*\}"
_ATTRS = re.compile(f"{_HEADING}|{_OWN_LINE}|{_SPAN}", re.M)
# and every other ATX heading line, matched empty (its spans are still stripped)
_ATTRS_COUNTED = re.compile(f"{_HEADING}|^(?=( {{0,3}}#{{1,6}}(?:[ \t][^\n]*)?)$)|{_OWN_LINE}|{_SPAN}", re.M)
# https://kramdown.gettalong.org/converter/html.html#toc
_TOC = re.compile(r"^ {0,3}(?:[*+-]|\d{1,9}[.)])[ \t]+[^\n]*\n[ \t]*\{:[ \t]*toc[ \t]*\}[ \t]*(?:\n|$)", re.M)
_HEADING_ID = re.compile(r"[{:\s]#([^\s{}#.]+)")
_COMMENT = re.compile(r"\{::comment\}.*?\{:/(?:comment)?\}", re.S)
_NOMARKDOWN = re.compile(r"\{::nomarkdown\}(.*?)\{:/(?:nomarkdown)?\}", re.S)
_OPTIONS = re.compile(r"\{::options\b[^{}]*/\}")
_VARIABLE = re.compile(r"\{\{-?\s*([^{}\n]{0,200}?)\s*-?\}\}")
_TAG_WITH_VARIABLE = re.compile(r"<[A-Za-z][\w-]*\b[^<>]*\{\{[^<>]*>")
_NUNJUCKS_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_STRAY_TAG = re.compile(r"\{%-?\s*([A-Za-z_]\w*)[^%\n]{0,200}?-?%\}")
_CLOSING = frozenset(".,;:!?)]}\n")  # no space before these
_OPENING = frozenset("([{ \t")  # nor after these


def strip_attributes(text: str, ids: Explicit | None = None) -> str:
    """`text` without kramdown's and goldmark's attribute lists (a heading keeps its text); the `{#id}` written
    on an ATX heading is put in `ids`, under the heading's text (`anchors.explicit_key`) and how many ATX headings
    of that text came before it."""
    if "{::" in text:
        text = _OPTIONS.sub("", _NOMARKDOWN.sub(r"\1", _COMMENT.sub("", text)))

    seen: dict[str, int] = {}  # how many ATX headings of each text came before
    last: tuple[int, tuple[str, int]] | None = None  # where the last ATX heading's line ends, and its key in `ids`

    def sub(m: re.Match[str]) -> str:
        nonlocal last
        heading = m.group(1)
        if heading is None:
            if ids is None:
                return ""
            if m.group(2) is not None:  # an ATX heading without attributes: counted
                key = explicit_key(m.group(2))
                last = (m.start() + len(m.group(2)), (key, seen.get(key, 0)))
                seen[key] = seen.get(key, 0) + 1
            elif last is not None and m.start() == last[0] + 1 and m.group(0).lstrip(" \t").startswith("{:"):
                found = _HEADING_ID.search(m.group(0))  # kramdown's `{: #id}` on the line after the heading
                if found is not None:
                    ids[last[1]] = found.group(1)
            return ""
        if ids is not None:
            key = explicit_key(heading)
            found = _HEADING_ID.search(m.group(0), len(heading))
            if found is not None:
                ids[(key, seen.get(key, 0))] = found.group(1)
            last = (m.end(), (key, seen.get(key, 0)))
            seen[key] = seen.get(key, 0) + 1
        return heading

    return (_ATTRS_COUNTED if ids is not None else _ATTRS).sub(sub, text)


def strip_toc(text: str, ctx: Context) -> str:
    """kramdown's table of contents (a one-item list followed by `{:toc}`, which kramdown replaces with the
    headings' links) left out with a warning: its item would reach the copies as a bullet reading "TOC"."""
    def drop(m: re.Match[str]) -> str:
        ctx.warn("kramdown's table of contents ({:toc}) left out: the copies show none")
        return ""

    return _TOC.sub(drop, text)


def has_attributes(text: str) -> bool:
    return "{#" in text or "{:" in text or "{." in text


def strip_leftovers(text: str, ctx: Context) -> str:
    """Template syntax no pass could expand, removed with a warning: nothing half-expanded reaches a copy."""
    if "{#" in text:
        text = closing_gaps(_NUNJUCKS_COMMENT, lambda m: "", text)
    if "{{" in text:
        def tag(m: re.Match[str]) -> str:
            ctx.warn(f"HTML tag with a template variable removed: {_short(m.group(0))}")
            return ""

        def variable(m: re.Match[str]) -> str:
            ctx.warn(f"template variable '{{{{ {m.group(1)} }}}}' has no value: removed")
            return ""

        text = closing_gaps(_VARIABLE, variable, closing_gaps(_TAG_WITH_VARIABLE, tag, text))
    if "{%" in text:
        def stray(m: re.Match[str]) -> str:
            ctx.warn(f"template tag '{{% {m.group(1)} %}}' could not be expanded: removed")
            return ""

        text = closing_gaps(_STRAY_TAG, stray, text)
    return text


def closing_gaps(pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], text: str) -> str:
    """`pattern.sub(repl, text)`, where a match replaced by nothing takes the blanks around it along and leaves
    what its neighbours need: one space between two words ("with {{ x }} nothing" → "with nothing"), none
    before punctuation, after an opening bracket or at a line's end, and its indent at a line's start."""
    out: list[str] = []
    pos = 0
    last = "\n"  # the last character written so far (a line start at the beginning)
    for m in pattern.finditer(text):
        start, end = m.start(), m.end()
        new = repl(m)
        if not new:
            while start > pos and text[start - 1] in " \t":
                start -= 1
            while end < len(text) and text[end] in " \t":
                end += 1
            before = text[start - 1] if start > pos else last
            after = text[end] if end < len(text) else "\n"
            if before == "\n":
                new = text[start:m.start()]  # an indent is Markdown (a list item's continuation): kept
            elif after == "\n" and end - m.end() >= 2:
                new = text[m.end():end]  # a hard line break: kept
            elif after in _CLOSING or before in _OPENING or (start == m.start() and end == m.end()):
                new = ""
            else:
                new = " "
        kept = text[pos:start]
        out.append(kept)
        out.append(new)
        last = new[-1] if new else kept[-1] if kept else last
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _short(tag: str) -> str:
    return tag if len(tag) <= 60 else tag[:57] + "..."
