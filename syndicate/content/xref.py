"""Links between posts, as each generator resolves them, to the linked post's published URL.

- Hugo `ref`/`relref` (https://gohugo.io/content-management/cross-references/): a logical path
  (extension and language optional), relative to the current page first, then from the content
  root; a bare name that is unique in the site; `index` and `_index` by their folder.
- Zola `@/path/to/post.md` (https://www.getzola.org/documentation/content/linking/): a file
  path under `content/`.
- Jekyll `{% post_url 2010-07-21-name %}` and `{% post_url /subdir/2010-07-21-name %}`
  (https://jekyllrb.com/docs/liquid/tags/#linking-to-posts): a post under `_posts/`; `{% link path %}`
  a file path from the site root.
- A plain link to a source file (`](other-post.md)`, `../2023-review/index.md#x`): a path from the
  post's own folder.

Every answer is the URL the loader computes for that file (`syndicate.content.siteindex`). A target that
is no published post gives `Target(None, why)`: the caller warns and drops the link.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from syndicate.content.siteindex import Entry, SiteIndex, index_for, logical, source_exts
from syndicate.content.source import Source

# Stands in the Markdown for the URL of a link whose post does not exist: the link pass removes
# the link and keeps its text (a private-use character, never in a URL).
DEAD = "\ue00b"


@dataclass(frozen=True)
class Target:
    """Where a link between posts goes: its URL, or why there is none."""

    url: str | None
    problem: str | None = None


def resolve(kind: str, post: Source, target: str) -> Target:
    """`kind`: "hugo" (ref/relref), "zola" (`@/`), "post_url", "link" (Jekyll) or "file" (a relative `.md` link)."""
    return _KINDS[kind](post, target)


def hugo_ref(post: Source, target: str) -> Target:
    """A Hugo `ref`/`relref` path from `post`."""
    path, frag = _split(target)
    if not path:  # a place in this post: on its page on the site, as an in-page link (`links.Resolver.url`)
        return Target(post.page + frag)
    index, here = _context(post)
    want = logical(path)
    base = posixpath.dirname(logical(index.content_rel(here) or here)) if here else ""
    tries = [want] if path.startswith("/") else list(dict.fromkeys([_join(base, want), want]))
    index.build()
    table = index.logical_table()
    for cand in tries:
        found = _pick(index, table.get(cand, []), post.lang) or _on_disk(index, cand)
        if found is not None:
            return _answer(index, found, frag, target)
    if "/" not in want:  # a bare name: unique in the whole site
        named = [r for key, rels in table.items() if key.rsplit("/", 1)[-1] == want for r in rels]
        pages = {logical(index.content_rel(r) or r) for r in named}
        if len(pages) == 1:
            found = _pick(index, named, post.lang)
            if found is not None:
                return _answer(index, found, frag, target)
        if len(pages) > 1:
            return Target(None, f"{target!r} names {len(pages)} posts ({', '.join(sorted(pages)[:3])})")
    return Target(None, f"no post {target!r} in the site")


def zola_ref(post: Source, target: str) -> Target:
    """A Zola `@/path.md` internal link (without the `@/`)."""
    path, frag = _split(target)
    index, _here = _context(post)
    entry = index.entry(posixpath.join(index.content_dir(), path.lstrip("/")))
    return _answer(index, entry, frag, "@/" + target)


def jekyll_post_url(post: Source, target: str) -> Target:
    """A Jekyll `post_url` name (`2010-07-21-name`, `/subdir/2010-07-21-name`)."""
    name, frag = _split(target.strip().strip("\"'"))
    name = name.strip("/")
    index, _here = _context(post)
    head, _, stem = name.rpartition("/")
    folders = [posixpath.join("_posts", head), posixpath.join(head, "_posts")] if head else ["_posts"]
    for folder in folders:
        for ext in source_exts():
            entry = index.entry(posixpath.join(folder, stem + ext))
            if entry is not None:
                return _answer(index, entry, frag, target)
    hits = [e for e in index.all() if "_posts/" in "/" + e.rel and _stem(e.rel) == stem]
    if len(hits) == 1:
        return _answer(index, hits[0], frag, target)
    if hits:
        return Target(None, f"{target!r} names {len(hits)} posts ({', '.join(e.rel for e in hits[:3])})")
    return Target(None, f"no post {target!r} under _posts/")


def jekyll_link(post: Source, target: str) -> Target:
    """A Jekyll `link` path, from the site root (`_posts/2016-07-26-name.md`)."""
    path, frag = _split(target.strip().strip("\"'"))
    index, _here = _context(post)
    return _answer(index, index.entry(path.lstrip("/")), frag, target)


def file_link(post: Source, target: str) -> Target:
    """A link to another post's source file, from the post's own folder (root-absolute: the site root, then
    the content folder)."""
    path, frag = _split(target)
    path = unquote(path.split("?", 1)[0])
    index, here = _context(post)
    if path.startswith("/"):
        entry = index.entry(path.lstrip("/")) or index.entry(posixpath.join(index.content_dir(), path.lstrip("/")))
    else:
        entry = index.entry(posixpath.join(posixpath.dirname(here), path))
    return _answer(index, entry, frag, target)


def _split(target: str) -> tuple[str, str]:
    path, _, frag = target.strip().strip("\"'").partition("#")
    return path.strip(), f"#{frag}" if frag else ""


def _context(post: Source) -> tuple[SiteIndex, str]:
    index = index_for(post.site)
    return index, index.rel(post.path) or ""


def _join(base: str, rel: str) -> str:
    joined = posixpath.normpath(posixpath.join(base, rel)) if base else posixpath.normpath(rel)
    return "" if joined == "." else joined.lstrip("/")


def _stem(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0]


def _pick(index: SiteIndex, rels: list[str], lang: str | None) -> Entry | None:
    """Of one logical page's files (its translations), the one in the linking post's language, else the default."""
    entries = [e for e in (index.entry(r) for r in sorted(rels)) if e is not None and e.url is not None]
    same = [e for e in entries if e.lang == lang]
    plain = [e for e in entries if e.lang is None]
    best = same or plain or entries
    return best[0] if best else None


def _on_disk(index: SiteIndex, cand: str) -> Entry | None:
    """A page the content globs leave out (an `about.md`, a section's `_index.md`), looked up by its files."""
    folder = index.content_dir()
    for stem in (cand, f"{cand}/index", f"{cand}/_index"):
        for ext in source_exts():
            entry = index.entry(posixpath.join(folder, stem + ext))
            if entry is not None:
                return entry
    return None


def _answer(index: SiteIndex, entry: Entry | None, frag: str, target: str) -> Target:
    if entry is None:
        return Target(None, f"no post {target!r} in the site")
    if entry.url is None:
        return Target(None, f"{entry.rel} is no post ({entry.error})")
    if not index.published(entry):
        return Target(None, f"{entry.rel} is no post (not under a content folder or [site] content)")
    if entry.draft:
        return Target(None, f"{entry.rel} is a draft: its URL does not exist yet")
    return Target(entry.url + frag)


_KINDS: dict[str, Callable[[Source, str], Target]] = {
    "hugo": hugo_ref, "zola": zola_ref, "post_url": jekyll_post_url, "link": jekyll_link, "file": file_link,
}
