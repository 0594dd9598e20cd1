"""Where Astro and Gatsby serve a post, read from the site's own routes and config.

Astro (https://docs.astro.build/en/guides/routing/): a Markdown file under
`src/pages/` is served at its path; a collection entry (`src/content/<name>/`,
or a `glob()` loader's `base` in `src/content.config.ts` / `src/content/config.ts`)
is served by the dynamic route whose `getStaticPaths` calls
`getCollection("<name>")`: `src/pages/blog/[...slug].astro` with
`params: { slug: entry.slug }` serves it under `/blog/`. The entry's slug is its
path in the collection, each segment through github-slugger, `/index` dropped
(a front-matter `slug` wins); `id` is that slug from Astro 5 on, the file's path
before. `trailingSlash` and `build.format` in `astro.config.*` shape the end.

Gatsby (https://www.gatsbyjs.com/docs/reference/config-files/gatsby-node/):
`createFilePath` makes the slug from the path under a `gatsby-source-filesystem`
folder; a `createPage` path written as `` `/blog${slug}` `` adds its prefix;
`gatsby-plugin-i18n` serves `index.es.md` under `/es/`.

JavaScript is read with patterns for the shapes these generators' docs and
starters use, never run: a route we cannot read is reported, not guessed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

_GITHUB_SLUG_DROP = regex.compile(r"[^\p{L}\p{M}\p{N}\p{Pc} \-]")
_ASTRO_CONFIG = ("astro.config.mjs", "astro.config.ts", "astro.config.js", "astro.config.mts", "astro.config.cjs")
_COLLECTION_FILES = ("src/content.config.ts", "src/content.config.js", "src/content.config.mjs",
                     "src/content.config.mts", "src/content/config.ts", "src/content/config.js",
                     "src/content/config.mjs", "src/content/config.mts")
_PAGE_EXT = (".md", ".mdx", ".markdown", ".astro", ".html")
_ROUTE_EXT = (".astro", ".js", ".ts", ".mjs", ".jsx", ".tsx")
_DEFINE = re.compile(r"(?:const|let|var)\s+(\w+)\s*=\s*defineCollection\s*\(")
_EXPORTS = re.compile(r"\bcollections\s*=\s*\{")
_PAIR = re.compile(r"""['"]?([\w-]+)['"]?\s*:\s*(\w+)\s*(\()?""")
_BASE = re.compile(r"""\bbase\s*:\s*['"`]([^'"`]+)['"`]""")
_GET_COLLECTION = re.compile(r"""getCollection\s*\(\s*['"]([\w-]+)['"]""")
_PARAMS = re.compile(r"params\s*:\s*\{([^{}]*)\}")
_PARAM = re.compile(r"(\w+)\s*:\s*(?:\w+)((?:\??\.\w+)+)")
_TRAILING = re.compile(r"""trailingSlash\s*:\s*['"](always|never|ignore)['"]""")
_FORMAT = re.compile(r"""format\s*:\s*['"](file|directory|preserve)['"]""")
_SOURCE_FS = re.compile(r"gatsby-source-filesystem")
_FS_PATH = re.compile(
    r"""\bpath\s*:\s*(?:`\$\{__dirname\}/([^`]+)`|['"`]\.?/?([^'"`$]+)['"`]"""
    r"""|path\.(?:join|resolve)\(\s*__dirname\s*,((?:\s*['"][^'"]+['"]\s*,?)+)\))""")
_PAGE_PREFIX = re.compile(r"""\b(?:path|value)\s*:\s*`((?:/[\w.-]+)+)/?\$\{""")
_LANG_DEFAULT = re.compile(r"""(?:langKeyDefault|defaultLang(?:uage)?)\s*:\s*['"]([\w-]+)['"]""")
_MAJOR = re.compile(r"(\d+)")


def github_slug(text: str) -> str:
    """github-slugger's slug (what Astro applies to each segment of a collection entry's path)."""
    return _GITHUB_SLUG_DROP.sub("", text.lower()).replace(" ", "-")


@dataclass
class AstroRoute:
    """One dynamic route serving a collection: its file, its path template, param → entry field."""

    file: str  # relative to the site root
    template: list[str]  # path segments; "[x]" / "[...x]" are params
    collection: str
    params: dict[str, str]  # param -> entry field ("slug", "id", "data.slug")


