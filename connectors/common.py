"""Helpers several connectors share: URL checks, the images of platforms that fetch them by URL.

(Tag shapes and titles are the engine's: syndicate.engine.fitting.)
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syndicate.contract import MediaItem

if TYPE_CHECKING:
    from syndicate.content.post import Post


def is_http_url(value: str | None) -> bool:
    """True for an absolute http(s) URL with a host."""
    if not value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def same_url(a: str | None, b: str | None) -> bool:
    """URLs equal up to a trailing slash and the scheme/host case."""
    if not a or not b:
        return False

    def norm(u: str) -> str:
        p = urlsplit(u.strip())
        path = p.path.rstrip("/")
        return f"{p.scheme.lower()}://{p.netloc.lower()}{path}" + (f"?{p.query}" if p.query else "")

    try:
        return norm(a) == norm(b)
    except ValueError:
        return False


def public_images(post: Post, platform: str, cover_field: str) -> tuple[str | None, list[MediaItem], list[str]]:
    """For a platform that fetches images by URL (dev.to, Hashnode): the cover's URL, every image the
    engine must check (or rehost) before the post goes out, and warnings for those with no public URL."""
    media: list[MediaItem] = []
    warnings: list[str] = []
    cover_url: str | None = None
    cover = post.cover
    if cover is not None and is_http_url(cover.url):
        cover_url = str(cover.url)
        media.append(MediaItem("cover", cover_url, cover.alt, cover.path))
    elif cover is not None:
        warnings.append(f"cover has no absolute http(s) URL; {cover_field} left out")
    for image in post.document.images:
        if is_http_url(image.url) and all(m.source != image.url for m in media):
            media.append(MediaItem("inline", str(image.url), image.alt, image.path))
        elif not is_http_url(image.url):
            warnings.append(f"image {image.src!r} has no public URL: {platform} cannot show it")
    return cover_url, media, warnings
