"""A post's cover and its image references: front-matter shapes, Hugo bundles' featured image, the file found."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from syndicate.content.loader.fields import _WS, _role
from syndicate.content.loader.urls import _HTTP, _SCHEME
from syndicate.content.permalinks import SiteInfo, Where, site_info
from syndicate.content.post import Image, Post
from syndicate.content.resolve import served_path

_DICT_SRC = ("src", "path", "url", "image", "feature", "thumbnail", "filename", "file")
_DICT_ALT = ("alt", "caption", "title")
_IMAGE_EXT = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg"})


def _cover(post: Post, view: dict[str, Any], info: SiteInfo, where: Where) -> Image | None:
    value, key = _role(view, "cover", info)
    alt: Any = None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        alt = next((value[k] for k in _DICT_ALT if isinstance(value.get(k), str) and value[k].strip()), None)
        value = next((value[k] for k in _DICT_SRC if isinstance(value.get(k), str) and value[k].strip()), None)
    if value is None and where.is_bundle:
        value = _featured(post.path.parent)
    if not isinstance(value, str) or not value.strip():
        return None
    flat_alt, _ = _role(view, "cover_alt", info)
    alt = flat_alt if isinstance(flat_alt, str) and info.fields.get("cover_alt") else alt or flat_alt
    alt_text = _WS.sub(" ", alt).strip() if isinstance(alt, str) else None
    image = resolve_image(value.strip(), post, info, alt=alt_text)
    return None if image.refused else image


def _featured(folder: Path) -> str | None:
    # Hugo Docsy: a bundle's cover is the image resource whose name contains "featured".
    try:
        names = sorted(p.name for p in folder.iterdir() if "featured" in p.name.lower())
    except OSError:
        return None
    return next((n for n in names if Path(n).suffix.lower() in _IMAGE_EXT), None)


def resolve_image(src: str, post: Post, info: SiteInfo | None = None, alt: str | None = None) -> Image:
    """An image reference as written → `Image` with its absolute URL and, when inside the site, its file.

    Remote URLs stay; the file is found by `syndicate.content.resolve.SiteFiles` (beside the post, then the
    static folders), the same lookup as the body's images. A path that leaves the site root is
    refused (warning, `refused` set): no copy shows it, as cover or in the body.
    """
    info = info or site_info(post.site)
    base = info.site.url
    if _HTTP.match(src):
        return Image(src=src, url=src, alt=alt)
    if src.startswith("//"):
        return Image(src=src, url="https:" + src, alt=alt)
    if _SCHEME.match(src):
        post.warnings.append(f"{post.path}: image {src[:40]!r}: not an http(s) URL or a site path; ignored")
        return Image(src=src, alt=alt)
    clean = unquote(src.split("#", 1)[0].split("?", 1)[0])
    if clean.startswith("/"):
        base_path = urlsplit(base).path.rstrip("/")
        if base_path and clean.startswith(base_path + "/"):  # already under the site's base path
            url = base[: len(base) - len(base_path)] + quote(clean, safe="/~._-")
        else:
            url = base + quote("/" + clean.lstrip("/"), safe="/~._-")
    else:
        url = urljoin(post.url, quote(clean, safe="/~._-"))
    found = info.files.find(src, post.path.parent, served_path(url, base))
    if found.path is not None:
        return Image(src=src, url=url, path=found.path, alt=alt)
    if found.refused:  # the same words as the body's (syndicate.content.markdown.links.refused_image)
        post.warnings.append(f"{post.path}: image {src!r} resolves outside the site root; refused and left out of the post")
        return Image(src=src, alt=alt, refused=True)
    post.warnings.append(f"{post.path}: image {src!r} not found in the site; its URL is a guess")
    return Image(src=src, url=url, alt=alt)
