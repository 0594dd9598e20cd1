"""One post file → `Post`: read it (fmparse: safe YAML/TOML/JSON), then map its front matter and path onto
the fields; a post that cannot be used raises `PostError("<path>: <problem>")`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from syndicate.config import Config, ConfigError, SiteConfig
from syndicate.content.dates import date_from_path, first_date, hugo_date
from syndicate.content.frontmatter import read_checked, split
from syndicate.content.frontmatter import view as fm_view
from syndicate.content.loader.discovery import discover
from syndicate.content.loader.fields import _WS, _authors, _date, _hugo_sources, _role, _series, _strings, _summary
from syndicate.content.loader.images import _cover
from syndicate.content.loader.urls import _URL_KEYS, _canonical, _where, post_id
from syndicate.content.loader.visibility import EXPIRY_KEYS, PUBLISH_KEYS, _control, _hidden
from syndicate.content.markdown import RENDERER
from syndicate.content.permalinks import SiteInfo, reset_cache, site_info, slugify, tokens
from syndicate.content.post import Post
from syndicate.content.siteindex import unique
from syndicate.errors import PostError


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


def load_post(path: Path, site: SiteConfig, *, light: bool = False, data: bytes | None = None) -> Post:
    """Read one post file and normalise it; `PostError` names the file and the problem.

    `light`: what the site index needs (URL, id, draft, language), without the cover's file lookups,
    tags, summary, authors or updated date. `data`: the file's bytes, already read.
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
    text, check = read_checked(path, data)
    fm, body, _kind = split(text, path)
    post = _normalise(path, rel, fm, body, info, light)
    if not light and text.endswith(body):  # the body is read again from the file when it is needed
        post.memo.source = (len(text) - len(body), check)
        post.kept()
    return post


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
    url, page_url = _canonical(view, info, where, values, fm_slug, url_v, url_key, warnings, date, path)
    post = Post(
        id="", path=path, title=title, slug=slug, url=url, page_url=page_url, body=body, site=info.site, date=date,
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
