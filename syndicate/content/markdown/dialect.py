"""Which Markdown a post is written in: its generator's renderer, with the extensions its config enables.

- Hugo: goldmark; footnote, table, strikethrough, linkify, definition list, task list and
  typographer are on unless `markup.goldmark.extensions` turns them off; raw HTML is omitted
  unless `markup.goldmark.renderer.unsafe` (https://gohugo.io/configuration/markup/#goldmark).
- Jekyll: kramdown with `input: GFM` (Jekyll's default): footnotes, definition lists, tables,
  strikethrough, task lists, typographic quotes; `markdown: CommonMark*` is GFM without the
  kramdown extras (https://jekyllrb.com/docs/configuration/markdown/).
- Zola: pulldown-cmark with tables, footnotes, strikethrough and task lists; `[markdown]
  smart_punctuation` (https://www.getzola.org/documentation/getting-started/configuration/).
- Gatsby, Next and MDX: remark + remark-gfm; Astro adds smartypants unless `smartypants: false`
  (https://docs.astro.build/en/reference/configuration-reference/#markdownsmartypants).
- Eleventy: markdown-it with `html: true` (tables and strikethrough are in its default preset);
  Liquid runs over the Markdown first (https://www.11ty.dev/docs/languages/markdown/).
- Heading ids (`anchors`, the rule `syndicate.content.markdown.anchors` applies): Hugo's
  `markup.goldmark.parser.autoHeadingID` and `autoHeadingIDType`, kramdown's `auto_ids` (with
  `auto_id_prefix` or `transliterated_header_ids` the ids are left unknown), Zola's `[slugify] anchors`,
  Astro's github-slugger, and Gatsby's with `gatsby-remark-autolink-headers` in `gatsby-config`; Next and
  Eleventy give none by default.
- A `.html` content file (Hugo, Jekyll) is HTML, not Markdown: Hugo publishes it as it is, so its
  HTML is kept even where goldmark would omit raw HTML (https://gohugo.io/content-management/formats/).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from syndicate.content.frontmatter import BoundedSafeLoader

if TYPE_CHECKING:
    from syndicate.content.source import Source


@dataclass(frozen=True)
class Dialect:
    """The Markdown extensions a generator renders, and how it treats raw HTML and templates."""

    name: str  # "goldmark" | "kramdown" | "commonmark-gfm" | "pulldown-cmark" | "remark-gfm" | "markdown-it" | "commonmark"
    # | "mdx" | "html" (a .html content file)
    footnote: bool = True
    table: bool = True
    strikethrough: bool = True
    linkify: bool = False  # bare URLs (`https://…`, `www.…`) become links
    deflist: bool = False
    tasklist: bool = False
    typographer: bool = False  # smart quotes, dashes, ellipses
    html: bool = True  # raw HTML kept (goldmark without `unsafe` omits it)
    mdx: bool = False  # JSX: HTML elements hold Markdown, `{…}` is an expression
    templates: bool = False  # a template engine runs over the body first (Liquid, Nunjucks)
    anchors: str = ""  # how the generator gives headings their ids (`anchors.RULES`); "": it gives none


GOLDMARK = Dialect("goldmark", linkify=True, deflist=True, tasklist=True, typographer=True, html=False,
                   anchors="github")
KRAMDOWN = Dialect("kramdown", deflist=True, tasklist=True, typographer=True, templates=True, anchors="kramdown-gfm")
COMMONMARK_GFM = Dialect("commonmark-gfm", footnote=False, linkify=True, tasklist=True, templates=True)
PULLDOWN = Dialect("pulldown-cmark", tasklist=True, anchors="zola-on")
REMARK_GFM = Dialect("remark-gfm", linkify=True, tasklist=True)
MARKDOWN_IT = Dialect("markdown-it", footnote=False, templates=True)
# no generator found: CommonMark with the extensions nearly every generator has
DEFAULT = Dialect("commonmark")

_GOLDMARK_KEYS = {"footnote": "footnote", "table": "table", "strikethrough": "strikethrough", "linkify": "linkify",
                  "definitionlist": "deflist", "tasklist": "tasklist", "typographer": "typographer"}
_HUGO_FILES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
               "config/_default/hugo.toml", "config/_default/hugo.yaml", "config/_default/config.toml",
               "config/_default/config.yaml", "config/_default/markup.toml", "config/_default/markup.yaml")
_HUGO_ID_TYPES = ("github", "github-ascii", "blackfriday")
_ASTRO_OFF = re.compile(r"\b(smartypants|gfm)\s*:\s*false\b")
_CACHE: dict[tuple[str, str | None], tuple[Any, Dialect]] = {}


def dialect_of(post: Source) -> Dialect:
    """The dialect `post` is rendered in by its site's generator (the config read once per site)."""
    from syndicate.content.permalinks import site_info

    info = site_info(post.site)
    parts = post.path.parts
    ssg = "jekyll" if "_posts" in parts or "_drafts" in parts else info.ssg
    key = (str(info.root), ssg)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not info:  # the site's config read again (a new scan): read ours again too
        hit = _CACHE[key] = (info, _read(info.root, ssg))
    base = hit[1]
    suffix = post.path.suffix.lower()
    if post.format == "mdx" or suffix == ".mdx":
        return replace(base, name="mdx", html=True, mdx=True, templates=False)
    if suffix in (".html", ".htm"):  # an HTML content file is published as it is: no Markdown extension, no omission
        return replace(base, name="html", html=True, footnote=False, table=False, strikethrough=False,
                       linkify=False, deflist=False, tasklist=False, typographer=False, anchors="")
    return base


