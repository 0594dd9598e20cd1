"""`syndicate init`: which generator builds the site, where its posts are, and its public URL.

Each generator is recognised by its own config file and read by its own rules:
Hugo (`hugo.*`, `config.*`, `config/_default/`: `baseURL`, `contentDir`, per-language
`contentDir`, module mounts, `params.mainSections`), Jekyll (`_config.yml`: `url` +
`baseurl`, `source`, `collections_dir`, every `_posts` folder; `_drafts` never),
Zola (`config.toml` / `zola.toml` with `base_url`; a section is a folder with
`_index.md`, a blog section sorts by date), Astro (`astro.config.*` `site`; the
content collections of `syndicate.content.routes`), Eleventy (`dir.input`; the folder whose
directory data file tags its posts), Gatsby (`siteMetadata.siteUrl`; the
`gatsby-source-filesystem` folders) and Next.js (`next.config.*`; the folder of
Markdown/MDX posts and the dynamic route that serves them); the last four in `syndicate.cli.init.ssgjs`.

Where the config names no posts folder, the folders whose files carry a date
(front matter, file name or Zola `path`, as the loader reads them) are the posts;
undated files (pages, partials) are left out. JavaScript is read with patterns,
never run.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syndicate.config import ConfigError, SiteConfig
from syndicate.content.permalinks import _HUGO_FILES, ISO_639_1, SiteInfo, _build, _read_config

# Folder names blogs give their posts, most telling first.
POST_FOLDERS = ("posts", "post", "blog", "articles", "article", "writing", "writings", "essays", "journal",
                "entries", "news", "notes", "updates", "stories")
_STRONG = 8  # the first names of POST_FOLDERS: chosen outright; the rest only when nothing stronger exists
POST_EXT = (".md", ".markdown", ".mdx")
SKIP_DIRS = frozenset({"node_modules", "_site", "public", "dist", "build", "out", "vendor", ".next", ".cache",
                        "drafts", "_drafts", "_includes", "_layouts", "_data", "layouts", "partials", "includes",
                        "templates", "themes"})
ZOLA_FILES = ("zola.toml", "config.toml")
USUAL = {"hugo": "content/posts", "zola": "content/blog", "jekyll": "_posts", "astro": "src/content/blog",
          "eleventy": "posts", "gatsby": "content/blog", "next": "posts"}
_SAMPLE = 40  # files read per folder to judge whether it holds posts
_DATED = 0.75  # share of dated files that makes a folder a posts folder
_PROBE_URL = "https://example.invalid"
_LOCAL = re.compile(r"^https?://(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\])([:/]|$)", re.IGNORECASE)
URL_LITERAL = r"""['"`](https?://[^'"`\s]+)['"`]"""


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


# --- reading files ----------------------------------------------------------------------------------------------


def read_small(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > 1024 * 1024:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _data(path: Path, info: SiteInfo) -> dict[str, Any]:
    data = _read_config(path, info)
    if data is None and info.warnings:
        problem = info.warnings[-1].removesuffix("; using default URLs")
        raise ConfigError(f"{problem}: fix it, or run init where a readable generator config is")
    return data or {}


def _lower(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in data.items()}


def probe(root: Path, content: list[str] | None = None) -> SiteInfo:
    """The loader's own reading of the generator config (`syndicate.content.permalinks`), for an unsaved config."""
    return _build(SiteConfig(url=_PROBE_URL, root=root, content=content or []))


def first_file(root: Path, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if (root / n).is_file()), None)


def js_value(root: Path, files: tuple[str, ...], keys: tuple[str, ...]) -> tuple[str, str] | None:
    """(URL, "file key") of the first `key: "https://..."` (or `KEY=https://...`) in `files`."""
    for name in files:
        text = read_small(root / name)
        if text is None:
            continue
        for key in keys:
            hits = [*re.finditer(rf"""\b{key}["']?\s*[:=]\s*{URL_LITERAL}""", text),
                    *re.finditer(rf"""^\s*{key}\s*=\s*["']?(https?://[^"'\s]+)""", text, re.MULTILINE)]
            for m in hits:
                if not _LOCAL.match(m.group(1)):  # a development server is not the site
                    return m.group(1), f"{name} {key}"
    return None


# --- choosing the posts folders -----------------------------------------------------------------------------------


def walk(folder: Path) -> list[Path]:
    """Every file under `folder`; hidden, dependency, build, layout and drafts folders are not entered."""
    out: list[Path] = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        out.extend(Path(here) / f for f in files)
    return out


def post_files(folder: Path) -> list[Path]:
    """The Markdown files under `folder`, list pages and skipped folders left out."""
    if not folder.is_dir():
        return []
    return sorted(p for p in walk(folder) if p.suffix.lower() in POST_EXT and not p.name.startswith("_index."))


def _exts(folder: Path, default: tuple[str, ...]) -> tuple[str, ...]:
    found = {p.suffix.lower() for p in post_files(folder)} | set(default)
    return tuple(e for e in POST_EXT if e in found)


def _globs(root: Path, folder: str, default: tuple[str, ...], *, deep: bool = True) -> list[str]:
    """One glob per extension: the generator's own, and any other Markdown extension the folder uses."""
    base = folder.strip("/")
    prefix = f"{base}/" if base and base != "." else ""
    return [f"{prefix}{'**/' if deep else ''}*{ext}" for ext in _exts(root / base, default)]


def _dated(files: list[Path], info: SiteInfo) -> float:
    """The share of `files` (a sample) that the loader finds a date for: posts have one, pages rarely."""
    from syndicate.content.loader import load_post
    from syndicate.content.post import PostError

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


def named_folders(root: Path, base: str, strong_only: bool = False) -> list[str]:
    """The folders under `base` named like posts folders and holding Markdown: the strong names, else the rest."""
    here = [n for n in POST_FOLDERS if (root / base / n).is_dir() and post_files(root / base / n)]
    strong = [n for n in here if n in POST_FOLDERS[:_STRONG]]
    return strong or ([] if strong_only else here)


def _by_dates(root: Path, base: str, info: SiteInfo) -> tuple[list[str], list[str]]:
    """(folders, left out) under `base` whose files mostly carry a date; `base` itself when all of it does.

    A folder's files are judged together; files at the top (and page bundles there) form one group.
    """
    folder = root / base
    groups: dict[str, list[Path]] = {}
    for path in post_files(folder):
        parts = path.relative_to(folder).parts
        top = len(parts) == 1 or (len(parts) == 2 and Path(parts[1]).stem.split(".")[0] == "index")
        groups.setdefault("" if top else parts[0], []).append(path)
    taken = {g for g, files in groups.items() if _dated(files, info) >= _DATED}
    left = sorted(g for g in groups if g not in taken)
    if taken and not left:
        return [base], []
    return [f"{base}/{g}".strip("/") if g else f"{base}/." for g in sorted(taken)], \
        [f"{base}/{g}".strip("/") if g else f"{base} (its top-level pages)" for g in left]


def choose(root: Path, base: str, info: SiteInfo, preferred: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The posts folders under `base` (relative to root): `preferred` names, post-like names, else by dates."""
    if preferred:
        found = [n for n in preferred if (root / base / n).is_dir()]
        if found:
            return [f"{base}/{n}".strip("/") for n in found], []
    named = named_folders(root, base)
    if named:
        return [f"{base}/{n}".strip("/") for n in named], []
    folder = root / base
    children = sorted(c.name for c in folder.iterdir() if c.is_dir() and not c.name.startswith(".")
                      and c.name not in SKIP_DIRS) if folder.is_dir() else []
    deeper = [f"{base}/{c}/{n}".strip("/") for c in children for n in named_folders(root, f"{base}/{c}", True)]
    if deeper:  # one level down: content/en/blog, src/content/writing/posts
        return deeper, []
    return _by_dates(root, base, info)


def content_globs(root: Path, folders: list[str], default: tuple[str, ...]) -> list[str]:
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


def other_folders(root: Path, base: str, taken: list[str]) -> list[str]:
    """The folders under `base` holding Markdown that were not taken (said in the file, so a person can add one)."""
    folder = root / base
    if not folder.is_dir():
        return []
    out = []
    for child in sorted(folder.iterdir()):
        rel = f"{base}/{child.name}".strip("/")
        if child.is_dir() and not child.name.startswith(".") and child.name not in SKIP_DIRS \
                and not any(rel == t or rel.startswith(t + "/") or t.startswith(rel + "/") for t in taken) \
                and post_files(child):
            out.append(rel)
    return out


# --- Hugo and Zola ------------------------------------------------------------------------------------------------


def hugo_or_zola(root: Path) -> Plan | None:
    info = probe(root)
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
        got, left = choose(root, base, info, preferred)
        folders += got
        plan.left_out += [f for f in left + other_folders(root, base, got) if f not in roots]
    plan.content = content_globs(root, folders, (".md",))
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
    for name in ZOLA_FILES:
        path = root / name
        text = read_small(path)
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
        head = read_small(index) or ""
        if re.search(r"""^\s*sort_by\s*=\s*["']date["']""", head, re.MULTILINE):
            sorted_by_date.append(index.parent.relative_to(root).as_posix())
    if sorted_by_date == ["content"] or not sorted_by_date:
        folders, left = choose(root, "content", info) if not sorted_by_date else _by_dates(root, "content", info)
    else:
        folders, left = [f for f in sorted_by_date if f != "content"], []
        plan.notes.append("posts: the sections whose _index.md sorts by date (sort_by = \"date\")")
    plan.left_out = left + other_folders(root, "content", folders)
    plan.content = content_globs(root, folders, (".md",))
    plan.notes.append("list pages (_index.md) are never posts; drafts say draft = true in their front matter")
    return plan


# --- Jekyll -------------------------------------------------------------------------------------------------------


def jekyll(root: Path) -> Plan | None:
    name = first_file(root, ("_config.yml", "_config.yaml"))
    if name is None:
        return None
    info = probe(root)
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
    for path in walk(top) if top.is_dir() else []:
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
    plan.content = content_globs(root, found, (".md", ".markdown"))
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
