"""Alt text: found for the cover in the front matter, carried to each platform.

Body images carry the alt the Markdown gave them (`![alt](src)`, HTML `alt`,
shortcode `alt`/`caption`/`title`: resolved by syndicate.content.markdown); the
cover's alt comes from the front matter, read by syndicate.content.loader.

Fallback, when a platform requires alt (Bluesky's `alt`) and the post gives
none: the caller's `fallback` (connectors pass the post title + " (image)"),
else "Cover image" / "Image". Alt longer than the platform's limit is cut at
a word boundary, with an ellipsis, never inside a grapheme cluster.
"""
from __future__ import annotations

import regex

from syndicate.contract import MediaItem, MediaPolicy

_SPACE = regex.compile(r"\s+")
_GRAPHEME = regex.compile(r"\X")


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
