"""What an image is on its way to a platform: the policy it must fit, the item a draft carries, the fitted bytes.

Value types only: the contract (`syndicate.contract`) re-exports them for connectors, and the media
pipeline (`syndicate.content.media`) works with them without knowing any connector.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol


@dataclass(frozen=True)
class MediaPolicy:
    """What a platform accepts for one image."""

    max_bytes: int
    max_pixels: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    formats: tuple[str, ...] = ("jpeg", "png", "gif", "webp")
    max_count: int = 4
    alt_required: bool = False
    alt_max_length: int | None = None


@dataclass
class MediaItem:
    """An image a draft carries: where it is published (`source`), its local file, its alt.

    `source` is a URL or the src as the post wrote it: it is what the content
    hash sees. `path` is the local file when the site has it; it never reaches
    the hash, so moving the site folder changes nothing.
    """

    role: Literal["cover", "inline"]
    source: str
    alt: str | None = None
    path: Path | None = None


@dataclass
class FittedMedia:
    """An image fitted to a platform's policy: cleaned bytes ready to upload."""

    data: bytes
    mime: str  # "image/jpeg"
    width: int
    height: int
    filename: str  # "cover.jpg"
    alt: str | None = None


class MediaSource(Protocol):
    """Gives a connector the bytes of an image, fitted to its policy (syndicate.content.media)."""

    def fitted(self, item: MediaItem, policy: MediaPolicy) -> FittedMedia: ...
