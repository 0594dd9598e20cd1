"""The one parse of a post: its expanded Markdown as a syntax tree, in the site's dialect.

markdown-it-pyrs (markdown-it.rs, the Rust port, by markdown-it-py's maintainer) builds the
tree about ten times as fast as markdown-it-py parses (bench/bench_markdown.py); HTML, plain
text, the summary and the platform Markdown are all rendered from this one tree. Node
`srcmap`s are byte offsets into the UTF-8 source: exact for blocks, footnote references and
code spans (inline text nodes may be off, and are never used for positions).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from markdown_it_pyrs import MarkdownIt, Node

from syndicate.markdown.dialect import Dialect

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
    """`text` as a syntax tree in `dialect`; ValueError if the parser fails even with no extension."""
    # markdown-it-autolink 0.2.0 panics on a non-ASCII character after `www.`: then bare URLs only
    www = not (dialect.linkify and "www." in text and not text.isascii())
    try:
        return parser(dialect, www).tree(text)
    except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException":
            raise
    try:
        return parser(_CORE).tree(text)
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise ValueError(f"the Markdown parser failed: {exc}") from None
