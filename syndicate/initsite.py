"""`syndicate init`: which generator builds the site, where its posts are, and its public URL.

Each generator is recognised by its own config file and read by its own rules:
Hugo (`hugo.*`, `config.*`, `config/_default/`: `baseURL`, `contentDir`, per-language
`contentDir`, module mounts, `params.mainSections`), Jekyll (`_config.yml`: `url` +
`baseurl`, `source`, `collections_dir`, every `_posts` folder; `_drafts` never),
Zola (`config.toml` / `zola.toml` with `base_url`; a section is a folder with
`_index.md`, a blog section sorts by date), Astro (`astro.config.*` `site`; the
content collections of `syndicate.routes`), Eleventy (`dir.input`; the folder whose
directory data file tags its posts), Gatsby (`siteMetadata.siteUrl`; the
`gatsby-source-filesystem` folders) and Next.js (`next.config.*`; the folder of
Markdown/MDX posts and the dynamic route that serves them).

Where the config names no posts folder, the folders whose files carry a date
(front matter, file name or Zola `path`, as the loader reads them) are the posts;
undated files (pages, partials) are left out. JavaScript is read with patterns,
never run.
"""
from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syndicate.config import ConfigError, SiteConfig
from syndicate.permalinks import _HUGO_FILES, ISO_639_1, SiteInfo, _build, _read_config
from syndicate.routes import read_astro, read_gatsby

# Folder names blogs give their posts, most telling first.
POST_FOLDERS = ("posts", "post", "blog", "articles", "article", "writing", "writings", "essays", "journal",
                "entries", "news", "notes", "updates", "stories")
_STRONG = 8  # the first names of POST_FOLDERS: chosen outright; the rest only when nothing stronger exists
POST_EXT = (".md", ".markdown", ".mdx")
_SKIP_DIRS = frozenset({"node_modules", "_site", "public", "dist", "build", "out", "vendor", ".next", ".cache",
                        "drafts", "_drafts", "_includes", "_layouts", "_data", "layouts", "partials", "includes",
                        "templates", "themes"})
_ZOLA_FILES = ("zola.toml", "config.toml")
_ASTRO = ("astro.config.mjs", "astro.config.ts", "astro.config.js", "astro.config.mts", "astro.config.cjs")
_ELEVENTY = (".eleventy.js", ".eleventy.cjs", "eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs",
             "eleventy.config.ts")
_GATSBY = ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs")
_NEXT = ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs")
_USUAL = {"hugo": "content/posts", "zola": "content/blog", "jekyll": "_posts", "astro": "src/content/blog",
          "eleventy": "posts", "gatsby": "content/blog", "next": "posts"}
_SAMPLE = 40  # files read per folder to judge whether it holds posts
_DATED = 0.75  # share of dated files that makes a folder a posts folder
_PROBE_URL = "https://example.invalid"
_URL_LITERAL = r"""['"`](https?://[^'"`\s]+)['"`]"""
_INPUT = re.compile(r"""\binput\s*:\s*['"`]([^'"`]+)['"`]""")
_INCLUDES = re.compile(r"""\b(includes|layouts|data)\s*:\s*['"`]([^'"`]+)['"`]""")
_TAGS = re.compile(r"""["']?tags["']?\s*[:=]\s*(\[[^\]]*\]|["'][^"']*["'])""")
_TRAILING = re.compile(r"\btrailingSlash\s*:\s*true\b")


@dataclass
class Plan:
    """What `init` found: the generator and what `syndicate.toml` should say about the site."""

    ssg: str  # hugo, jekyll, zola, astro, eleventy, gatsby, next
    label: str  # "Hugo"
    config_file: str  # the generator's config file, relative to the root
    url: str | None = None
    url_from: str | None = None  # "hugo.toml baseURL"
    content: list[str] = field(default_factory=list)
    permalink: str | None = None
    permalink_from: str | None = None
    static: list[str] = field(default_factory=list)
    language: str | None = None
    timezone: str | None = None
    notes: list[str] = field(default_factory=list)  # one comment line each, written above [site] content
    left_out: list[str] = field(default_factory=list)  # content folders seen and not taken


