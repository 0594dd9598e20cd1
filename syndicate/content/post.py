"""The `Post` model: one normalised shape for the posts of every SSG.

Loading and the SSG conventions live in `syndicate.content.loader`; this module holds
only the model, so that connectors and the Markdown pipeline can depend on it
without pulling the loader in.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from syndicate.config import SiteConfig
    from syndicate.content.markdown.document import Document


from syndicate.content.frontmatter import read_checked
from syndicate.content.source import Image
from syndicate.errors import PostError

__all__ = ["Control", "Image", "Post", "PostError", "Renderer"]


class Renderer(Protocol):
    """What turns a post's body into a `Document` (syndicate.content.markdown.RENDERER; the loader attaches it)."""

    def prepare(self, post: Post) -> Document: ...

    def to_text(self, markdown: str) -> str: ...


@dataclass
class Control:
    """Per-post syndication control from front matter (`syndicate:`)."""

    enabled: bool = True
    only: list[str] | None = None  # `syndicate: [devto]`
    skip: list[str] = field(default_factory=list)  # `syndicate: {skip: [...]}`
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # `syndicate: {mastodon: {text: ...}}`

    def allows(self, target: str, target_type: str | None = None) -> bool:
        if not self.enabled:
            return False
        names = {target, target_type} - {None}
        if self.only is not None and not names & set(self.only):
            return False
        return not names & set(self.skip)

    def override(self, target: str, target_type: str | None = None) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        if target_type and target_type in self.overrides:
            merged.update(self.overrides[target_type])
        merged.update(self.overrides.get(target, {}))
        return merged


KEPT = 32  # posts of a file whose body and `Document` stay in memory (the last ones read or rendered)


class _Kept:
    """The loaded posts that hold their body or `Document`, oldest first. Past `KEPT`, the oldest lets both go:
    a site's worth of bodies and documents would not fit the memory budget (issue 17: 10,000 posts in 200 MB),
    and a post whose body is gone reads it again from its file when it is needed (`Post.body`)."""

    lock = threading.Lock()
    posts: OrderedDict[int, Post] = OrderedDict()

    @classmethod
    def hold(cls, post: Post) -> None:
        with cls.lock:
            cls.posts[id(post)] = post
            cls.posts.move_to_end(id(post))
            while len(cls.posts) > KEPT:
                _, old = cls.posts.popitem(last=False)
                old.__dict__.pop("body", None)  # each is made again when it is needed
                old.memo.document = old.memo.excerpt = None


class Memo:
    """What a post makes when first needed (`document`, `excerpt`) and, for a post read from a file (the
    loader), where its body starts in the file's text and the check of the bytes read (length, CRC-32).
    One field for all of them: a few more keys would turn each post's small shared-key `__dict__` into a
    1.5 KB one (15 MB on 10,000 posts)."""

    __slots__ = ("source", "document", "excerpt")
    source: tuple[int, tuple[int, int]] | None
    document: Document | None
    excerpt: str | None

    def __init__(self) -> None:
        self.source = self.document = self.excerpt = None


@dataclass
class Post:
    id: str  # stable across renames: from the front matter or the canonical URL path
    path: Path  # the source file
    title: str
    slug: str
    url: str  # canonical URL on the author's site (or where the front matter's canonical URL points)
    body: str  # the Markdown (or MDX) after the front matter, untouched
    site: SiteConfig
    date: datetime | None = None  # timezone-aware
    updated: datetime | None = None
    publish_date: datetime | None = None  # when it goes live, where that is not `date` (Hugo `publishDate`)
    expires: datetime | None = None  # when it is withdrawn (Hugo `expiryDate`)
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    summary: str = ""  # from the front matter, else derived from the first paragraph
    cover: Image | None = None
    lang: str | None = None
    series: str | None = None
    authors: list[str] = field(default_factory=list)
    draft: bool = False
    hidden: str | None = None  # why the post must never go out (draft, unpublished, unlisted...); see visible_at
    control: Control = field(default_factory=Control)
    format: str = "markdown"  # "markdown" | "mdx"
    front_matter: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    renderer: Renderer | None = field(default=None, repr=False, compare=False)
    page_url: str = ""  # where the site serves the post, when the front matter points `url` at another page
    memo: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)  # a copy (`replace`) gets its own

    @property
    def page(self) -> str:
        """The post's page on the author's site: where its generator put the headings' ids."""
        return self.page_url or self.url

    @property
    def document(self) -> Document:
        """The body parsed and expanded once; every connector renders from it. A post read from a file
        joins the `KEPT` last ones, which let their documents go."""
        memo = self.memo
        document = memo.document  # a local: another thread may let the post's go at any time
        if document is None:
            document = memo.document = self._renderer().prepare(self)
            if memo.source is not None:
                _Kept.hold(self)
        return document

    if not TYPE_CHECKING:  # hidden from mypy, which would take any attribute for one
        def __getattr__(self, name: str) -> Any:
            memo = self.__dict__.get("memo")
            if name != "body" or memo is None or memo.source is None:
                raise AttributeError(name)
            body = self.reread(memo.source)
            self.__dict__["body"] = body
            _Kept.hold(self)
            return body

    def reread(self, source: tuple[int, tuple[int, int]]) -> str:
        """The body, read again from the file: the very text loaded, else a `PostError` (the file changed
        since; what was decided from its front matter would not match it any more)."""
        text, check = read_checked(self.path)
        if check != source[1]:
            raise PostError(f"{self.path}: changed on disk while this run was using it; left for the next run")
        return text[source[0]:]

    def kept(self) -> None:
        """A post read from a file (`memo.source` set) joins the `KEPT` last ones, which hold their bodies."""
        if self.memo.source is not None:
            _Kept.hold(self)

    @property
    def bundle_dir(self) -> Path:
        """Folder whose files resolve relative references (a page bundle's folder)."""
        return self.path.parent

    def _renderer(self) -> Renderer:
        if self.renderer is None:
            raise PostError(f"{self.path}: no Markdown renderer attached (posts come from syndicate.content.loader)")
        return self.renderer

    @property
    def excerpt(self) -> str:
        """The summary from the front matter, else the body's first paragraph: plain text either way.

        Front-matter descriptions often carry Markdown (`**bold**`, links); a
        status or an article description must not show the markup.
        """
        memo = self.memo
        excerpt = memo.excerpt
        if excerpt is None:
            excerpt = memo.excerpt = self._make_excerpt()
        return excerpt

    def _make_excerpt(self) -> str:
        if not self.summary:
            return self.document.first_paragraph
        if not any(c in self.summary for c in "*_`[<&\\~"):
            return " ".join(self.summary.split())
        return " ".join(self._renderer().to_text(self.summary).split())

    @property
    def due_at(self) -> datetime | None:
        """When the post goes live: its publish date (Hugo `publishDate`), else its date."""
        return self.publish_date or self.date

    def due(self, now: datetime) -> bool:
        """Whether the post is live by `now` (`due_at` has come)."""
        when = self.due_at
        return when is None or when <= now

    def visible_at(self, now: datetime) -> str | None:
        """Why the post must not go out at `now` (`hidden`, or "expired on …"); None when it may.

        Not yet due is not a reason here: `due(now)` says when to come back.
        """
        if self.hidden:
            return self.hidden
        if self.expires is not None and self.expires < now:  # Hugo: expired once expiryDate is past
            return f"expired on {self.expires.date().isoformat()}"
        return None
