"""What the site's generator says about URLs: permalink patterns, sections, languages.

The generator's own config is read once per site (`site_info`), never per post:
Hugo `[permalinks]` (hugo.toml / config.toml / .yaml / .json, also under
config/_default/; https://gohugo.io/content-management/urls/#permalinks),
Jekyll `permalink:` with its named styles
(https://jekyllrb.com/docs/permalinks/), Zola's `base_url` marks a Zola site
(its posts name their URL in `path`). Patterns expand the tokens :year :month
:day :slug :title :section :sections :categories :filename :contentbasename
(and Jekyll's :output_ext, :i_month, :i_day, :short_year, :y_day).
"""
from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import regex
import yaml

from syndicate.config import ConfigError, SiteConfig
from syndicate.config.urltokens import allowed, unknown
from syndicate.config.urltokens import expand as expand_tokens
from syndicate.content.dates import zone
from syndicate.content.frontmatter import BoundedSafeLoader
from syndicate.content.resolve import SiteFiles, static_folders
from syndicate.content.routes import Astro, Gatsby, read_astro, read_gatsby

ROLES = frozenset({
    "title", "date", "updated", "summary", "tags", "categories", "cover", "cover_alt", "url",
    "canonical", "slug", "authors", "lang", "id", "series", "hidden", "syndicate",
})
# ISO 639-1 codes: a folder or file suffix named like one marks a translation.
ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv "
    "dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig "
    "ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh "
    "mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru "
    "rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug "
    "uk ur uz ve vi vo wa wo xh yi yo za zh zu".split()
)
_LANG_TAG = re.compile(r"^([a-z]{2})(?:[-_]([a-z]{2}|[a-z]{4}|\d{3}))?$", re.IGNORECASE)
JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_SLUG_DROP = regex.compile(r"[^\p{L}\p{N}\p{M}._~]+")
_QUOTES = regex.compile(r"['\u2019\u2018\"`]+")
_HUGO_FILES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
               "config.json", "config/_default/hugo.toml", "config/_default/config.toml",
               "config/_default/hugo.yaml", "config/_default/config.yaml")
_MARKERS = {
    "astro": ("astro.config.mjs", "astro.config.ts", "astro.config.js"),
    "eleventy": (".eleventy.js", "eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs"),
    "gatsby": ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs"),
}
# Hugo's date sources when `[frontmatter]` says nothing (https://gohugo.io/configuration/front-matter/);
# keys are matched case-insensitively, as Hugo does.
HUGO_DATES: dict[str, tuple[str, ...]] = {
    "date": ("date", "publishdate", "pubdate", "published", "lastmod", "modified"),
    "publishdate": ("publishdate", "pubdate", "published", "date"),
    "expirydate": ("expirydate", "unpublishdate"),
    "lastmod": (":git", "lastmod", "modified", "date", "publishdate", "pubdate", "published"),
}


def slugify(text: str) -> str:
    """Lowercase, hyphens for runs of anything but letters, digits, marks, `.` `_` `~`; CJK kept."""
    text = _QUOTES.sub("", unicodedata.normalize("NFKC", text)).lower()
    return _SLUG_DROP.sub("-", text).strip("-.")


def lang_code(text: str) -> str | None:
    """`ja`, `pt-br`, `zh_Hant` → a language tag when it looks like one, else None."""
    m = _LANG_TAG.match(text)
    if not m or m[1].lower() not in ISO_639_1:
        return None
    return text.replace("_", "-").lower()


@dataclass
class SiteInfo:
    """The per-site facts every post needs, computed once."""

    site: SiteConfig
    root: Path
    tz: tzinfo
    ssg: str | None = None
    hugo_permalinks: dict[str, str] = field(default_factory=dict)
    jekyll_permalink: str | None = None
    content_dirs: tuple[str, ...] = ("content", "src/content", "src/pages", "src/posts")
    default_lang: str = "en"
    lang_in_subdir: bool = False
    languages: frozenset[str] = frozenset()
    static_dirs: list[Path] = field(default_factory=list)
    files: SiteFiles = field(default_factory=lambda: SiteFiles("/"))
    hugo_dates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # `[frontmatter]`, as configured
    fields: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    astro: Astro | None = None
    gatsby: Gatsby | None = None
    cache: dict[str, object] = field(default_factory=dict)  # per-site state of other modules (the site index)


