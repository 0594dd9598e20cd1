"""The parsed, expanded body of a post: one parse, many outputs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from syndicate.post import Image


@dataclass(frozen=True)
class Embed:
    """Something a platform may show natively: a video, a tweet, a gist..."""

    kind: str  # "youtube" | "vimeo" | "x" | "gist" | "instagram" | "codepen" | ...
    id: str  # the platform's id ("dQw4w9WgXcQ", "user/abcdef", tweet id)
    url: str  # a plain URL to it, the fallback everywhere


EmbedStyle = Callable[[Embed], str]


def _plain(embed: Embed) -> str:
    return embed.url


@dataclass
class Document:
    """CommonMark with every shortcode, Liquid tag and JSX component resolved.

    `segments` alternates Markdown text and `Embed`s (each embed stands on its
    own line); links and images in the text are absolute URLs already.
    """

    segments: list[str | Embed] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)  # body images, in order, absolute, with alt
    warnings: list[str] = field(default_factory=list)

    def markdown(self, embed: EmbedStyle | None = None) -> str:
        """The body as Markdown; each embed rendered by `embed` (default: its URL)."""
        style = embed or _plain
        return "".join(s if isinstance(s, str) else style(s) for s in self.segments)

    def html(self, embed: EmbedStyle | None = None) -> str:
        raise NotImplementedError

    def text(self) -> str:
        """Plain text: no markup, links as their text, code kept."""
        raise NotImplementedError

    @property
    def first_paragraph(self) -> str:
        raise NotImplementedError