def reset_cache() -> None:
    _CACHE.clear()


def _read(root: Path, ssg: str | None) -> Dialect:
    if ssg == "hugo":
        return _hugo(root)
    if ssg == "jekyll":
        return _jekyll(root)
    if ssg == "zola":
        data = _load(root / "config.toml") or {}
        found = data.get("markdown")
        md: dict[str, Any] = found if isinstance(found, dict) else {}
        found = data.get("slugify")
        slugify: dict[str, Any] = found if isinstance(found, dict) else {}
        strategy = str(slugify.get("anchors", "on")).lower()
        return replace(PULLDOWN, typographer=bool(md.get("smart_punctuation", False)),
                       deflist=bool(md.get("definition_list", False)),
                       anchors=f"zola-{strategy}" if strategy in ("on", "safe", "off") else "")
    if ssg == "gatsby":
        for name in ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs"):
            if (root / name).is_file():  # the plugin that gives headings ids, with github-slugger
                if "gatsby-remark-autolink-headers" in _text(root / name):
                    return replace(REMARK_GFM, anchors="github-slugger")
                break
        return REMARK_GFM
    if ssg == "next":
        return REMARK_GFM
    if ssg == "astro":
        off = set()
        for name in ("astro.config.mjs", "astro.config.ts", "astro.config.js"):
            if (root / name).is_file():
                off = {m.group(1) for m in _ASTRO_OFF.finditer(_text(root / name))}
                break
        gfm = "gfm" not in off
        return replace(REMARK_GFM, typographer="smartypants" not in off, footnote=gfm, table=gfm,
                       strikethrough=gfm, linkify=gfm, tasklist=gfm, anchors="github-slugger")
    if ssg == "eleventy":
        return MARKDOWN_IT
    return DEFAULT


def _hugo(root: Path) -> Dialect:
    goldmark: dict[str, Any] = {}
    for name in _HUGO_FILES:
        data = _load(root / name)
        if not data:
            continue
        lowered = {str(k).lower(): v for k, v in data.items()}
        markup = lowered.get("markup", lowered if name.startswith("config/_default/markup") else None)
        if isinstance(markup, dict):
            found = {str(k).lower(): v for k, v in markup.items()}.get("goldmark")
            if isinstance(found, dict):
                goldmark = found
                break
    ext = {str(k).lower(): v for k, v in (goldmark.get("extensions") or {}).items()}
    flags: dict[str, bool] = {}
    for key, attr in _GOLDMARK_KEYS.items():
        value = ext.get(key)
        if isinstance(value, dict):  # `typographer = {disable = true}` (Hugo 0.112+)
            flags[attr] = not bool(value.get("disable", False))
        elif isinstance(value, bool):
            flags[attr] = value
    renderer = goldmark.get("renderer") or {}
    unsafe = bool(renderer.get("unsafe", False)) if isinstance(renderer, dict) else False
    found = goldmark.get("parser")
    parser = {str(k).lower(): v for k, v in found.items()} if isinstance(found, dict) else {}
    id_type = str(parser.get("autoheadingidtype", "github")).lower()
    anchors = id_type if parser.get("autoheadingid", True) is not False and id_type in _HUGO_ID_TYPES else ""
    return replace(replace(GOLDMARK, html=unsafe, anchors=anchors), **flags)  # type: ignore[arg-type]


def _jekyll(root: Path) -> Dialect:
    data: dict[str, Any] = {}
    for name in ("_config.yml", "_config.yaml"):
        data = _load(root / name) or {}
        if data:
            break
    engine = str(data.get("markdown", "kramdown")).lower()
    if engine.startswith("commonmark"):
        return COMMONMARK_GFM
    found = data.get("kramdown")
    options: dict[str, Any] = found if isinstance(found, dict) else {}
    gfm = str(options.get("input", "GFM")).lower() == "gfm"
    # ids with a prefix or transliterated are left unknown: links to them go to the post on the site
    plain = options.get("auto_ids", True) is not False and not options.get("auto_id_prefix") and (
        gfm or not options.get("transliterated_header_ids"))
    return replace(KRAMDOWN, strikethrough=gfm, tasklist=gfm,
                   anchors=("kramdown-gfm" if gfm else "kramdown") if plain else "")


def _load(path: Path) -> dict[str, Any] | None:
    """A config file as a mapping; None when absent or unreadable (the loader reports those)."""
    if not path.is_file():
        return None
    try:
        text = _text(path)
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.load(text, Loader=BoundedSafeLoader)
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")[: 1024 * 1024]
    except (OSError, UnicodeDecodeError):
        return ""
