"""One way to find a post's image on disk, whoever asks: the loader, the Markdown pass, the media pipeline.

A cover named in the front matter, an image in the body and a file the media
pipeline reads all go through `SiteFiles.find`, so the same `src` gives the
same file wherever it is written. A relative path is looked up beside the post
(a page bundle), then in the static folders; a root-absolute path or a URL on
the site's own host in the static folders. The static folders are `[site]
static`, then the ones the site's generator serves at the site root
(`DEFAULT_STATIC`), then the site root itself (Jekyll serves it). Nothing
outside the site root is returned: `..` is refused lexically, symlinks after
resolving them.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

# Folders each generator copies to the site root, in lookup order:
# Hugo https://gohugo.io/getting-started/directory-structure/ (static/; assets/ through Hugo Pipes),
# Jekyll https://jekyllrb.com/docs/static-files/ (the root), Zola https://www.getzola.org/documentation/getting-started/directory-structure/,
# Astro https://docs.astro.build/en/basics/project-structure/#public, Gatsby https://www.gatsbyjs.com/docs/how-to/images-and-media/static-folder/,
# Eleventy has no fixed one (passthrough copy); `public/` is the common choice.
DEFAULT_STATIC: dict[str | None, tuple[str, ...]] = {
    "hugo": ("static", "assets"),
    "jekyll": (".",),
    "zola": ("static",),
    "astro": ("public",),
    "eleventy": ("public", "."),
    "gatsby": ("static",),
    None: ("static", "assets", "public", "."),
}

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class Found(NamedTuple):
    """The outcome of one lookup: the file, or why not."""

    path: Path | None
    problem: str | None = None  # names the image; None when found
    refused: bool = False  # the reference leaves the site root, or is no site path at all


def served_path(url: str, site_url: str) -> str | None:
    """The path under the site (its base path removed) a URL on the site's own host serves; None otherwise."""
    site = site_url.rstrip("/")
    if not url.startswith(site + "/"):
        return None
    path = unquote(urlsplit(url).path)
    base = urlsplit(site).path.rstrip("/")
    if base and path.startswith(base + "/"):
        path = path[len(base):]
    return path.lstrip("/")


def static_folders(root: Path, ssg: str | None, configured: Iterable[str | Path] = ()) -> list[Path]:
    """`configured`, then the generator's defaults: the ones that exist, resolved, inside `root`."""
    real_root = Path(os.path.realpath(root))
    out: list[Path] = []
    for name in (*configured, *DEFAULT_STATIC.get(ssg, DEFAULT_STATIC[None])):
        folder = Path(os.path.realpath(real_root / name))
        if folder.is_dir() and folder.is_relative_to(real_root) and folder not in out:
            out.append(folder)
    return out


class SiteFiles:
    """Finds the local file an image reference names, confined to the site root."""

    __slots__ = ("_bases", "_dirs", "root", "static_dirs")

    def __init__(self, root: Path | str, static_dirs: Iterable[Path | str] = ()) -> None:
        self.root = os.path.realpath(root)
        self.static_dirs: list[Path] = []  # as given, resolved, those inside the root
        for folder in static_dirs:
            real = os.path.realpath(os.path.join(self.root, folder))
            if self.inside(real) and Path(real) not in self.static_dirs:
                self.static_dirs.append(Path(real))
        bases = [str(d) for d in self.static_dirs]
        self._bases = tuple(bases if self.root in bases else [*bases, self.root])
        self._dirs: dict[str, str] = {}

    def inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root + os.sep)

    def find(self, src: str, post_dir: Path | str | None = None, served: str | None = None) -> Found:
        """The file `src` (as the post writes it) names; `served` is its path under the site when it is a URL there."""
        raw = src
        if not src or "\x00" in src:
            return Found(None, f"image {raw!r}: empty or invalid path")
        unc = src.startswith("\\\\")
        clean = unquote(src.split("#", 1)[0].split("?", 1)[0])
        if unc or _SCHEME.match(clean) or _WINDOWS_DRIVE.match(clean):
            if served is None:
                return Found(None, f"image {raw!r}: not a path inside the site", True)
            rel, bases = served, self._bases
        else:
            clean = clean.replace("\\", "/")
            if not clean:
                return Found(None, f"image {raw!r}: empty or invalid path")
            if clean.startswith("/"):
                rel, bases = (served if served is not None else clean.lstrip("/")), self._bases
            else:
                here = self._here(post_dir)
                if here is None:
                    return Found(None, f"image {raw!r}: the post's folder is outside the site root", True)
                rel, bases = clean, (here, *self._bases)
        for base in bases:
            lexical = os.path.normpath(os.path.join(base, rel))
            if not self.inside(lexical):
                return Found(None, f"image {raw!r}: path escapes the site root", True)
            if not os.path.lexists(lexical):  # one stat; realpath only for what exists
                continue
            real = os.path.realpath(lexical)
            if not self.inside(real):
                return Found(None, f"image {raw!r}: a symlink points outside the site root", True)
            if not os.path.isfile(real):
                return Found(None, f"image {raw!r}: not a regular file")
            return Found(Path(real))
        return Found(None, f"image {raw!r}: no such file in the post's folder or the static folders")

    def _here(self, post_dir: Path | str | None) -> str | None:
        if post_dir is None:
            return self.root
        key = str(post_dir)
        here = self._dirs.get(key)
        if here is None:
            here = self._dirs[key] = os.path.realpath(key)
        return here if self.inside(here) else None
