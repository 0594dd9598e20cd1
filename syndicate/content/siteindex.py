"""Every post of a site by its source file: URL and id, for links between posts and for shared URLs.

An entry is what the loader computes for the file (`load_post(..., light=True)`:
front matter only, the very function that gives a post its URL), kept with the
file's stat: a lookup checks one `stat` and reads the file again only when it
changed. The whole site is listed only when a lookup needs it (a Hugo `ref` by
logical path or bare name, a duplicate check), once per site and process;
`reset_cache()` (permalinks) forgets it with the rest of the site's facts.

The loader registers its functions with `use()`, so that the Markdown pipeline
can ask for a post's URL without importing the loader. `unique` keeps two posts
with one URL or id from ever being sent (the loader, the CLI and the reconcile
scan call it).
"""
from __future__ import annotations

import os
import posixpath
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from syndicate.config import SiteConfig
from syndicate.content.permalinks import SiteInfo, lang_code, site_info
from syndicate.content.source import Source
from syndicate.errors import PostError, SyndicateError

Locate = Callable[[Path, SiteConfig], Source]
S = TypeVar("S", bound=Source)
Discover = Callable[[SiteConfig], list[Path]]


class _Hooks:
    locate: Locate | None = None
    discover: Discover | None = None


_SOURCE_EXT = (".md", ".markdown", ".mdx", ".mdown", ".mkd", ".html", ".htm")
_EXT = re.compile(r"\.(?:md|markdown|mdx|mdown|mkd|html|htm)$", re.I)


def use(locate: Locate, discover: Discover) -> None:
    """The loader's front-matter-only `load_post` and its `discover`, registered at its import."""
    _Hooks.locate, _Hooks.discover = locate, discover


@dataclass
class Entry:
    """One source file as the site publishes it (url None: it is no post, `error` says why)."""

    rel: str
    stamp: tuple[int, int, int]
    url: str | None = None
    id: str | None = None
    draft: bool = False
    lang: str | None = None
    error: str | None = None
    listed: bool = False  # matched by the content globs


