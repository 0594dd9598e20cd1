"""A post's place and address: where its file sits (sections, bundle, language, dated name), its URL and its id."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from syndicate.config.urltokens import allowed, unknown
from syndicate.content.dates import date_from_name, date_from_path
from syndicate.content.loader.fields import _role
from syndicate.content.permalinks import SiteInfo, Where, expand, flavour, lang_code, slugify, url_path
from syndicate.errors import PostError

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_ELEVENTY_VAR = re.compile(r"\{\{\s*([\w.]+)\s*(?:\|\s*(\w+)\s*)?\}\}")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_KEEP_DATE = frozenset({"hugo", "gatsby", "astro", None})
# The key each generator reads a post's own URL from: Hugo `url` (https://gohugo.io/content-management/urls/),
# Zola `path`, Jekyll and Eleventy `permalink`; Hugo ignores a Jekyll-era `permalink:`.
_URL_KEYS = {"hugo": ("url",), "zola": ("path",), "jekyll": ("permalink",), "eleventy": ("permalink",)}


def post_id(url: str, explicit: object = None) -> str:
    """The post's stable id: the front matter's `id`/`uuid`/`guid`/`syndicate_id`, else from the URL path.

    An id derived from the canonical URL path ("p_" + 16 hex of its SHA-1; the host is left out so a
    domain move keeps ids) survives renaming the file whenever the URL does not change: with a
    `slug` (or `url`/`path`) in the front matter a rename is harmless; without one the slug comes
    from the file or bundle folder name, so renaming it is a new URL and a new post for every
    platform (and where the URL pattern uses the title — Hugo's `:slug` without a slug, `:title` —
    editing the title moves it too). Put `syndicate_id` in the front matter to pin it for good.
    """
    if explicit is not None and not isinstance(explicit, (dict, list, bool)) and str(explicit).strip():
        text = str(explicit).strip()
        return text if _SAFE_ID.match(text) else "p_" + hashlib.sha1(("id:" + text).encode()).hexdigest()[:16]
    path = unquote(urlsplit(url).path).lower()
    for suffix in ("/index.html", ".html", "/"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return "p_" + hashlib.sha1(("/" + path.lstrip("/")).encode()).hexdigest()[:16]


def _where(rel: Path, info: SiteInfo) -> tuple[Where, datetime | None, tuple[datetime, str] | None]:
    """Where the post sits, the date its path names, and (date, rest of the name) for a dated name.

    Jekyll, Zola and Eleventy drop a file name's date prefix from the slug; Hugo keeps it
    unless `[frontmatter]` takes the date from the file name (`_hugo_date`), and so do Gatsby's
    `createFilePath` and Astro's entry slugs; an unknown generator keeps it too (two posts
    `2007-08-21-x` and `2008-08-21-x` never share a URL).
    """
    parts = list(rel.parts)
    in_content = False
    for cd in info.content_dirs:
        prefix = cd.split("/")
        if parts[: len(prefix)] == prefix and len(parts) > len(prefix):
            parts, in_content = parts[len(prefix):], True
            break
    dirs, stem = parts[:-1], Path(parts[-1]).stem
    lang = None
    if "." in stem:
        base, suffix = stem.rsplit(".", 1)
        code = lang_code(suffix)
        if code and base:
            stem, lang = base, code
    if dirs and info.languages and dirs[0].lower() in info.languages:
        folder_lang = dirs.pop(0).lower()
        lang = lang or folder_lang
    in_posts = "_posts" in dirs or "_drafts" in dirs
    dirs = [d for d in dirs if d not in ("_posts", "_drafts")]
    name_date, rest = date_from_name(stem, info.tz)
    is_bundle = (rest or stem) in ("index", "_index") and bool(dirs)
    name, raw = rest or stem, stem
    if is_bundle:
        folder = dirs.pop()
        folder_date, folder_rest = date_from_name(folder, info.tz)
        name, name_date, raw = folder_rest or folder, name_date or folder_date, folder
    when = name_date or (date_from_path("/".join(dirs), info.tz) if len(dirs) >= 3 else None)
    dated = (name_date, name) if name_date is not None and name else None
    if info.ssg in _KEEP_DATE and not in_posts:
        name = raw
    where = Where(sections=dirs, name=name, lang=lang, is_bundle=is_bundle, in_posts=in_posts, in_content=in_content,
                  rel=rel.as_posix(), basename=Path(rel.name).stem)
    return where, when, dated


def _canonical(view: dict[str, Any], info: SiteInfo, where: Where, values: dict[str, str], fm_slug: str | None,
               url_v: Any, url_key: str | None, warnings: list[str], date: datetime | None,
               file: Path) -> tuple[str, str]:
    """The post's canonical URL, and where the site serves it when the front matter sets the canonical URL to
    another page ("" when they are one: `Post.page_url`)."""
    base = info.site.url
    canon, key = _role(view, "canonical", info)
    if isinstance(canon, str) and canon.strip():
        canon = canon.strip()
        if _HTTP.match(canon) or (not _SCHEME.match(canon) and not canon.startswith("//")):
            url = canon if _HTTP.match(canon) else base + quote("/" + canon.lstrip("/"), safe="/~._-%")
            own = _site_url(view, info, where, values, fm_slug, url_v, url_key, [], date, file)
            return url, own if own != url else ""
        warnings.append(f"{key}: {canon!r} is not an http(s) URL; ignored")
    return _site_url(view, info, where, values, fm_slug, url_v, url_key, warnings, date, file), ""


def _site_url(view: dict[str, Any], info: SiteInfo, where: Where, values: dict[str, str], fm_slug: str | None,
              url_v: Any, url_key: str | None, warnings: list[str], date: datetime | None, file: Path) -> str:
    """Where the site's generator serves the post."""
    base = info.site.url
    text = url_v.strip() if isinstance(url_v, str) else ""
    if "{{" in text or "{%" in text:
        expanded = _eleventy(text, values)
        if expanded is None:
            warnings.append(f"{url_key}: template {text!r} is beyond me; using the default URL")
        text = expanded or ""
    if text:
        if _HTTP.match(text):
            return text
        if not _SCHEME.match(text) and not text.startswith("//"):
            path = _own_url(text, url_key, info, where, values, date, file)
            if url_key == "path" and not path.endswith(("/", ".html", ".htm")):
                path += "/"  # Zola serves every `path` as a folder
            return base + path
        warnings.append(f"{url_key}: {text!r} is not a URL path; ignored")
    path = url_path(info, where, values, fm_slug, date=date, fm=view, warnings=warnings)
    return base + quote(path, safe="/~._-%")


