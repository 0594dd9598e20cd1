"""Markdown in, many outputs: `prepare(post)` expands a post body once into a `Document`.

Passes, in order, over text whose code is protected by placeholders: code →
HTML comments/`<script>`/`<style>` dropped, iframes → embeds → Liquid
`{% raw %}` → Hugo shortcodes → Zola shortcodes → Liquid → MDX (for .mdx) →
template leftovers (where a template engine runs over the body) → raw HTML
sanitised (nh3) → attribute lists → absolute links and images. Only a few string
scans run on a post with none of these. The result is parsed once, in the site's
dialect (`Document.tree`), for every output.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from syndicate.content.markdown.anchors import Explicit
from syndicate.content.markdown.attrs import has_attributes, strip_attributes, strip_leftovers, strip_toc
from syndicate.content.markdown.context import Context
from syndicate.content.markdown.dialect import Dialect, dialect_of
from syndicate.content.markdown.document import CodeRange, Document, Embed, EmbedStyle
from syndicate.content.markdown.embed import EMBED_OPEN, EMBEDDED
from syndicate.content.markdown.links import absolutise, clean_html
from syndicate.content.markdown.liquid import expand_liquid, protect_raw
from syndicate.content.markdown.mdx import expand_mdx
from syndicate.content.markdown.plain import to_text
from syndicate.content.markdown.protect import protect_code
from syndicate.content.markdown.sanitize import sanitize
from syndicate.content.markdown.shortcodes import expand_hugo, expand_zola, has_hugo, has_zola
from syndicate.errors import PostError

if TYPE_CHECKING:
    from syndicate.content.source import Source

__all__ = ["RENDERER", "Dialect", "Document", "Embed", "EmbedStyle", "prepare"]

DIVIDER = "\ue008"  # where the summary ends
_MARKS = ("\ue000", "\ue002", "\ue006", DIVIDER)
# Hugo: https://gohugo.io/content-management/summaries/#manual-summary (also written with spaces)
_MORE = re.compile(r"<!--\s*more\s*-->", re.I)
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
# the divider alone on its line: the line goes, and no run of blank lines is left (dev.to shows them)
_DIVIDER_LINE = re.compile(r"\n[ \t\n]*\ue008[ \t]*(?:\n[ \t]*)*\n")


def prepare(post: Source) -> Document:
    """Expand `post.body` into a `Document` (shortcodes, Liquid, MDX resolved; URLs absolute).

    Never raises on odd input; an internal failure becomes a `PostError` naming the file.
    """
    try:
        return _prepare(post)
    except (RecursionError, ValueError, TypeError, AttributeError, IndexError, KeyError, OSError) as exc:
        raise PostError(f"{post.path}: cannot expand the Markdown body: {type(exc).__name__}: {exc}") from exc


def _prepare(post: Source) -> Document:
    ctx = Context(post)
    dialect = dialect_of(post)
    body = post.body.replace("\r\n", "\n").replace("\r", "\n")
    for mark in _MARKS:
        if mark in body:
            body = body.replace(mark, "")  # our placeholder marks, never real text
    text = protect_code(body, ctx)
    text = _mark_divider(text, post)
    before = text
    text = clean_html(text, ctx)
    if "{%" in text:
        text = protect_raw(text, ctx)
    if has_hugo(text):
        text = expand_hugo(text, ctx)
    if has_zola(text):
        text = expand_zola(text, ctx)
    had_templates = "{%" in text or "{{" in text
    if had_templates:
        text = expand_liquid(text, ctx)
    if dialect.mdx:
        text = expand_mdx(text, ctx)
        text = clean_html(text, ctx)
    if dialect.templates and had_templates:
        text = strip_leftovers(text, ctx)  # a template engine runs over these bodies: nothing half-expanded
    text = sanitize(text, ctx)
    explicit: Explicit = {}
    if has_attributes(text):
        if "toc" in text:
            text = strip_toc(text, ctx)
        text = strip_attributes(text, explicit)
    # untouched outside code (links aside, which stay within their lines): the code found by
    # protect_code is where it was; otherwise the block structure may have moved and renderers
    # that need the code get it from one scan of the result, when they first ask
    exact = text == before
    text, images = absolutise(text, ctx)
    if EMBED_OPEN in text or "\n\n\n" in text:
        text = _BLANKS.sub("\n\n", text)  # before restoring: blank lines in code are kept
    if DIVIDER in text:
        text = _DIVIDER_LINE.sub("\n\n" + DIVIDER, text, count=1)
    text = text.lstrip("\n")
    if EMBED_OPEN in text:  # numbered in order of appearance, as Document.source numbers them
        embeds: list[Embed] = []
        text = EMBEDDED.sub(lambda m: _renumber(m, ctx, embeds), text)
        ctx.embeds[:] = embeds
    if exact:
        text, code = ctx.restore_tracked(text)
    else:
        text, code = ctx.restore(text), []
    cut: int | None = None
    if DIVIDER in text:
        cut = text.index(DIVIDER)
        text = text.replace(DIVIDER, "")
        code = [(a - (a > cut), b - (b > cut), kind) for a, b, kind in code]
    segments, seg_code = _segments(text, code, ctx)
    return Document(segments=segments, images=images, warnings=ctx.warnings, code=seg_code if exact else None,
                    dialect=dialect, summary_cut=cut, explicit_ids=explicit)


def _renumber(m: re.Match[str], ctx: Context, embeds: list[Embed]) -> str:
    embeds.append(ctx.embeds[int(m.group(1))])
    return f"{EMBED_OPEN}{len(embeds) - 1}\ue003"


def _mark_divider(text: str, post: Source) -> str:
    """The summary divider (outside code) marked: Hugo's `<!--more-->`, or Jekyll's `excerpt_separator`."""
    sep = post.front_matter.get("excerpt_separator") if isinstance(post.front_matter, dict) else None
    if not isinstance(sep, str) or not sep.strip():
        sep = getattr(post.site, "excerpt_separator", None)  # _config.yml's, where the loader reads it
    if isinstance(sep, str) and sep.strip() and sep.strip() not in ("<!--more-->", "<!-- more -->"):
        at = text.find(sep)  # Jekyll keeps the separator in the content
        return text if at < 0 else text[:at] + DIVIDER + text[at:]
    if "<!--" not in text:
        return text
    m = _MORE.search(text)
    return text if m is None else text[:m.start()] + DIVIDER + text[m.start():]


def _segments(text: str, code: list[CodeRange], ctx: Context) -> tuple[list[str | Embed], list[list[CodeRange]]]:
    """The text split at its embeds; each text segment with its code ranges (offsets in it)."""
    if EMBED_OPEN not in text:
        return [text], [code]
    out: list[str | Embed] = []
    ranges: list[list[CodeRange]] = []
    pos = 0

    def piece(start: int, end: int) -> None:
        out.append(text[start:end])
        ranges.append([(a - start, b - start, kind) for a, b, kind in code if start <= a and b <= end])

    for m in EMBEDDED.finditer(text):
        if m.start() > pos:
            piece(pos, m.start())
        out.append(ctx.embeds[int(m.group(1))])
        ranges.append([])
        pos = m.end()
    if pos < len(text):
        piece(pos, len(text))
    return out, ranges


class _Renderer:
    """The Markdown pipeline as the `Post.renderer` the loader attaches."""

    @staticmethod
    def prepare(post: Source) -> Document:
        return prepare(post)

    @staticmethod
    def to_text(markdown: str) -> str:
        return to_text(markdown)  # a front-matter summary: CommonMark with the common extensions


RENDERER = _Renderer()