@dataclass
class SiteIndex:
    """The posts of one site, by source path; built lazily, checked by stat."""

    site: SiteConfig
    info: SiteInfo
    entries: dict[str, Entry] = field(default_factory=dict)
    complete: bool = False
    built_at: float = 0.0  # when the content folders were last listed (`clock`)
    _by_key: dict[str, set[str]] = field(default_factory=dict)  # URL key and id -> source paths
    _version: int = 0
    _table: tuple[int, dict[str, list[str]]] = (-1, {})
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # a worker's threads share it

    # --- entries ------------------------------------------------------------------------------
    def entry(self, rel: str, *, listed: bool = False) -> Entry | None:
        """The entry for a source path (relative to the site root), read afresh if the file changed."""
        with self.lock:
            return self._entry(rel, listed)

    def _entry(self, rel: str, listed: bool) -> Entry | None:
        rel = posixpath.normpath(rel).lstrip("/")
        if rel.startswith("..") or rel in ("", "."):
            return None
        full = os.path.join(self.info.root, rel)
        try:
            st = os.stat(full)
        except OSError:
            self._drop(rel)
            return None
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        old = self.entries.get(rel)
        if old is not None and old.stamp == stamp:
            old.listed = old.listed or listed
            return old
        if not stat.S_ISREG(st.st_mode):
            return None
        locate = _Hooks.locate  # it refuses a file that resolves outside the site root
        if locate is None:
            return None
        try:
            post = locate(Path(full), self.site)
        except (SyndicateError, OSError, UnicodeDecodeError, ValueError) as exc:
            entry = Entry(rel, stamp, error=str(exc))
        else:
            entry = Entry(rel, stamp, url=post.url, id=post.id, draft=post.draft, lang=post.lang)
        entry.listed = listed or (old.listed if old else False)
        self._put(entry)
        return entry

    def rel(self, path: Path) -> str | None:
        """A file's path relative to the site root, with `/` (None outside it); no syscall when it is plainly inside."""
        full, root = str(path), str(self.info.root) + os.sep
        if full.startswith(root):
            return posixpath.normpath(full[len(root):].replace(os.sep, "/"))
        try:  # the root reached through a symlink
            return path.resolve().relative_to(self.info.root).as_posix()
        except (OSError, ValueError):
            return None

    def note(self, post: Source) -> None:
        """Record a post loaded elsewhere (a push, a scan), so that building the index skips its file."""
        rel = self.rel(post.path)
        try:
            st = post.path.stat()
        except OSError:
            return
        if rel is None:
            return
        with self.lock:
            self._put(Entry(rel, (st.st_size, st.st_mtime_ns, st.st_ino), url=post.url, id=post.id, draft=post.draft,
                            lang=post.lang, listed=True))

    def build(self) -> None:
        """Read every post the content globs find (front matter only; known, unchanged files cost a stat)."""
        with self.lock:
            if self.complete:
                return
            discover = _Hooks.discover
            if discover is None:
                return
            paths: Iterable[Path] = discover(self.site)
            seen = set()
            for path in paths:
                rel = self.rel(path)
                if rel is None:
                    continue
                seen.add(rel)
                self.entry(rel, listed=True)
            for rel in [r for r, e in self.entries.items() if e.listed and r not in seen]:
                self._drop(rel)
            self.complete, self.built_at = True, clock()

    def expire(self, max_age: float) -> None:
        """List the content folders again on next use if they were listed more than `max_age` seconds ago
        (a long-running process learns of new files; known, unchanged ones still cost only a stat)."""
        with self.lock:
            if self.complete and clock() - self.built_at >= max_age:
                self.complete = False

    def logical_table(self) -> dict[str, list[str]]:
        """Hugo logical path -> the source files (translations) of that page."""
        with self.lock:
            if self._table[0] != self._version:
                table: dict[str, list[str]] = {}
                for rel, entry in self.entries.items():
                    if entry.url is not None:
                        table.setdefault(logical(self.content_rel(rel) or rel), []).append(rel)
                self._table = (self._version, table)
            return self._table[1]

    def _put(self, entry: Entry) -> None:
        self._drop(entry.rel)
        self._version += 1
        self.entries[entry.rel] = entry
        for key in _keys(entry):
            self._by_key.setdefault(key, set()).add(entry.rel)

    def _drop(self, rel: str) -> None:
        old = self.entries.pop(rel, None)
        if old is not None:
            self._version += 1
            for key in _keys(old):
                self._by_key.get(key, set()).discard(rel)

    # --- questions ----------------------------------------------------------------------------
    def sharing(self, post: Source) -> list[Entry]:
        """Other source files whose post has this post's URL or id (each checked against the disk)."""
        with self.lock:
            self.build()
            rel = self.rel(post.path) or ""
            keys = {url_key(post.url), "id:" + post.id}
            out = []
            for other in sorted({r for k in keys for r in self._by_key.get(k, ())} - {rel}):
                entry = self.entry(other)
                if entry is not None and entry.url is not None and keys & set(_keys(entry)):
                    out.append(entry)
            return out

    def all(self) -> list[Entry]:
        """Every listed post (the whole site is read on first use)."""
        with self.lock:
            self.build()
            return [e for e in self.entries.values() if e.listed]

    def content_rel(self, rel: str) -> str | None:
        """`rel` without its content folder (`content/posts/a.md` -> `posts/a.md`, `content/ja/posts/a.md` too),
        None outside every one."""
        for folder in self.info.content_dirs:
            if rel.startswith(folder.rstrip("/") + "/"):
                inner = rel[len(folder.rstrip("/")) + 1:]
                head, _, rest = inner.partition("/")
                # a language's own content folder (`content/ja/...`, Hugo's per-language contentDir) is no section
                return rest if rest and head.lower() in self.info.languages else inner
        return None

    def content_dir(self) -> str:
        """The first content folder that exists (Hugo's `contentDir`, else `content`...)."""
        for folder in self.info.content_dirs:
            if os.path.isdir(os.path.join(self.info.root, folder)):
                return folder
        return self.info.content_dirs[0]

    def published(self, entry: Entry) -> bool:
        """Whether the generator publishes this file as a page: a post, or a page under a content folder."""
        if entry.url is None:
            return False
        if entry.listed or self.info.ssg == "jekyll" or self.content_rel(entry.rel) is not None:
            return True
        with self.lock:
            self.build()  # outside the usual content folders: a post only if the content globs list it
            known = self.entries.get(entry.rel)
            return known is not None and known.listed


