"""Which files are posts: the site's content globs, less list pages and build, hidden or vendored folders."""
from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from syndicate.config import Config, ConfigError, SiteConfig

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
