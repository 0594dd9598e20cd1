"""Post files on disk → `Post`: discovery, front matter, and the SSG conventions.

One file is one post. `load_post` reads it (fmparse: safe YAML/TOML/JSON),
then maps the many names blogs use for the same idea (CONVENTIONS.md: title,
date, updated, summary, tags, cover, url, hidden, opt-out, authors) onto the
`Post` fields. `site.fields` (role → dotted front-matter key) is tried before
the built-in names for its role. A post that cannot be used raises
`PostError("<path>: <problem>")`; `load_posts` lets it fail alone.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from syndicate.config import Config, ConfigError, SiteConfig
from syndicate.config.urltokens import allowed, unknown
from syndicate.content.dates import date_from_name, date_from_path, first_date, hugo_date, parse_date
from syndicate.content.frontmatter import FALSE_WORDS, TRUE_WORDS, is_empty, is_flag, lookup, read_text, spelled, split
from syndicate.content.frontmatter import view as fm_view
from syndicate.content.markdown import RENDERER
from syndicate.content.permalinks import (
    HUGO_DATES,
    SiteInfo,
    Where,
    expand,
    flavour,
    lang_code,
    reset_cache,
    site_info,
    slugify,
    tokens,
    url_path,
)
from syndicate.content.post import Control, Image, Post, PostError
from syndicate.content.resolve import served_path
from syndicate.content.siteindex import unique, use

__all__ = ["discover", "in_content", "load_post", "load_posts", "post_id", "reset_cache", "resolve_image", "slugify",
           "unique"]

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
# Hugo's publishDate/expiryDate and their aliases (https://gohugo.io/configuration/front-matter/#aliases),
# honoured for every generator: a post scheduled or withdrawn this way must not go out early or late.
PUBLISH_KEYS = ("publishdate", "publish_date", "pubdate", "published")
EXPIRY_KEYS = ("expirydate", "expiry_date", "unpublishdate")
HIDDEN_FLAGS = (("unlisted", "unlisted"), ("archived", "archived"), ("secret", "secret"), ("private", "private"),
                ("hidden", "hidden"), ("extra.hide_from_feed", "hidden from feed"), ("headless", "headless bundle"))
_DICT_SRC = ("src", "path", "url", "image", "feature", "thumbnail", "filename", "file")
_DICT_ALT = ("alt", "caption", "title")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WS = re.compile(r"\s+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_ELEVENTY_VAR = re.compile(r"\{\{\s*([\w.]+)\s*(?:\|\s*(\w+)\s*)?\}\}")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_TRUE, _FALSE = TRUE_WORDS, FALSE_WORDS
_IMAGE_EXT = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg"})
_BUILD_DIRS = frozenset({"_site", "public", "dist"})  # generated output, never sources
_DRAFT_DIRS = frozenset({"drafts", "_drafts"})
_KEEP_DATE = frozenset({"hugo", "gatsby", "astro", None})
# The key each generator reads a post's own URL from: Hugo `url` (https://gohugo.io/content-management/urls/),
# Zola `path`, Jekyll and Eleventy `permalink`; Hugo ignores a Jekyll-era `permalink:`.
_URL_KEYS = {"hugo": ("url",), "zola": ("path",), "jekyll": ("permalink",), "eleventy": ("permalink",)}
_HIDDEN_STATUS = frozenset({"private", "unlisted", "archived", "unpublished", "hidden", "trash"})


def discover(config: Config) -> list[Path]:
    """The post files the content globs match: sorted, deduplicated, list pages (`_index.md`) left out."""
    return discover_site(config.site)


def discover_site(site: SiteConfig) -> list[Path]:
    """`discover` for a site's settings alone."""
    root = site.root
    found: set[Path] = set()
    for pattern in _patterns(site):
        for path in root.glob(pattern):
            if _listed(path.relative_to(root).parts, pattern) and path.is_file():
                found.add(path)
    return sorted(found)


def in_content(path: Path, config: Config) -> bool:
    """Whether `discover` lists the file `path` (resolved), judged from its name alone: no walk of the site."""
    try:
        rel = path.resolve().relative_to(config.site.root).parts
    except ValueError:
        return False
    return path.is_file() and any(
        _glob_parts(rel, tuple(p for p in pattern.split("/") if p not in ("", "."))) and _listed(rel, pattern)
        for pattern in _patterns(config.site))


def _patterns(site: SiteConfig) -> list[str]:
    for pattern in site.content:
        if pattern.startswith(("/", "\\")) or ".." in Path(pattern).parts:
            raise ConfigError(f"site.content: pattern {pattern!r} must stay inside the site root")
    return list(site.content)


def _listed(rel: tuple[str, ...], pattern: str) -> bool:
    """A file the pattern matched is a post: not a list page, nor in a hidden, vendored or build folder."""
    name = rel[-1]
    if name == "_index.md" or (name.startswith("_index.") and name.endswith((".md", ".mdx"))):
        return False
    return not ((rel[0] in _BUILD_DIRS and not pattern.startswith(rel[0]))
                or any(p.startswith(".") or p == "node_modules" for p in rel[:-1]))


