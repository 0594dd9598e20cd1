"""Which files are posts: the site's content globs, less list pages and build, hidden or vendored folders."""
from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from syndicate.config import Config, ConfigError, SiteConfig
from syndicate.content.permalinks import site_info

_BUILD_DIRS = frozenset({"_site", "public", "dist"})  # generated output, never sources


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
    if found and site_info(site).ssg == "hugo":
        leaf: dict[Path, bool] = {}
        found = {p for p in found if not bundle_resource(p, root, leaf)}
    return sorted(found)


LEAF_INDEX = (".md", ".markdown", ".mdx", ".html")  # the index file that makes a folder a Hugo leaf bundle


def bundle_resource(path: Path, root: Path, leaf: dict[Path, bool] | None = None) -> bool:
    """Hugo: a content file inside a leaf bundle (a folder with an `index.md`) that is not its index is one
    of the bundle's resources, not a page (https://gohugo.io/content-management/page-bundles/).
    `leaf` caches the answer per folder for one walk."""
    if path.name.split(".")[0] == "index" and path.name.endswith(LEAF_INDEX):
        return False
    leaf = {} if leaf is None else leaf
    folder = path.parent
    while folder != root and folder.is_relative_to(root):
        known = leaf.get(folder)
        if known is None:
            known = leaf[folder] = any((folder / f"index{ext}").is_file() for ext in LEAF_INDEX) or \
                any(folder.glob("index.*.md"))
        if known:
            return True
        folder = folder.parent
    return False


def in_content(path: Path, config: Config) -> bool:
    """Whether `discover` lists the file `path` (resolved), judged from its name (and, on Hugo, whether a
    folder above it is a leaf bundle): no walk of the site."""
    try:
        rel = path.resolve().relative_to(config.site.root).parts
    except ValueError:
        return False
    return path.is_file() and any(
        _glob_parts(rel, tuple(p for p in pattern.split("/") if p not in ("", "."))) and _listed(rel, pattern)
        for pattern in _patterns(config.site)) and not (
        site_info(config.site).ssg == "hugo" and bundle_resource(config.site.root.joinpath(*rel), config.site.root))


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
