"""The front matter's roles: the many names blogs use for one idea (CONVENTIONS.md), and their values.

`site.fields` (role → dotted front-matter key) is tried before the built-in names for its role.
"""
from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicate.content.dates import parse_date
from syndicate.content.frontmatter import is_empty, is_flag, lookup, spelled
from syndicate.content.permalinks import HUGO_DATES, SiteInfo
from syndicate.errors import PostError

KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "date": ("date", "pubDate", "publishDate", "publish_date", "pub_date", "published_at", "published",
             "created", "created_at", "dateCreated"),
    "updated": ("lastmod", "last_modified_at", "updated", "updatedDate", "modifiedDate", "updated_at",
                "modified", "lastUpdated", "dateModified"),
    "summary": ("description", "summary", "excerpt", "spoiler", "meta.description", "abstract"),
    "tags": ("tags", "taxonomies.tags", "tag", "keywords", "meta.keywords"),
    "categories": ("categories", "taxonomies.categories", "category"),
    "cover": ("image", "images", "hero", "heroImage", "hero_image", "cover", "cover_image", "coverImage",
              "featureImage", "featuredImage", "featured_image", "feature_image", "banner", "bannerImage",
              "banner_image", "thumbnail", "og_image", "ogImage", "socialImage", "social_image",
              "header.image", "header.og_image", "header.teaser", "extra.image", "extra.cover",
              "extra.og_image", "meta.image"),
    "cover_alt": ("hero_alt", "heroAlt", "heroImageAlt", "image_alt", "imageAlt", "imagealt", "cover_alt",
                  "coverAlt", "bannerAlt", "banner_alt", "featureImageAlt", "extra.image_alt", "extra.cover_alt",
                  "hero_image_alt", "coverImageAlt", "cover_image_alt", "feature_image_alt", "featuredImageAlt",
                  "featured_image_alt"),
    "canonical": ("canonical_url", "canonicalUrl", "canonicalURL", "canonical", "extra.canonical_url"),
    "url": ("url", "permalink", "path"),
    "slug": ("slug", "extra.slug"),
    "authors": ("authors", "author", "extra.author", "extra.authors"),
    "lang": ("lang", "language", "locale"),
    "id": ("syndicate_id", "id", "uuid", "guid", "extra.syndicate_id"),
    "series": ("series", "extra.series"),
    "syndicate": ("syndicate", "extra.syndicate"),
}
_KEYS = {role: tuple(k.lower() for k in keys) for role, keys in KEYS.items()}
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WS = re.compile(r"\s+")


def _role(view: dict[str, Any], role: str, info: SiteInfo, keys: tuple[str, ...] | None = None) -> tuple[Any, str | None]:
    """(value, key) of the first non-empty key for a role (of `keys`, else the known names); the config's field map first."""
    mapped = info.fields.get(role)
    keys = keys or _KEYS[role]
    keys = (mapped.lower(), *keys) if mapped else keys
    for key in keys:
        value = lookup(view, key)
        if is_empty(value) or (key == "published" and is_flag(value)):
            continue
        return value, key
    return None, None


def _date(view: dict[str, Any], fm: dict[str, Any], role: str, info: SiteInfo, path: Path) -> datetime | None:
    value, key = _role(view, role, info)
    try:
        return parse_date(value, info.tz)
    except ValueError as exc:
        raise PostError(f"{path}: {spelled(fm, key)}: {exc}") from None


def _hugo_sources(field: str, info: SiteInfo) -> tuple[str, ...]:
    """Hugo's sources for one date as `[frontmatter]` sets them; the site's field map first for `date`."""
    sources = info.hugo_dates.get(field, HUGO_DATES[field])
    mapped = info.fields.get("date") if field == "date" else None
    return (mapped.lower(), *sources) if mapped else sources


def _strings(value: Any, *, split_spaces: bool, path: Path, warnings: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",") if "," in value else (value.split() if split_spaces else [value])
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                items.append(str(item))
            else:
                warnings.append(f"{path}: ignored a {type(item).__name__} among tags/categories")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        items = [str(value)]
    else:
        warnings.append(f"{path}: ignored tags/categories given as a {type(value).__name__}")
        return []
    out: dict[str, None] = {}  # ordered and deduplicated in linear time (10,000 tags happen)
    for item in items:
        if "&" in item:  # an exported blog's `birds &amp; cages` is the tag "birds & cages"
            item = html.unescape(item)
        item = _WS.sub(" ", item).strip()
        if item:
            out[item] = None
    return list(out)


def _summary(fm: dict[str, Any], info: SiteInfo) -> str:
    value, _ = _role(fm, "summary", info)
    if isinstance(value, list):
        value = " ".join(str(v).strip() for v in value if v is not None)
    return str(value).strip() if value is not None and not isinstance(value, dict) else ""


def _series(fm: dict[str, Any], info: SiteInfo) -> str | None:
    value, _ = _role(fm, "series", info)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, dict):
        return None
    return _WS.sub(" ", str(value)).strip() or None


def _authors(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name") or item.get("title") or item.get("id")
        if item is None or isinstance(item, (dict, list)):
            continue
        text = _WS.sub(" ", _MD_LINK.sub(r"\1", str(item))).strip()
        if text and text not in out:
            out.append(text)
    return out