@dataclass
class Astro:
    """What an Astro site says about URLs."""

    collections: dict[str, str] = field(default_factory=dict)  # name -> folder relative to the root
    routes: list[AstroRoute] = field(default_factory=list)
    trailing: str = "ignore"
    format: str = "directory"
    major: int | None = None
    warnings: list[str] = field(default_factory=list)

    def url(self, rel: str, fm: dict[str, Any]) -> tuple[str | None, str | None]:
        """(URL path, None) for a post file, or (None, why) when no route serves it."""
        if rel.startswith("src/pages/"):
            return self._finish(_page_path(rel[len("src/pages/"):])), None
        best = max((n for n, base in self.collections.items() if rel.startswith(base.rstrip("/") + "/")),
                   key=lambda n: len(self.collections[n]), default=None)
        if best is None:
            return None, "it is in no collection of src/content.config.ts and not under src/pages/"
        entry = rel[len(self.collections[best].rstrip("/")) + 1:]
        routes = [r for r in self.routes if r.collection == best]
        if not routes:
            return None, f"no route under src/pages/ calls getCollection({best!r})"
        route = routes[0]
        values: dict[str, str] = {}
        for param, fld in route.params.items():
            value = self._field(fld, entry, fm)
            if value is None:
                return None, f"{route.file}: cannot read params.{param} ({fld})"
            values[param] = value
        out: list[str] = []
        for seg in route.template:
            if seg.startswith("[...") and seg.endswith("]"):
                value = values.get(seg[4:-1])
                if value is None:
                    return None, f"{route.file}: params has no {seg[4:-1]!r}"
                out.extend(p for p in value.split("/") if p)
            elif seg.startswith("[") and seg.endswith("]"):
                value = values.get(seg[1:-1])
                if value is None:
                    return None, f"{route.file}: params has no {seg[1:-1]!r}"
                out.append(value)
            else:
                out.append(seg)
        return self._finish("/" + "/".join(out)), None

    def _field(self, fld: str, entry: str, fm: dict[str, Any]) -> str | None:
        slug = fm.get("slug") if isinstance(fm.get("slug"), str) and fm["slug"].strip() else None
        if fld == "slug":
            return slug.strip("/") if slug else entry_slug(entry)
        if fld == "id":
            if self.major is not None and self.major < 5:
                return entry  # Astro 2-4: the file's path in the collection, extension included
            return slug.strip("/") if slug else entry_slug(entry)
        if fld.startswith("data."):
            value = fm.get(fld[5:])
            return str(value).strip("/") if isinstance(value, (str, int)) and str(value).strip() else None
        return None

    def _finish(self, path: str) -> str:
        path = "/" + path.strip("/")
        if path == "/":
            return path
        if self.format == "file":
            return path + ".html"
        return path if self.trailing == "never" else path + "/"


def entry_slug(entry: str) -> str:
    """Astro's slug of a collection entry path: github-slugger per segment, the extension and `/index` dropped."""
    stem = entry.rsplit(".", 1)[0] if "." in entry.rsplit("/", 1)[-1] else entry
    parts = [github_slug(p) for p in stem.split("/") if p]
    if parts and parts[-1] == "index":
        parts.pop()
    return "/".join(parts)


def _page_path(rel: str) -> str:
    stem = rel.rsplit(".", 1)[0]
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "index":
        parts.pop()
    return "/" + "/".join(parts)


def read_astro(root: Path) -> Astro:
    """The collections, routes and URL shape of the Astro site at `root`."""
    astro = Astro()
    for name in _ASTRO_CONFIG:
        text = _read(root / name)
        if text is not None:
            if m := _TRAILING.search(text):
                astro.trailing = m.group(1)
            if m := _FORMAT.search(text):
                astro.format = m.group(1)
            break
    package = _read(root / "package.json")
    if package is not None:
        try:
            deps = json.loads(package)
            spec = {**deps.get("devDependencies", {}), **deps.get("dependencies", {})}.get("astro")
        except (ValueError, AttributeError):
            spec = None
        if isinstance(spec, str) and (m := _MAJOR.search(spec)):
            astro.major = int(m.group(1))
    astro.collections = _collections(root)
    pages = root / "src" / "pages"
    if pages.is_dir():
        for path in sorted(pages.rglob("*")):
            rel = path.relative_to(pages).as_posix()
            if "[" in rel and path.suffix in _ROUTE_EXT and path.is_file():
                route = _route(path, rel, root)
                if route is not None:
                    astro.routes.append(route)
    astro.routes.sort(key=lambda r: (not r.template[-1].startswith("[..."), r.file))
    return astro


