"""The one parse of a post: its expanded Markdown as a syntax tree, in the site's dialect.

markdown-it-pyrs (markdown-it.rs, the Rust port, by markdown-it-py's maintainer) builds the
tree about ten times as fast as markdown-it-py parses (bench/bench_markdown.py); HTML, plain
text, the summary and the platform Markdown are all rendered from this one tree. Node
`srcmap`s are byte offsets into the UTF-8 source: exact for blocks, footnote references and
code spans (inline text nodes may be off, and are never used for positions).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markdown_it_pyrs import MarkdownIt, Node

from syndicate.content.markdown.dialect import Dialect

_TICK = re.compile(r"(\\*)`")
_CORE = Dialect("commonmark-core", footnote=False, table=False, strikethrough=False)

__all__ = ["Node", "parse", "parser"]


@lru_cache(maxsize=32)
def parser(dialect: Dialect, www: bool = True) -> MarkdownIt:
    """The parser for `dialect` (CommonMark, raw HTML always parsed, plus the dialect's extensions).

    `www`: GFM's extended autolinks (`www.example.com`, `me@example.com`) as well as bare URLs.
    """
    names: list[Any] = []
    # linkify must come before footnote: enabled after it, footnotes stop parsing (markdown-it-pyrs 0.4.0)
    if dialect.linkify:
        names += ["linkify", "autolink_ext"] if www else ["linkify"]
    if dialect.footnote:
        names.append("footnote")
    for flag, name in (("table", "table"), ("strikethrough", "strikethrough"), ("deflist", "deflist"),
                       ("tasklist", "tasklist")):
        if getattr(dialect, flag):
            names.append(name)
    if dialect.typographer:
        names += ["replacements", "smartquotes"]
    md = MarkdownIt("commonmark")
    if names:
        md.enable_many(names)
    return md


def parse(text: str, dialect: Dialect) -> Node:
    """`text` as a syntax tree in `dialect`; ValueError if the parser fails even on a defused copy.

    markdown-it-pyrs 0.4.0 panics on some input: an unclosed `[` before a backtick that opens
    no code span (`[a` then a lone backtick), and markdown-it-autolink on a non-ASCII character after `www.`. A
    backtick outside code is literal text, so escaping it changes nothing a reader sees: on a
    panic the text is parsed again with those backticks escaped (its source maps then point into
    the escaped copy; `exact` says so).
    """
    www = not (dialect.linkify and "www." in text and not text.isascii())
    first = _try(parser(dialect, www), text)
    if first is not None:
        return first
    for defused in (_defuse(text, spans=False), _defuse(text, spans=True)):  # the second: code spans as text
        for md in (parser(dialect, False), parser(_CORE)):
            tree = _try(md, defused)
            if tree is not None:
                return tree
    raise ValueError("the Markdown parser failed on this text")


def exact(root: Node, text: str | bytes) -> bool:
    """Whether the tree's source maps point into `text` (or its UTF-8 bytes), not into a defused copy."""
    return root.srcmap is None or root.srcmap[1] == len(text if isinstance(text, bytes) else text.encode("utf-8"))


def _try(md: MarkdownIt, text: str) -> Node | None:
    try:
        return md.tree(text)
    except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        return None


def _defuse(text: str, spans: bool) -> str:
    """`text` with every backtick outside code (`spans`: outside code blocks) escaped, and `^[` as `^\\[`."""
    from syndicate.content.markdown.scan import code_ranges

    out: list[str] = []
    pos = 0
    for a, b, kind in code_ranges(text):
        if spans and kind == "span":
            continue
        out.append(_literal(text[pos:a]))
        out.append(text[a:b])
        pos = b
    out.append(_literal(text[pos:]))
    return "".join(out)


def _literal(chunk: str) -> str:
    if "`" in chunk:  # a backtick not escaped yet (an even run of backslashes before it) gets one
        chunk = _TICK.sub(lambda m: m.group(1) + ("\\`" if len(m.group(1)) % 2 == 0 else "`"), chunk)
    return chunk.replace("^[", "^\\[")
