"""The parsed, expanded body of a post: one parse, many outputs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syndicate.markdown.embed import Embed, EmbedStyle

if TYPE_CHECKING:
    from syndicate.post import Image


CodeRange = tuple[int, int, str]  # start, end, "block" | "span"


def _plain(embed: Embed) -> str:
    return embed.url


def _nothing(embed: Embed) -> str:
    return ""


@dataclass
class Document:
    """CommonMark with every shortcode, Liquid tag and JSX component resolved.

    `segments` alternates Markdown text and `Embed`s (each embed stands on its
    own line); links and images in the text are absolute URLs already.
    """

    segments: list[str | Embed] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)  # body images, in order, absolute, with alt
    warnings: list[str] = field(default_factory=list)
    # per segment, where its code is (offsets into the segment); None: scanned when first needed
    code: list[list[CodeRange]] | None = field(default=None, repr=False, compare=False)
    summary_source: str | None = None  # the Markdown above the summary divider (`<!--more-->`), if any
    _cache: dict[str, tuple[str, str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def embeds(self) -> list[Embed]:
        """The embeds, in order."""
        return [s for s in self.segments if isinstance(s, Embed)]

    def markdown(self, embed: EmbedStyle | None = None, outside_code: Callable[[str], str] | None = None) -> str:
        """The body as Markdown; each embed rendered by `embed` (default: its URL).

        `outside_code` rewrites each stretch of text outside code (code blocks and
        spans are passed through untouched, and so are the rendered embeds).
        """
        style = embed or _plain
        if outside_code is None:
            return "".join(s if isinstance(s, str) else style(s) for s in self.segments)
        out: list[str] = []
        for k, seg in enumerate(self.segments):
            if not isinstance(seg, str):
                out.append(style(seg))
                continue
            pos = 0
            for a, b, _ in self.code_ranges(k):
                if a > pos:
                    out.append(outside_code(seg[pos:a]))
                out.append(seg[a:b])
                pos = b
            if pos < len(seg):
                out.append(outside_code(seg[pos:]))
        return "".join(out)

    def code_ranges(self, k: int) -> list[CodeRange]:
        """Where the code of text segment `k` is (start, end, "block" | "span"): from `prepare`'s scan, else scanned now."""
        if self.code is None or len(self.code) != len(self.segments):
            from syndicate.markdown.scan import code_ranges

            self.code = [code_ranges(s) if isinstance(s, str) else [] for s in self.segments]
        return self.code[k]

    def html(self, embed: EmbedStyle | None = None) -> str:
        """HTML (CommonMark + tables + strikethrough); embeds via `embed` (default: a link paragraph)."""
        from syndicate.markdown.render import to_html

        if embed is not None:
            return to_html(self.segments, embed)
        # the default style is the same for every target: one render per post (Ghost, WordPress, ...)
        return self._memo("html", self.markdown(), lambda _source: to_html(self.segments, None))

    def _memo(self, key: str, source: str, make: Callable[[str], str]) -> str:
        hit = self._cache.get(key)
        if hit is not None and hit[0] == source:
            return hit[1]
        value = make(source)
        self._cache[key] = (source, value)
        return value

    def text(self) -> str:
        """Plain text: no markup, links as their text, images dropped, code kept, embeds as URLs."""
        from syndicate.markdown.plain import to_text

        return self._memo("text", self.markdown(), to_text)

    @property
    def summary(self) -> str:
        """The post's own summary as plain text, whitespace collapsed.

        All the text above the summary divider (`<!--more-->`, Jekyll's
        `excerpt_separator`) when there is one, else the first real paragraph
        (not a heading, image, code or embed; in an HTML body, the first `<p>`).
        """
        from syndicate.markdown.plain import first_paragraph, to_text

        if self.summary_source is not None:
            text = " ".join(self._memo("summary", self.summary_source, to_text).split())
            if text:
                return text
        return self._memo("first", self.markdown(_nothing), first_paragraph)

    @property
    def first_paragraph(self) -> str:
        """The same as `summary` (what `Post.excerpt` reads): the divider wins over the first paragraph."""
        return self.summary