def _glob_parts(rel: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """`Path.glob`'s match of one relative path: `**` is any number of folders, other parts `fnmatch` a name."""
    if not pattern:
        return not rel
    if pattern[0] == "**":
        return any(_glob_parts(rel[i:], pattern[1:]) for i in range(len(rel)))
    return bool(rel) and fnmatchcase(rel[0], pattern[0]) and _glob_parts(rel[1:], pattern[1:])


def load_posts(config: Config) -> tuple[list[Post], list[PostError]]:
    """Every discovered post; a broken one becomes a `PostError` and the rest go on."""
    reset_cache()
    posts: list[Post] = []
    errors: list[PostError] = []
    for path in discover(config):
        try:
            posts.append(load_post(path, config.site))
        except PostError as exc:
            errors.append(exc)
        except ConfigError:
            raise
        except Exception as exc:  # a loader bug must not stop the scan
            errors.append(PostError(f"{path}: cannot load ({type(exc).__name__}: {exc})"))
    kept, clashes = unique(posts, config.site)
    return kept, errors + [error for _path, error in clashes]


def load_post(path: Path, site: SiteConfig, *, light: bool = False) -> Post:
    """Read one post file and normalise it; `PostError` names the file and the problem.

    `light`: what the site index needs (URL, id, draft, language), without the cover's file lookups,
    tags, summary, authors or updated date.
    """
    info = site_info(site)
    path = path if path.is_absolute() else Path.cwd() / path
    real = path.resolve()
    if not real.is_relative_to(info.root):
        raise PostError(f"{path}: outside the site root {info.root} (or a symlink out of it); refused")
    try:
        rel = path.relative_to(info.root)
    except ValueError:  # the root itself is reached through a symlink
        rel = real.relative_to(info.root)
    fm, body, _kind = split(read_text(path), path)
    return _normalise(path, rel, fm, body, info, light)


def _normalise(path: Path, rel: Path, fm: dict[str, Any], body: str, info: SiteInfo, light: bool = False) -> Post:
    warnings = list(info.warnings)
    where, path_date, dated = _where(rel, info)
    view = fm_view(fm)
    title_v, _ = _role(view, "title", info)
    if isinstance(title_v, list):
        title_v = " ".join(str(t) for t in title_v)
    elif isinstance(title_v, dict):
        raise PostError(f"{path}: title is a table, not text")
    title = _WS.sub(" ", str(title_v)).strip() if title_v is not None else ""
    if not title:
        raise PostError(f"{path}: no title (add `title:` to the front matter)")

    fm_slug_v, _ = _role(view, "slug", info)
    fm_slug = _WS.sub("-", str(fm_slug_v).strip()).strip("/") if fm_slug_v not in (None, "") else None
    hugo = info.ssg == "hugo" and not where.in_posts
    if hugo:
        date, name_slug = hugo_date(view, fm, _hugo_sources("date", info), info.tz, path, dated)
        publish, _ = hugo_date(view, fm, _hugo_sources("publishdate", info), info.tz, path, dated)
        expires, _ = hugo_date(view, fm, _hugo_sources("expirydate", info), info.tz, path, dated)
        fm_slug = fm_slug or name_slug  # Hugo takes the slug from a dated file name (`:filename`)
    else:
        date = _date(view, fm, "date", info, path)
        publish = first_date(view, fm, PUBLISH_KEYS, info.tz, path)
        expires = first_date(view, fm, EXPIRY_KEYS, info.tz, path)
    if date is None:
        zola_path = view.get("path") if isinstance(view.get("path"), str) else None
        date = (date_from_path(zola_path, info.tz) if zola_path else None) or path_date
    try:
        if light:  # what a link or a duplicate check needs: no updated date, tags, summary...
            updated = None
        elif hugo and "lastmod" in info.hugo_dates:
            updated, _ = hugo_date(view, fm, _hugo_sources("lastmod", info), info.tz, path, dated)
        else:
            updated = _date(view, fm, "updated", info, path)
    except PostError as exc:
        warnings.append(f"{exc}; ignored")
        updated = None

    ssg = "jekyll" if where.in_posts else info.ssg
    url_v, url_key = _role(view, "url", info, _URL_KEYS.get(ssg or ""))
    path_slug = None
    if url_key == "path" and isinstance(url_v, str) and not fm_slug:
        path_slug = url_v.strip("/").rsplit("/", 1)[-1] or None
    slug = fm_slug or path_slug or slugify(where.name) or where.name or "post"

    tags = [] if light else _strings(_role(view, "tags", info)[0], split_spaces=True, path=path, warnings=warnings)
    # Jekyll splits a categories string on spaces; elsewhere a string is one category.
    categories = _strings(_role(view, "categories", info)[0], split_spaces=where.in_posts, path=path,
                          warnings=warnings)
    lang_v, _ = _role(view, "lang", info)
    lang = str(lang_v).strip().replace("_", "-") if isinstance(lang_v, str) and lang_v.strip() else None
    lang = lang or where.lang or info.site.language

    values = tokens(info, where, slug=slug, fm_slug=fm_slug, title=title, date=date, categories=categories)
    url = _canonical(view, info, where, values, fm_slug, url_v, url_key, warnings, date, path)
    post = Post(
        id="", path=path, title=title, slug=slug, url=url, body=body, site=info.site, date=date,
        updated=updated, tags=tags, categories=categories, summary="" if light else _summary(view, info), lang=lang,
        series=None if light else _series(view, info), authors=[] if light else _authors(_role(view, "authors", info)[0]),
        format="mdx" if path.suffix.lower() == ".mdx" else "markdown", front_matter=fm, warnings=warnings,
        publish_date=publish if publish is not None and publish != date else None, expires=expires,
        renderer=RENDERER,
    )
    post.id = post_id(url, _role(view, "id", info)[0])
    _hidden(post, view, info, rel)
    if light:
        return post
    post.control = _control(_role(view, "syndicate", info)[0], path)
    post.cover = _cover(post, view, info, where)
    return post


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


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE


def _falsy(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return isinstance(value, (str, int)) and str(value).strip().lower() in _FALSE


def _hidden(post: Post, view: dict[str, Any], info: SiteInfo, rel: Path) -> None:
    """`hidden` for the reasons that do not depend on the clock (expiry is `Post.visible_at`)."""
    status = view.get("status")
    status = status.strip().lower() if isinstance(status, str) else ""
    if _truthy(view.get("draft")) or _truthy(lookup(view, "extra.draft")):
        post.draft, post.hidden = True, "draft"
    elif "published" in view and _falsy(view["published"]):
        # Jekyll https://jekyllrb.com/docs/front-matter/#predefined-global-variables, Gatsby/Next starters
        post.draft, post.hidden = True, "unpublished (published: false)"
    elif status == "draft":  # Ghost-style `status: draft` (Next/Gatsby/MDX starters)
        post.draft, post.hidden = True, "draft (status: draft)"
    elif _DRAFT_DIRS & set(rel.parts[:-1]):
        post.draft, post.hidden = True, "draft (in a drafts folder)"
    else:
        post.hidden = _hidden_reason(view, info, status)


def _hidden_reason(view: dict[str, Any], info: SiteInfo, status: str) -> str | None:
    mapped = info.fields.get("hidden")
    if mapped and _truthy(lookup(view, mapped.lower())):
        return mapped
    for key, reason in HIDDEN_FLAGS:
        if _truthy(lookup(view, key)):
            return reason
    if status in _HIDDEN_STATUS:
        return f"{status} (status: {status})"
    # Eleventy https://www.11ty.dev/docs/permalinks/#permalink-false, https://www.11ty.dev/docs/collections/
    if view.get("permalink") is False:
        return "not published as a page (Eleventy permalink: false)"
    if _truthy(view.get("eleventyexcludefromcollections")):
        return "excluded from collections (Eleventy eleventyExcludeFromCollections)"
    # Hugo https://gohugo.io/content-management/build-options/ (`_build` before v0.123)
    build = view.get("build") or view.get("_build")
    if isinstance(build, dict):
        opts = {str(k).lower(): str(v).lower() for k, v in build.items()}
        if opts.get("render") in ("never", "false"):
            return "not rendered (build.render: never)"
        if opts.get("list") in ("never", "false"):
            return "not listed (build.list: never)"
    return None


def _control(value: Any, path: Path) -> Control:
    if value is None or value is True:
        return Control()
    if value is False:
        return Control(enabled=False)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _FALSE:
            return Control(enabled=False)
        if word in _TRUE:
            return Control()
        return Control(only=_names(value))
    if isinstance(value, list):
        return Control(only=_names(value))
    if not isinstance(value, dict):
        raise PostError(f"{path}: syndicate: expected true/false, a list of targets or a table, got {value!r}")
    control = Control(enabled=not _falsy(value.get("enabled", True)))
    for key, item in value.items():
        if key == "enabled":
            continue
        if key in ("skip", "except"):
            control.skip.extend(_names(item))
        elif key in ("only", "targets"):
            control.only = _names(item)
        elif isinstance(item, dict):
            control.overrides[str(key)] = dict(item)
        elif item is False:
            control.skip.append(str(key))
        elif item is not True:
            raise PostError(f"{path}: syndicate.{key}: expected a table of overrides or true/false, got {item!r}")
    return control


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in re.split(r"[,\s]+", value.strip()) if v]
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _canonical(view: dict[str, Any], info: SiteInfo, where: Where, values: dict[str, str], fm_slug: str | None,
               url_v: Any, url_key: str | None, warnings: list[str], date: datetime | None, file: Path) -> str:
    base = info.site.url
    canon, key = _role(view, "canonical", info)
    if isinstance(canon, str) and canon.strip():
        canon = canon.strip()
        if _HTTP.match(canon):
            return canon
        if not _SCHEME.match(canon) and not canon.startswith("//"):
            return base + quote("/" + canon.lstrip("/"), safe="/~._-%")
        warnings.append(f"{key}: {canon!r} is not an http(s) URL; ignored")
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


use(lambda path, site: load_post(path, site, light=True), discover_site)