def _collections(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    content = root / "src" / "content"
    if content.is_dir():  # Astro 2-4: every folder of src/content is a collection
        found.update({p.name: f"src/content/{p.name}" for p in content.iterdir() if p.is_dir()})
    for name in _COLLECTION_FILES:
        text = _read(root / name)
        if text is None:
            continue
        bases: dict[str, str | None] = {}
        starts = [(m.start(), m.group(1)) for m in _DEFINE.finditer(text)]
        for i, (at, var) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            m = _BASE.search(text, at, end)
            bases[var] = m.group(1) if m else None
        exports = _EXPORTS.search(text)
        body = _braced(text, exports.end()) if exports else ""
        for entry in _top_level(body):
            m = _PAIR.match(entry)
            if m is not None:  # `blog: blogCollection`, or `blog: defineCollection({...})` written inline
                coll = m.group(1)
                b = _BASE.search(entry) if m.group(3) else None
                base = b.group(1) if b else bases.get(m.group(2))
            elif re.fullmatch(r"\w+", entry):  # `{ blog, docs }`
                coll, base = entry, bases.get(entry)
            else:
                continue
            found[coll] = _folder(base) if base else f"src/content/{coll}"
        break
    return found


def _top_level(body: str) -> list[str]:
    """The comma-separated entries of an object literal's body, nested brackets kept whole."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(body[start:i].strip())
            start = i + 1
    out.append(body[start:].strip())
    return [e for e in out if e]


def _braced(text: str, start: int) -> str:
    """The text from `start` (just after a `{`) to its matching `}`."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if not depth:
                return text[start:i]
    return text[start:]


def _folder(base: str) -> str:
    return base.strip().removeprefix("./").strip("/")


def _route(path: Path, rel: str, root: Path) -> AstroRoute | None:
    text = _read(path)
    if text is None or "paginate(" in text:
        return None
    m = _GET_COLLECTION.search(text)
    if m is None:
        return None
    params: dict[str, str] = {}
    for block in _PARAMS.finditer(text):
        for p in _PARAM.finditer(block.group(1)):
            params[p.group(1)] = p.group(2).replace("?", "").lstrip(".")
    stem = rel.rsplit(".", 1)[0]
    template = [s for s in stem.split("/") if s]
    if template and template[-1] == "index":
        template.pop()
    return AstroRoute(file=path.relative_to(root).as_posix(), template=template, collection=m.group(1),
                      params=params)


@dataclass
class Gatsby:
    """What a Gatsby site says about URLs."""

    sources: list[str] = field(default_factory=list)  # gatsby-source-filesystem folders, relative to the root
    prefix: str = ""  # a createPage path written as `/blog${slug}`
    default_lang: str | None = None  # gatsby-plugin-i18n's langKeyDefault
    uses_fm_slug: bool = False

    def path(self, rel: str, fm_slug: str | None) -> str | None:
        """The page path `createFilePath` gives `rel` (language suffix removed), or None outside every source."""
        root = max((s for s in self.sources if rel.startswith(s.rstrip("/") + "/")), key=len, default=None)
        if fm_slug and self.uses_fm_slug:
            return self.prefix + "/" + fm_slug.strip("/") + "/"
        if root is None:
            return None
        return self.prefix + createfilepath(rel[len(root.rstrip("/")) + 1:])


def createfilepath(rel: str) -> str:
    """gatsby-source-filesystem's `createFilePath`: extension (and a language suffix) off, `index` → its folder."""
    parts = [p for p in rel.split("/") if p]
    if not parts:
        return "/"
    name = parts.pop()
    stem = name.rsplit(".", 1)[0]
    base, _, suffix = stem.rpartition(".")
    if base and re.fullmatch(r"[a-z]{2}(?:[-_][A-Za-z]{2,4})?", suffix):
        stem = base
    if stem != "index":
        parts.append(stem)
    return "/" + "/".join(parts) + ("/" if parts else "")


def read_gatsby(root: Path) -> Gatsby:
    """The source folders, page prefix and default language of the Gatsby site at `root`."""
    gatsby = Gatsby()
    for name in ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs"):
        text = _read(root / name)
        if text is None:
            continue
        for hit in _SOURCE_FS.finditer(text):
            window = text[hit.end(): hit.end() + 400]
            p = _FS_PATH.search(window)
            if p is None:
                continue
            folder = p.group(1) or p.group(2) or "/".join(re.findall(r"""['"]([^'"]+)['"]""", p.group(3) or ""))
            folder = folder.strip().removeprefix("./").strip("/")
            if folder and folder not in gatsby.sources:
                gatsby.sources.append(folder)
        if lang := _LANG_DEFAULT.search(text):
            gatsby.default_lang = lang.group(1).lower()
        break
    for name in ("gatsby-node.js", "gatsby-node.ts", "gatsby-node.mjs"):
        text = _read(root / name)
        if text is None:
            continue
        if prefix := _PAGE_PREFIX.search(text):
            gatsby.prefix = prefix.group(1).rstrip("/")
        gatsby.uses_fm_slug = "frontmatter.slug" in text
        break
    return gatsby


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > 512 * 1024:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
