"""Markdown in, many outputs: see `prepare` (placeholder until the pipeline lands)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from syndicate.markdown.document import Document, Embed, EmbedStyle

if TYPE_CHECKING:
    from syndicate.post import Post

__all__ = ["Document", "Embed", "EmbedStyle", "prepare"]


def prepare(post: Post) -> Document:
    return Document(segments=[post.body])