def detect(root: Path) -> Plan:
    """The site at `root`, read by its generator's rules; `ConfigError` when it is no site we know."""
    root = root.resolve()
    for finder in (_hugo_or_zola, _jekyll, _astro, _eleventy, _gatsby, _next):
        plan = finder(root)
        if plan is not None:
            if not plan.content:  # no post yet: the generator's usual folder
                folder = _USUAL[plan.ssg]
                plan.content = _content_globs(root, [folder], (".md",))
                plan.notes.append(f"no post found yet: {folder}/ is where {plan.label} sites usually keep them")
            return plan
    known = "Hugo (hugo.toml, config.toml...), Jekyll (_config.yml), Zola (config.toml with base_url), " \
            "Astro (astro.config.*), Eleventy (.eleventy.js, eleventy.config.*), Gatsby (gatsby-config.*), " \
            "Next.js (next.config.*)"
    raise ConfigError(f"{root}: not a site folder: no generator config found (looked for {known})")


# --- reading files ----------------------------------------------------------------------------------------------


def _text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > 1024 * 1024:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _data(path: Path, info: SiteInfo) -> dict[str, Any]:
    data = _read_config(path, info)
    if data is None and info.warnings:
        raise ConfigError(info.warnings[-1])
    return data or {}


def _lower(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in data.items()}


def _probe(root: Path, content: list[str] | None = None) -> SiteInfo:
    """The loader's own reading of the generator config (`syndicate.permalinks`), for an unsaved config."""
    return _build(SiteConfig(url=_PROBE_URL, root=root, content=content or []))


def _first(root: Path, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if (root / n).is_file()), None)


def _js_value(root: Path, files: tuple[str, ...], keys: tuple[str, ...]) -> tuple[str, str] | None:
    """(URL, "file key") of the first `key: "https://..."` (or `KEY=https://...`) in `files`."""
    for name in files:
        text = _text(root / name)
        if text is None:
            continue
        for key in keys:
            m = re.search(rf"""\b{key}["']?\s*[:=]\s*{_URL_LITERAL}""", text) or \
                re.search(rf"""^\s*{key}\s*=\s*["']?(https?://[^"'\s]+)""", text, re.MULTILINE)
            if m:
                return m.group(1), f"{name} {key}"
    return None


# --- choosing the posts folders -----------------------------------------------------------------------------------


def _walk(folder: Path) -> list[Path]:
    """Every file under `folder`; hidden, dependency, build, layout and drafts folders are not entered."""
    out: list[Path] = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS]
        out.extend(Path(here) / f for f in files)
    return out


def _post_files(folder: Path) -> list[Path]:
    """The Markdown files under `folder`, list pages and skipped folders left out."""
    if not folder.is_dir():
        return []
    return sorted(p for p in _walk(folder) if p.suffix.lower() in POST_EXT and not p.name.startswith("_index."))


def _exts(folder: Path, default: tuple[str, ...]) -> tuple[str, ...]:
    found = {p.suffix.lower() for p in _post_files(folder)} | set(default)
    return tuple(e for e in POST_EXT if e in found)


def _globs(root: Path, folder: str, default: tuple[str, ...], *, deep: bool = True) -> list[str]:
    """One glob per extension: the generator's own, and any other Markdown extension the folder uses."""
    base = folder.strip("/")
    prefix = f"{base}/" if base and base != "." else ""
    return [f"{prefix}{'**/' if deep else ''}*{ext}" for ext in _exts(root / base, default)]