_CACHE: dict[tuple[Any, ...], SiteInfo] = {}


def reset_cache() -> None:
    """Forget every site's generator config (a new scan reads it again)."""
    _CACHE.clear()


def site_info(site: SiteConfig) -> SiteInfo:
    """The cached `SiteInfo` for a site; the generator config is read on first use."""
    key = (str(site.root), site.url, site.permalink, tuple(site.static), tuple(sorted(site.fields.items())),
           site.timezone, site.language)
    info = _CACHE.get(key)
    if info is None:
        info = _build(site)
        _CACHE[key] = info
    return info


def check_site(site: SiteConfig) -> None:
    """Read the generator's config once, unkept, so that a pattern it cannot expand is a `ConfigError` at start
    (the cached `SiteInfo` is built when the first post is read: a webhook's checkout may not exist yet)."""
    _build(site)


def _build(site: SiteConfig) -> SiteInfo:
    unknown = set(site.fields) - ROLES
    if unknown:
        raise ConfigError(f"site.fields: unknown role(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(ROLES))})")
    root = site.root.resolve()
    info = SiteInfo(site=site, root=root, tz=zone(site.timezone), fields=dict(site.fields))
    if site.language:
        info.default_lang = site.language.lower()
    _read_generator_config(info)
    info.static_dirs = static_folders(root, info.ssg, site.static)
    info.files = SiteFiles(root, info.static_dirs)
    info.languages = _languages(info)
    return info


def _read_generator_config(info: SiteInfo) -> None:
    root = info.root
    for name in (*_HUGO_FILES, "zola.toml"):  # Zola also reads zola.toml (blog.rust-lang.org has one)
        path = root / name
        if not path.is_file():
            continue
        data = _read_config(path, info)
        if data is None:
            continue
        if "base_url" in data and not _has_any(data, "baseURL", "baseurl", "permalinks"):
            info.ssg = "zola"
            info.default_lang = str(data.get("default_language", info.default_lang)).lower()
            return
        info.ssg = "hugo"
        links = _lower_keys(data).get("permalinks") or {}
        perm_file = root / "config/_default/permalinks.toml"
        where, key = path, "permalinks"
        if not links and perm_file.is_file():
            links, where, key = _read_config(perm_file, info) or {}, perm_file, ""
        if isinstance(links.get("page"), dict):
            links, key = links["page"], (key + ".page").lstrip(".")
        info.hugo_permalinks = {str(k).strip("/"): str(v) for k, v in links.items() if isinstance(v, str)}
        for section, pattern in info.hugo_permalinks.items():
            _check(pattern, "hugo", where, f"{key}.{section}".lstrip("."))
        lowered = _lower_keys(data)
        dates = lowered.get("frontmatter")
        dates_file = root / "config/_default/frontmatter.toml"
        if not isinstance(dates, dict) and dates_file.is_file():
            dates = _read_config(dates_file, info)
        info.hugo_dates = _hugo_dates(dates, info)
        info.content_dirs = (str(lowered.get("contentdir", "content")).strip("/"), *info.content_dirs)
        if lowered.get("defaultcontentlanguage"):
            info.default_lang = str(lowered["defaultcontentlanguage"]).lower()
        info.lang_in_subdir = bool(lowered.get("defaultcontentlanguageinsubdir", False))
        if isinstance(lowered.get("languages"), dict):
            info.languages = frozenset(str(k).lower() for k in lowered["languages"])
        return
    for name in ("_config.yml", "_config.yaml"):
        path = root / name
        if path.is_file():
            info.ssg = "jekyll"
            data = _read_config(path, info) or {}
            value = data.get("permalink")
            if isinstance(value, str) and value.strip():
                info.jekyll_permalink = JEKYLL_STYLES.get(value.strip(), value.strip())
                _check(info.jekyll_permalink, "jekyll", path, "permalink")
            return
    for ssg, names in _MARKERS.items():
        if any((root / n).is_file() for n in names):
            info.ssg = ssg
            if ssg == "astro":
                info.astro = read_astro(root)
            elif ssg == "gatsby":
                info.gatsby = read_gatsby(root)
            return