def _own_url(text: str, key: str | None, info: SiteInfo, where: Where, values: dict[str, str],
             date: datetime | None, file: Path) -> str:
    """A post's own URL path as written; Jekyll (and unknown generators) expand `:tokens` in `permalink`."""
    if ":" in text and key == "permalink" and flavour(info, where) in ("jekyll", "site") and info.ssg != "eleventy":
        bad = unknown(text, "jekyll")
        if bad:
            raise PostError(f"{file}: permalink: unknown token {', '.join(bad)} (got {text!r}; "
                            f"allowed: {allowed('jekyll')})")
        return expand(text, values, "jekyll", date=date)
    return quote("/" + text.lstrip("/"), safe="/~._-%:")


def _eleventy(text: str, values: dict[str, str]) -> str | None:
    """Eleventy permalinks are templates; the common `{{ page.fileSlug }}`-style ones are expanded."""
    known = {"page.fileSlug": values["filename"], "slug": values["slug"], "title": values["title"]}

    def sub(m: re.Match[str]) -> str:
        value = known.get(m[1])
        if value is None or (m[2] and m[2] not in ("slugify", "slug", "url")):
            raise KeyError(m[1])
        return slugify(value) if m[2] in ("slugify", "slug") else value

    try:
        out = _ELEVENTY_VAR.sub(sub, text)
    except KeyError:
        return None
    return None if "{{" in out or "{%" in out else out
