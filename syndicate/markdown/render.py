"""Document → HTML through markdown-it-py (CommonMark + GFM tables and strikethrough).

Embeds are rendered by the caller's style; the default is a paragraph linking
to the embed's URL.
"""
from __future__ import annotations

import html
from functools import lru_cache

from markdown_it import MarkdownIt

from syndicate.markdown.embed import Embed, EmbedStyle

_MARK = "<!--syndicate-embed-{}-->"


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def link_paragraph(embed: Embed) -> str:
    url = html.escape(embed.url)
    return f'<p><a href="{url}">{url}</a></p>\n'


def to_html(segments: list[str | Embed], embed: EmbedStyle | None = None) -> str:
    style = embed or link_paragraph
    parts: list[str] = []
    embeds: list[Embed] = []
    for seg in segments:
        if isinstance(seg, str):
            parts.append(seg)
        else:
            parts.append("\n\n" + _MARK.format(len(embeds)) + "\n\n")
            embeds.append(seg)
    out = _md().render("".join(parts))
    for k, e in enumerate(embeds):
        out = out.replace(_MARK.format(k) + "\n", style(e), 1)
    return out