def _check(pattern: str, flavour: str, path: Path, key: str) -> None:
    """A generator's URL pattern with a token the generator does not know stops the run (exit 2)."""
    bad = unknown(pattern, flavour)
    if bad:
        raise ConfigError(f"{path}: {key}: unknown token {', '.join(bad)} (got {pattern!r}; "
                          f"allowed: {allowed(flavour)})")


def _read_config(path: Path, info: SiteInfo) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > 1024 * 1024:
            raise ValueError("larger than 1 MB")
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=BoundedSafeLoader)
    except (OSError, ValueError, yaml.YAMLError, RecursionError) as exc:
        info.warnings.append(f"{path}: cannot read the site generator's config ({exc}); using default URLs")
        return None
    return data if isinstance(data, dict) else None


def _hugo_dates(data: object, info: SiteInfo) -> dict[str, tuple[str, ...]]:
    """`[frontmatter]` date sources, keys and entries lowered, `:default` expanded."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        field_name = str(key).lower()
        if field_name not in HUGO_DATES:
            continue
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else None
        if items is None or not all(isinstance(i, str) for i in items):
            info.warnings.append(f"[frontmatter] {key}: expected a list of front-matter keys; ignored")
            continue
        expanded: list[str] = []
        for item in items:
            entry = item.strip().lower()
            expanded.extend(HUGO_DATES[field_name] if entry == ":default" else (entry,))
        out[field_name] = tuple(expanded)
    return out


def _has_any(data: dict[str, Any], *keys: str) -> bool:
    return any(k in data for k in keys)


def _lower_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in data.items()}


def _languages(info: SiteInfo) -> frozenset[str]:
    if info.languages:
        return info.languages
    found: set[str] = set()
    for name in info.content_dirs:
        folder = info.root / name
        if folder.is_dir():
            found.update(c for c in (lang_code(p.name) for p in folder.iterdir() if p.is_dir()) if c)
    return frozenset(found) if len(found) >= 2 else frozenset()


@dataclass
class Where:
    """A post's place in the content tree, derived from its path once."""

    sections: list[str]  # folders under the content dir (language folder and bundle folder removed)
    name: str  # file stem, or the bundle folder's name (date prefix and language suffix removed)
    lang: str | None  # from a language folder or an `index.ja.md` suffix
    is_bundle: bool
    in_posts: bool  # under Jekyll's `_posts/`
    in_content: bool = False  # under a content folder (`content/`, `src/content/`...)
    rel: str = ""  # the file's path relative to the site root, with `/`
    basename: str = ""  # the file's name without its extension


def flavour(info: SiteInfo, where: Where) -> str:
    """Whose permalink rules apply to this post: "hugo", "jekyll" or "site" (syndicate's own)."""
    if where.in_posts or info.ssg == "jekyll":
        return "jekyll"
    return "hugo" if info.ssg == "hugo" else "site"


def tokens(info: SiteInfo, where: Where, *, slug: str, fm_slug: str | None, title: str,
           date: datetime | None, categories: list[str]) -> dict[str, str]:
    """The values of every permalink token for one post, in the site generator's flavour."""
    ssg = "jekyll" if where.in_posts else info.ssg
    d = date
    values = dict.fromkeys(_DATE_TOKENS, "")
    if d is not None:
        iso = d.isocalendar()
        short_day, long_day, short_month, long_month = d.strftime("%a|%A|%b|%B").split("|")  # one strftime
        values.update({
            "year": f"{d.year:04d}", "month": f"{d.month:02d}", "day": f"{d.day:02d}", "i_month": str(d.month),
            "i_day": str(d.day), "short_year": f"{d.year % 100:02d}", "y_day": f"{d.timetuple().tm_yday:03d}",
            "yearday": str(d.timetuple().tm_yday), "hour": f"{d.hour:02d}", "minute": f"{d.minute:02d}",
            "second": f"{d.second:02d}", "week": f"{iso[1]:02d}", "w_year": str(iso[0]), "w_day": str(iso[2]),
            "short_day": short_day, "long_day": long_day, "short_month": short_month,
            "long_month": long_month, "monthname": long_month.lower(),
            "weekday": str(d.isoweekday() % 7), "weekdayname": long_day.lower(),
        })
    section_slugs = [slugify(s) or s for s in where.sections]
    values.update({
        "section": where.sections[0] if where.sections else "", "sections": "/".join(where.sections),
        "sectionslug": section_slugs[0] if section_slugs else "", "sectionslugs": "/".join(section_slugs),
        "filename": where.name, "contentbasename": where.name, "output_ext": ".html",
        "categories": "/".join(slugify(c) for c in categories if c),
        "slugified_categories": "/".join(slugify(c) for c in categories if c),
        "slug": slug, "title": slugify(title) or slug, "name": where.basename or where.name,
        "basename": where.basename or where.name, "path": "/".join([*where.sections, where.name]),
        "collection": "posts",
    })
    values["slugorfilename"] = values["slugorcontentbasename"] = fm_slug or where.name
    if ssg == "hugo":
        values["slug"] = fm_slug or slugify(title) or slug
    elif ssg == "jekyll":
        values["title"] = fm_slug or where.name
    return values


