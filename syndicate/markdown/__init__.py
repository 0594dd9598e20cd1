"""Markdown in, many outputs: `prepare(post)` expands a post body once into a `Document`.

Passes, in order, over text whose code is protected by placeholders: code →
HTML comments/`<script>`/`<style>` dropped → Liquid `{% raw %}` → Hugo
shortcodes → Zola shortcodes → Liquid → MDX (for .mdx) → iframes → absolute
links and images. Only a few string scans run on a post with none of these.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from syndicate.markdown.context import EMBED_OPEN, EMBEDDED, Context
from syndicate.markdown.document import Document, Embed, EmbedStyle
from syndicate.markdown.liquid import expand_liquid, protect_raw
from syndicate.markdown.links import absolutise, clean_html
from syndicate.markdown.mdx import expand_mdx, is_mdx
from syndicate.markdown.protect import protect_code
from syndicate.markdown.shortcodes import expand_hugo, expand_zola, has_hugo, has_zola
from syndicate.post import PostError

if TYPE_CHECKING:
    from syndicate.post import Post

__all__ = ["Document", "Embed", "EmbedStyle", "prepare"]

_ATTRS = re.compile(r"^( {0,3}#{1,6}[ \t].*?)[ \t]*\{[#.:][^{}\n]*\}[ \t]*$|^[ \t]*\{:[^{}\n]*\}[ \t]*\n?", re.M)  # {#id} {: .x}
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def prepare(post: Post) -> Document:
    """Expand `post.body` into a `Document` (shortcodes, Liquid, MDX resolved; URLs absolute).

    Never raises on odd input; an internal failure becomes a `PostError` naming the file.
    """
    try:
        return _prepare(post)
    except (RecursionError, ValueError, TypeError, AttributeError, IndexError, KeyError, OSError) as exc:
        raise PostError(f"{post.path}: cannot expand the Markdown body: {type(exc).__name__}: {exc}") from exc


def _prepare(post: Post) -> Document:
    ctx = Context(post)
    body = post.body.replace("\r\n", "\n").replace("\r", "\n")
    body = body.replace("\ue000", "").replace("\ue002", "")  # our placeholder marks, never real text
    text = protect_code(body, ctx)
    text = clean_html(text, ctx)
    if "{%" in text:
        text = protect_raw(text, ctx)
    if has_hugo(text):
        text = expand_hugo(text, ctx)
    if has_zola(text):
        text = expand_zola(text, ctx)
    if "{%" in text or "{{" in text:
        text = expand_liquid(text, ctx)
    if is_mdx(post.format, post.path.suffix):
        text = expand_mdx(text, ctx)
        text = clean_html(text, ctx)
    if "{#" in text or "{:" in text or "{." in text:
        text = _ATTRS.sub(lambda m: m.group(1) or "", text)
    text, images = absolutise(text, ctx)
    if EMBED_OPEN in text or "\n\n\n" in text:
        text = _BLANKS.sub("\n\n", text)  # before restoring: blank lines in code are kept
    text, code = ctx.restore_tracked(text.lstrip("\n"))
    segments, seg_code = _segments(text, code, ctx)
    return Document(segments=segments, images=images, warnings=ctx.warnings, code=seg_code)


def _segments(text: str, code: list[tuple[int, int]], ctx: Context) -> tuple[list[str | Embed], list[list[tuple[int, int]]]]:
    """The text split at its embeds; each text segment with its code ranges (offsets in it)."""
    if EMBED_OPEN not in text:
        return [text], [code]
    out: list[str | Embed] = []
    ranges: list[list[tuple[int, int]]] = []
    pos = 0

    def piece(start: int, end: int) -> None:
        out.append(text[start:end])
        ranges.append([(a - start, b - start) for a, b in code if start <= a and b <= end])

    for m in EMBEDDED.finditer(text):
        if m.start() > pos:
            piece(pos, m.start())
        out.append(ctx.embeds[int(m.group(1))])
        ranges.append([])
        pos = m.end()
    if pos < len(text):
        piece(pos, len(text))
    return out, ranges