def _dated(files: list[Path], info: SiteInfo) -> float:
    """The share of `files` (a sample) that the loader finds a date for: posts have one, pages rarely."""
    from syndicate.loader import load_post
    from syndicate.post import PostError

    sample = files[:: max(1, len(files) // _SAMPLE)][:_SAMPLE]
    if not sample:
        return 0.0
    hits = 0
    for path in sample:
        try:
            post = load_post(path, info.site, light=True)
        except (PostError, OSError, ConfigError, ValueError):
            continue
        hits += post.date is not None
    return hits / len(sample)


def _named(root: Path, base: str, strong_only: bool = False) -> list[str]:
    """The folders under `base` named like posts folders and holding Markdown: the strong names, else the rest."""
    here = [n for n in POST_FOLDERS if (root / base / n).is_dir() and _post_files(root / base / n)]
    strong = [n for n in here if n in POST_FOLDERS[:_STRONG]]
    return strong or ([] if strong_only else here)


def _by_dates(root: Path, base: str, info: SiteInfo) -> tuple[list[str], list[str]]:
    """(folders, left out) under `base` whose files mostly carry a date; `base` itself when all of it does.

    A folder's files are judged together; files at the top (and page bundles there) form one group.
    """
    folder = root / base
    groups: dict[str, list[Path]] = {}
    for path in _post_files(folder):
        parts = path.relative_to(folder).parts
        top = len(parts) == 1 or (len(parts) == 2 and Path(parts[1]).stem.split(".")[0] == "index")
        groups.setdefault("" if top else parts[0], []).append(path)
    taken = {g for g, files in groups.items() if _dated(files, info) >= _DATED}
    left = sorted(g for g in groups if g not in taken)
    if taken and not left:
        return [base], []
    return [f"{base}/{g}".strip("/") if g else f"{base}/." for g in sorted(taken)], \
        [f"{base}/{g}".strip("/") if g else f"{base} (its top-level pages)" for g in left]


def _choose(root: Path, base: str, info: SiteInfo, preferred: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The posts folders under `base` (relative to root): `preferred` names, post-like names, else by dates."""
    if preferred:
        found = [n for n in preferred if (root / base / n).is_dir()]
        if found:
            return [f"{base}/{n}".strip("/") for n in found], []
    named = _named(root, base)
    if named:
        return [f"{base}/{n}".strip("/") for n in named], []
    return _by_dates(root, base, info)


def _content_globs(root: Path, folders: list[str], default: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for folder in folders:
        if folder.endswith("/."):  # the top-level files (and bundles) of a folder, not its subfolders
            base = folder[:-2]
            for glob in _globs(root, base, default, deep=False):
                out.append(glob)
                ext = glob.rsplit("*", 1)[-1]
                out.append(f"{base}/*/index{ext}".lstrip("/"))
        else:
            out.extend(_globs(root, folder, default))
    return list(dict.fromkeys(out))


def _others(root: Path, base: str, taken: list[str]) -> list[str]:
    """The folders under `base` holding Markdown that were not taken (said in the file, so a person can add one)."""
    folder = root / base
    if not folder.is_dir():
        return []
    out = []
    for child in sorted(folder.iterdir()):
        rel = f"{base}/{child.name}".strip("/")
        if child.is_dir() and not child.name.startswith(".") and child.name not in _SKIP_DIRS \
                and not any(rel == t or rel.startswith(t + "/") or t.startswith(rel + "/") for t in taken) \
                and _post_files(child):
            out.append(rel)
    return out


# --- Hugo and Zola ------------------------------------------------------------------------------------------------


def _hugo_or_zola(root: Path) -> Plan | None:
    info = _probe(root)
    if info.ssg == "zola" or (info.ssg is None and _zola_file(root)):
        return _zola(root, info)
    if info.ssg != "hugo":
        return None
    name = next(n for n in _HUGO_FILES if (root / n).is_file())
    data = _lower(_data(root / name, info))
    folder = root / "config" / "_default"
    if folder.is_dir():  # Hugo's split config: config/_default/params.toml is the [params] table...
        for part in sorted(folder.iterdir()):
            stem = part.stem.lower()
            if part.suffix in (".toml", ".yaml", ".yml", ".json") and stem not in ("hugo", "config") \
                    and stem not in data:
                data[stem] = _read_config(part, info) or {}
    plan = Plan("hugo", "Hugo", name)
    url = data.get("baseurl")
    if isinstance(url, str) and url.strip().startswith(("http://", "https://")):
        plan.url, plan.url_from = url.strip().rstrip("/"), f"{name} baseURL"
    roots = _hugo_roots(root, data)
    params = _lower(data.get("params") or {}) if isinstance(data.get("params"), dict) else {}
    main = params.get("mainsections")
    preferred = [main] if isinstance(main, str) else [str(m) for m in main] if isinstance(main, list) else None
    if preferred:
        plan.notes.append(f"posts: the sections params.mainSections names ({', '.join(preferred)})")
    folders: list[str] = []
    for base in roots:
        got, left = _choose(root, base, info, preferred)
        folders += got
        plan.left_out += [f for f in left + _others(root, base, got) if f not in roots]
    plan.content = _content_globs(root, folders, (".md",))
    lang = data.get("defaultcontentlanguage") or data.get("languagecode")
    plan.language = str(lang).split("-")[0].lower() if isinstance(lang, str) and lang else None
    tz = data.get("timezone")
    plan.timezone = str(tz) if isinstance(tz, str) and tz else None
    static = data.get("staticdir")
    if isinstance(static, str) and static.strip("/") not in ("", "static"):
        plan.static = [static.strip("/")]
    if info.hugo_permalinks:
        plan.permalink_from = f"{name} [permalinks]: " + ", ".join(f"{k} = {v}" for k, v in info.hugo_permalinks.items())
    plan.notes.append("drafts: Hugo marks them in the front matter (draft: true); they are never sent")
    return plan


def _hugo_roots(root: Path, data: dict[str, Any]) -> list[str]:
    """The content folders: `contentDir`, each language's `contentDir`, module mounts onto `content`,
    and the language folders (en/, ja/...) under a content folder."""
    bases: list[str] = []
    langs = data.get("languages")
    shared = False  # a language without its own contentDir reads the site's
    if isinstance(langs, dict):
        for value in langs.values():
            cd = _lower(value).get("contentdir") if isinstance(value, dict) else None
            if isinstance(cd, str) and cd.strip("/"):
                bases.append(cd.strip("/"))
            else:
                shared = True
    module = data.get("module")
    mounts = _lower(module).get("mounts") if isinstance(module, dict) else None
    for mount in mounts if isinstance(mounts, list) else []:
        if isinstance(mount, dict) and str(mount.get("target", "")).strip("/") == "content":
            source = str(mount.get("source", "")).strip("/")
            if source and (root / source).is_dir():
                bases.append(source)
    if not bases or (shared and not mounts):
        bases.insert(0, str(data.get("contentdir") or "content").strip("/"))
    out: list[str] = []
    for base in dict.fromkeys(bases):
        folder = root / base
        codes = [p.name for p in folder.iterdir() if p.is_dir() and p.name.lower() in ISO_639_1] \
            if folder.is_dir() else []
        out.extend(f"{base}/{c}" for c in sorted(codes)) if len(codes) >= 2 and len(bases) == 1 else out.append(base)
    return out


def _zola_file(root: Path) -> str | None:
    for name in _ZOLA_FILES:
        path = root / name
        text = _text(path)
        if text is not None and re.search(r"^\s*base_url\s*=", text, re.MULTILINE):
            return name
    return None


def _zola(root: Path, info: SiteInfo) -> Plan:
    name = _zola_file(root) or "config.toml"
    data = _lower(_data(root / name, info))
    plan = Plan("zola", "Zola", name)
    url = data.get("base_url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        plan.url, plan.url_from = url.rstrip("/"), f"{name} base_url"
    lang = data.get("default_language")
    plan.language = str(lang).lower() if isinstance(lang, str) and lang else None
    content = root / "content"
    sorted_by_date = []  # Zola: a blog section's _index.md says sort_by = "date"
    for index in sorted(content.rglob("_index.md")) if content.is_dir() else []:
        head = _text(index) or ""
        if re.search(r"""^\s*sort_by\s*=\s*["']date["']""", head, re.MULTILINE):
            sorted_by_date.append(index.parent.relative_to(root).as_posix())
    if sorted_by_date == ["content"] or not sorted_by_date:
        folders, left = _choose(root, "content", info) if not sorted_by_date else _by_dates(root, "content", info)
    else:
        folders, left = [f for f in sorted_by_date if f != "content"], []
        plan.notes.append("posts: the sections whose _index.md sorts by date (sort_by = \"date\")")
    plan.left_out = left + _others(root, "content", folders)
    plan.content = _content_globs(root, folders, (".md",))
    plan.notes.append("list pages (_index.md) are never posts; drafts say draft = true in their front matter")
    return plan


# --- Jekyll -------------------------------------------------------------------------------------------------------


def _jekyll(root: Path) -> Plan | None:
    name = _first(root, ("_config.yml", "_config.yaml"))
    if name is None:
        return None
    info = _probe(root)
    data = _data(root / name, info)
    plan = Plan("jekyll", "Jekyll", name)
    url, base = data.get("url"), data.get("baseurl")
    if isinstance(url, str) and url.strip().startswith(("http://", "https://")):
        sub = str(base).strip().strip("/") if isinstance(base, str) else ""
        plan.url = url.strip().rstrip("/") + (f"/{sub}" if sub else "")
        plan.url_from = f"{name} url" + (" + baseurl" if sub else "")
    source = str(data.get("source") or ".").strip("/") or "."
    colls = str(data.get("collections_dir") or "").strip("/")
    excluded = [str(e).strip("/") for e in data.get("exclude") or [] if isinstance(e, str)]
    top = root / source / colls if colls else root / source
    found: list[str] = []
    posts_dirs: set[Path] = set()
    for path in _walk(top) if top.is_dir() else []:
        parts = path.relative_to(top).parts[:-1]
        if "_posts" in parts:  # the first _posts folder above it (_posts/2019/x.md: _posts)
            posts_dirs.add(top.joinpath(*parts[: parts.index("_posts") + 1]))
    for folder in sorted(posts_dirs):
        rel = folder.relative_to(root).as_posix()
        inside = folder.relative_to(root / source).as_posix()
        if not any(inside == e or inside.startswith(e + "/") for e in excluded) and rel not in found:
            found.append(rel)
    if not found:
        found.append(f"{source}/{colls}/_posts".replace("./", "").replace("//", "/").strip("/"))
    plan.content = _content_globs(root, found, (".md", ".markdown"))
    plan.notes.append("drafts: _drafts/ is never taken (Jekyll publishes it only with --drafts)")
    collections = data.get("collections")
    names = list(collections) if isinstance(collections, (dict, list)) else []
    names = [str(n) for n in names if str(n) != "posts"]
    if names:
        where = f"{colls}/" if colls else ""
        plan.notes.append("collections not taken (add their folder if one holds posts): "
                          + ", ".join(f"{where}_{n}/" for n in names))
    lang = data.get("lang") or data.get("locale")
    plan.language = str(lang).split("-")[0].split("_")[0].lower() if isinstance(lang, str) and lang else None
    tz = data.get("timezone")
    plan.timezone = str(tz) if isinstance(tz, str) and tz else None
    if info.jekyll_permalink:
        plan.permalink_from = f"{name} permalink: {info.jekyll_permalink}"
    return plan


# --- Astro --------------------------------------------------------------------------------------------------------


def _astro(root: Path) -> Plan | None:
    name = _first(root, _ASTRO)
    if name is None:
        return None
    plan = Plan("astro", "Astro", name)
    text = _text(root / name) or ""
    m = re.search(rf"\bsite\s*:\s*{_URL_LITERAL}", text)
    if m:
        plan.url, plan.url_from = m.group(1).rstrip("/"), f"{name} site"
    else:  # `site: SITE.website`, the value in src/config.ts or src/consts.ts (AstroPaper and others)
        ref = re.search(r"\bsite\s*:\s*[\w.]*?(\w+)\s*[,}\n]", text)
        if ref:
            files = tuple(f"src/{n}.{e}" for n in ("config", "consts", "constants", "site.config", "site")
                          for e in ("ts", "js", "mjs"))
            got = _js_value(root, files, (ref.group(1), "website", "site", "url", "siteUrl"))
            if got:
                plan.url, plan.url_from = got[0].rstrip("/"), got[1]
    astro = read_astro(root)
    info = _probe(root)
    colls = astro.collections
    served = {r.collection for r in astro.routes}
    names = [n for n in POST_FOLDERS if n in colls] or [n for n in colls if n in served]
    folders = [colls[n] for n in names if (root / colls[n]).is_dir()]
    if not folders:
        folders, left = _choose(root, "src/content", info) if (root / "src/content").is_dir() else ([], [])
        plan.left_out += left
    if not folders:  # Markdown pages: src/pages/blog/*.md
        named = _named(root, "src/pages")
        folders = [f"src/pages/{n}" for n in named]
    if not folders:
        folders = ["src/content/blog"]
    plan.content = []
    for folder in folders:
        globs = _content_globs(root, [folder], (".md", ".mdx"))
        if folder.startswith("src/content/") and folder.count("/") == 2 and not _glob_base(root, folder):
            # a collection without a glob() loader: Astro leaves out files and folders named _x (partials)
            globs = [g.replace("/**/*", "/[!_]*") for g in globs] + [g.replace("/**/*", "/[!_]*/**/[!_]*")
                                                                      for g in globs]
            plan.notes.append(f"{folder}: files and folders named _x are not entries (Astro's rule)")
        plan.content += globs
    plan.left_out += [colls[n] for n in colls if colls[n] not in folders and (root / colls[n]).is_dir()]
    routes = [r.file for r in astro.routes if r.collection in names]
    if routes:
        plan.permalink_from = f"the route {routes[0]}"
    return plan


def _glob_base(root: Path, folder: str) -> bool:
    """Whether a `glob()` loader names `folder` as its base (Astro 5's content layer)."""
    for name in ("src/content.config.ts", "src/content.config.js", "src/content.config.mjs",
                 "src/content/config.ts", "src/content/config.js", "src/content/config.mjs"):
        text = _text(root / name)
        if text and re.search(rf"""\bbase\s*:\s*['"`](?:\./)?{re.escape(folder)}/?['"`]""", text):
            return True
    return False


# --- Eleventy -----------------------------------------------------------------------------------------------------


def _eleventy(root: Path) -> Plan | None:
    name = _first(root, _ELEVENTY)
    if name is None:
        return None
    plan = Plan("eleventy", "Eleventy", name)
    text = _text(root / name) or ""
    m = _INPUT.search(text)
    source = m.group(1).strip().removeprefix("./").strip("/") if m else ""
    source = "" if source == "." else source
    dirs = {k: v.strip().removeprefix("./").strip("/") for k, v in _INCLUDES.findall(text)}
    data_dir = dirs.get("data", "_data")
    prefix = f"{source}/" if source else ""
    data_files = tuple(posixpath.normpath(f"{prefix}{data_dir}/{n}.{e}")
                       for n in ("metadata", "site", "siteData", "config") for e in ("json", "js", "cjs", "mjs"))
    got = _js_value(root, data_files, ("url", "siteUrl", "baseUrl", "base_url"))
    if got:
        plan.url, plan.url_from = got[0].rstrip("/"), got[1]
    base = root / source if source else root
    tagged = []
    for data in sorted(_walk(base)):
        if data.parent == base:
            continue
        folder = data.parent.name
        if data.name in (f"{folder}.json", f"{folder}.11tydata.json", f"{folder}.11tydata.js",
                         f"{folder}.11tydata.cjs", f"{folder}.11tydata.mjs"):
            tags = _TAGS.search(_text(data) or "")
            if tags and re.search(r"\b(posts?|blog|articles?)\b", tags.group(1)):
                tagged.append(data.parent.relative_to(root).as_posix())
    if tagged:
        folders = tagged
        plan.notes.append("posts: the folder(s) whose directory data file tags them as posts ("
                          + ", ".join(f"{f}/{Path(f).name}.11tydata.*" for f in tagged) + ")")
    else:
        folders, left = _choose(root, source or ".", _probe(root))
        folders = [f.removeprefix("./") for f in folders]
        plan.left_out += left
    plan.content = _content_globs(root, folders, (".md",))
    plan.left_out += [f for f in _others(root, source or ".", folders)
                      if Path(f).name not in (dirs.get("includes", "_includes"), dirs.get("layouts", ""), data_dir)]
    if len(folders) == 1:  # Eleventy serves a file at its path under the input folder
        under = Path(folders[0]).relative_to(source) if source else Path(folders[0])
        plan.permalink = f"/{under.as_posix()}/:filename/".replace("//", "/")
        plan.permalink_from = "Eleventy's default: the file's path under the input folder"
    return plan


# --- Gatsby -------------------------------------------------------------------------------------------------------


def _gatsby(root: Path) -> Plan | None:
    name = _first(root, _GATSBY)
    if name is None:
        return None
    plan = Plan("gatsby", "Gatsby", name)
    got = _js_value(root, (name,), ("siteUrl", "siteURL", "url"))
    if got:
        plan.url, plan.url_from = got[0].rstrip("/"), f"{name} siteMetadata.{got[1].split()[-1]}"
    gatsby = read_gatsby(root)
    sources = [s for s in gatsby.sources if (root / s).is_dir() and _post_files(root / s)
               and not s.startswith("src/pages")]
    named = [s for s in sources if any(n in Path(s).parts for n in POST_FOLDERS)]
    folders = named or sources
    if not folders:
        folders, left = _choose(root, "content", _probe(root)) if (root / "content").is_dir() else (["content/blog"], [])
        plan.left_out += left
    plan.left_out += [s for s in sources if s not in folders]
    plan.content = _content_globs(root, folders, (".md", ".mdx"))
    if gatsby.prefix or gatsby.sources:
        plan.permalink_from = "gatsby-node's createFilePath" + (f" under {gatsby.prefix}" if gatsby.prefix else "")
    return plan


# --- Next.js ------------------------------------------------------------------------------------------------------

_NEXT_FOLDERS = ("_posts", "posts", "content/posts", "content/blog", "data/blog", "data/posts", "src/content/posts",
                 "src/content/blog", "app/blog/posts", "src/app/blog/posts", "src/posts", "blog", "src/blog")
_NEXT_URL_FILES = ("data/siteMetadata.js", "data/siteMetadata.ts", "data/siteMetadata.mjs", "site.config.js",
                   "site.config.ts", "lib/constants.ts", "lib/constants.js", "src/config.ts", "src/config.js",
                   "config/site.ts", "config/site.js", "src/lib/constants.ts", "next-sitemap.config.js",
                   "app/sitemap.ts", "app/sitemap.js", ".env", ".env.production", "package.json")
_NEXT_ROUTE = re.compile(r"^(?:src/)?(app|pages)/(.*?)/?\[(?:\.\.\.)?(\w+)\](?:/page)?\.(?:tsx|jsx|ts|js|mdx)$")


def _next(root: Path) -> Plan | None:
    name = _first(root, _NEXT)
    if name is None:
        return None
    plan = Plan("next", "Next.js", name)
    got = _js_value(root, _NEXT_URL_FILES, ("siteUrl", "siteURL", "SITE_URL", "NEXT_PUBLIC_SITE_URL", "baseUrl",
                                           "BASE_URL", "homepage", "url"))
    if got:
        plan.url, plan.url_from = got[0].rstrip("/"), got[1]
    folders = [f for f in _NEXT_FOLDERS if (root / f).is_dir() and _post_files(root / f)]
    folders = [f for f in folders if not any(f.startswith(o + "/") for o in folders if o != f)]
    if not folders and (root / "content").is_dir():
        folders, left = _choose(root, "content", _probe(root))
        plan.left_out += left
    plan.content = _content_globs(root, folders or ["posts"], (".md", ".mdx"))
    trailing = bool(_TRAILING.search(_text(root / name) or ""))
    routes = []
    for kind in ("app", "pages", "src/app", "src/pages"):
        folder = root / kind
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            m = _NEXT_ROUTE.match(path.relative_to(root).as_posix())
            if m and m.group(3) in ("slug", "id", "post", "path"):
                prefix = "/".join(p for p in m.group(2).split("/") if p and not p.startswith("("))
                routes.append((prefix, path.relative_to(root).as_posix()))
    routes.sort(key=lambda r: (not any(n in r[0].split("/") for n in POST_FOLDERS), r[1]))
    if routes:
        prefix, file = routes[0]
        plan.permalink = "/" + (prefix + "/" if prefix else "") + ":slug" + ("/" if trailing else "")
        plan.permalink_from = f"the route {file}" + (" (trailingSlash: true)" if trailing else "")
    else:
        plan.notes.append("no dynamic route ([slug]) found under app/ or pages/: set permalink to your posts' URLs")
    plan.notes.append("drafts: front matter draft: true, published: false or status: draft are never sent")
    return plan


def json_list(items: list[str]) -> str:
    """A TOML array of strings (JSON's string escapes are TOML's)."""
    return "[" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"