_DATE_TOKENS = ("year", "month", "day", "i_month", "i_day", "short_year", "y_day", "yearday", "hour", "minute",
                "second", "week", "w_year", "w_day", "short_day", "long_day", "short_month", "long_month",
                "monthname", "weekday", "weekdayname")


def expand(pattern: str, values: dict[str, str], flavour: str = "site", *, date: datetime | None = None,
           sections: list[str] | tuple[str, ...] = ()) -> str:
    """`/:year/:slug/` with `values` → a URL path (see `syndicate.config.urltokens.expand`)."""
    return expand_tokens(pattern, values, flavour, date=date, sections=sections)


def url_path(info: SiteInfo, where: Where, values: dict[str, str], fm_slug: str | None, *,
             date: datetime | None = None, fm: dict[str, Any] | None = None,
             warnings: list[str] | None = None) -> str:
    """The post's URL path from the configured pattern, the generator's config and routes, or the conventions."""
    pattern = info.site.permalink
    how = "site"
    if pattern is None:
        if info.ssg == "hugo" and where.sections and where.sections[0] in info.hugo_permalinks and not where.in_posts:
            pattern, how = info.hugo_permalinks[where.sections[0]], "hugo"
        elif info.ssg == "jekyll" or where.in_posts:
            pattern, how = info.jekyll_permalink or JEKYLL_STYLES["date"], "jekyll"
        elif info.ssg == "astro" and info.astro is not None:
            path, why = info.astro.url(where.rel, fm or {})
            if path is not None:
                return path
            pattern = "/:slug/"
            if warnings is not None:
                warnings.append(f"Astro: no route serves {where.rel} ({why}); its URL {expand(pattern, values)} "
                                "is a guess (set [site] permalink to say it)")
        elif info.ssg == "gatsby" and info.gatsby is not None:
            found = info.gatsby.path(where.rel, fm_slug)
            if found is not None:
                lang = where.lang if where.lang != (info.gatsby.default_lang or info.default_lang) else None
                return ("/" + lang if lang else "") + found
            pattern = "/:slug/"
        elif info.ssg in ("hugo", "zola") or (info.ssg is None and where.in_content):
            # Hugo and Zola serve a post at its folder path; an unknown generator with a
            # `content/` tree is most likely one of them.
            segs = [*where.sections, fm_slug or where.name]
            if not where.sections and where.name == "_index" and not fm_slug:
                segs = []  # the content root's `_index.md` is the home page
            return _lang_prefix(info, where) + "/" + "".join(f"{slugify(s) or s}/" for s in segs)
        else:
            pattern = "/:slug/"
    path = expand(pattern, values, how, date=date, sections=where.sections)
    if info.ssg in ("hugo", "zola") or (info.ssg is None and info.languages):
        path = _lang_prefix(info, where) + path
    elif info.ssg == "gatsby" or (info.ssg is None and where.lang):
        default = info.gatsby.default_lang if info.gatsby and info.gatsby.default_lang else info.default_lang
        if where.lang and where.lang != default:
            path = "/" + where.lang + path
    return path


def _lang_prefix(info: SiteInfo, where: Where) -> str:
    if where.lang and (where.lang != info.default_lang or info.lang_in_subdir):
        return "/" + where.lang
    return ""