def unique(posts: list[S], site: SiteConfig, *, max_age: float | None = None) -> tuple[list[S], list[tuple[Path, PostError]]]:
    """`posts` without those that share a canonical URL or an id with another post of the site.

    Both posts of a pair are stopped (never sent), each with an error naming both files; the
    other post is looked for among `posts` and in the whole site (`syndicate.content.siteindex`),
    listed again first if that was more than `max_age` seconds ago (a long-running process's check).
    """
    index = index_for(site)
    if max_age is not None:
        index.expire(max_age)
    for post in posts:
        index.note(post)
    by_key: dict[str, list[S]] = {}
    for post in posts:
        for key in dict.fromkeys((url_key(post.url), "id:" + post.id)):
            by_key.setdefault(key, []).append(post)
    clash: dict[int, dict[str, str]] = {}  # id(post) -> {other file: what they share}
    for key, group in by_key.items():
        for post in group:
            for other in group:
                if other.path != post.path:
                    clash.setdefault(id(post), {}).setdefault(str(other.path), _shared(key, post))
    for post in posts:
        for entry in index.sharing(post):
            key = url_key(post.url) if entry.url and url_key(entry.url) == url_key(post.url) else "id:"
            clash.setdefault(id(post), {}).setdefault(str(index.info.root / entry.rel), _shared(key, post))
    errors = [(p.path, PostError(f"{p.path}: {'; '.join(f'{what} as {o}' for o, what in sorted(clash[id(p)].items()))}"
                                 ": neither is sent (give one its own slug, url or id)")) for p in posts if id(p) in clash]
    return [p for p in posts if id(p) not in clash], errors


def _shared(key: str, post: Source) -> str:
    return f"same id {post.id}" if key.startswith("id:") else f"same URL {post.url}"


def url_key(url: str) -> str:
    """Two URLs that serve one page have one key: path only, case, `/`, `index.html` and `.html` aside."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path).lower()
    for suffix in ("/index.html", ".html", "/"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return "url:/" + path.lstrip("/")


def _keys(entry: Entry) -> list[str]:
    if entry.url is None:
        return []
    return [url_key(entry.url)] + (["id:" + entry.id] if entry.id else [])


def logical(rel: str) -> str:
    """Hugo's logical path of a content-relative file: extension and language off, lower case, `-` for spaces,
    a bundle's `index` (and a section's `_index`) folded into its folder (https://gohugo.io/methods/page/path/)."""
    path = _EXT.sub("", rel.strip().strip("/"))
    head, _, name = path.rpartition("/")
    base, dot, suffix = name.rpartition(".")
    if dot and base and lang_code(suffix):
        name = base
    if name in ("index", "_index"):
        path = head
    else:
        path = f"{head}/{name}" if head else name
    return path.lower().replace(" ", "-").strip("/")


clock: Callable[[], float] = time.monotonic  # tests move it


def index_for(site: SiteConfig) -> SiteIndex:
    """The site's index, kept with its `SiteInfo` (one per site and process)."""
    info = site_info(site)
    index = info.cache.get("index")
    if not isinstance(index, SiteIndex):
        index = info.cache["index"] = SiteIndex(site, info)
    return index


def source_exts() -> tuple[str, ...]:
    return _SOURCE_EXT
