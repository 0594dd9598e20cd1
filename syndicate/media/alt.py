"""Alt text: found for the cover in the front matter, carried to each platform.

Body images carry the alt the Markdown gave them (`![alt](src)`, HTML `alt`,
shortcode `alt`/`caption`/`title`: resolved by syndicate.markdown). For the
cover, `cover_alt` reads the usual front-matter keys (CONVENTIONS.md).

Fallback, when a platform requires alt (Bluesky's `alt`) and the post gives
none: the caller's `fallback` (connectors pass the post title + " (image)"),
else "Cover image" / "Image". Alt longer than the platform's limit is cut at
a word boundary, with an ellipsis, never inside a grapheme cluster.
"""
from __future__ import annotations

from typing import Any, Mapping

import regex

from connectors.base import MediaItem, MediaPolicy

COVER_ALT_KEYS = (
    "cover.alt", "image.alt", "image.caption", "featureImage.alt", "featuredImage.alt", "hero.alt", "banner.alt",
    "hero_alt", "heroAlt", "heroImageAlt", "hero_image_alt", "image_alt", "imageAlt", "imagealt", "cover_alt",
    "coverAlt", "coverImageAlt", "cover_image_alt", "feature_image_alt", "featureImageAlt", "featuredImageAlt",
    "featured_image_alt", "bannerAlt", "banner_alt", "extra.image_alt", "extra.cover_alt", "extra.image.alt",
)
_SPACE = regex.compile(r"\s+")
_GRAPHEME = regex.compile(r"\X")


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def cover_alt(front_matter: Mapping[str, Any], key: str | None = None) -> str | None:
    """The cover's alt text from the front matter (`key`: the site's own field, dotted)."""
    for k in (key,) if key else COVER_ALT_KEYS:
        value = _lookup(front_matter, k)
        if isinstance(value, str) and value.strip():
            return _SPACE.sub(" ", value).strip()
    return None


def truncate_alt(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    room = limit - 1
    cut = 0
    for m in _GRAPHEME.finditer(text):
        if m.end() > room:
            break
        cut = m.end()
    head = text[:cut]
    space = head.rfind(" ")
    if space >= room * 0.6:
        head = head[:space]
    return head.rstrip() + "…"


def alt_for(item: MediaItem, policy: MediaPolicy, fallback: str | None = None) -> str | None:
    """The alt text to send with `item`: its own, else the fallback when required."""
    alt = _SPACE.sub(" ", item.alt or "").strip()
    if not alt:
        if not policy.alt_required:
            return None
        alt = _SPACE.sub(" ", fallback or "").strip() or ("Cover image" if item.role == "cover" else "Image")
    if policy.alt_max_length:
        alt = truncate_alt(alt, policy.alt_max_length)
    return alt


def missing_alt(items: list[MediaItem]) -> list[str]:
    """Preview warnings: one per image that has no alt text."""
    return [f"image {item.source!r} ({item.role}) has no alt text" for item in items if not (item.alt or "").strip()]
