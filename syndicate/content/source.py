"""What the Markdown pipeline reads of a post, and the images it finds in one.

`Source` is a protocol so that the pipeline does not import the `Post` model
(`syndicate.content.post`), which holds the `Document` the pipeline makes:
one arrow, post -> markdown, and no circle.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from syndicate.config import SiteConfig


class Source(Protocol):
    """A post as the pipeline sees it (`syndicate.content.post.Post` is one)."""

    id: str
    path: Path
    title: str
    slug: str
    url: str
    body: str
    site: SiteConfig
    format: str
    draft: bool
    lang: str | None
    front_matter: dict[str, Any]

    @property
    def page(self) -> str:
        """The post's page on the site (`url`, unless the front matter points that elsewhere)."""
        ...

    @property
    def bundle_dir(self) -> Path: ...


@dataclass
class Image:
    """An image as the post names it, resolved against the post and the site."""

    src: str  # as written in the post
    url: str | None = None  # absolute URL where the site serves it (or the remote URL)
    path: Path | None = None  # the local file, when it exists inside the site
    alt: str | None = None
    title: str | None = None
    refused: bool = False  # it resolves outside the site root: left out of every copy
