"""The posts, media and clocks the contract suite runs with (re-exported by `syndicate.testing`)."""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.config import SiteConfig
from syndicate.content.markdown import RENDERER
from syndicate.content.markdown.document import Document, Embed
from syndicate.content.post import Image, Post
from syndicate.contract import FittedMedia, MediaItem, MediaPolicy

if TYPE_CHECKING:
    from syndicate.engine.runner import Syndicator

SITE = SiteConfig(url="https://blog.example", root=Path("/tmp/site"))


def make_post(n: int = 1, **changes: Any) -> Post:
    """A plain post; `document` (segments) may be given to bypass the Markdown pipeline."""
    document = changes.pop("document", None)
    values: dict[str, Any] = dict(
        id=f"post-{n}", path=Path(f"/tmp/site/content/post-{n}.md"), title=f"Post number {n}", slug=f"post-{n}",
        url=f"https://blog.example/posts/post-{n}/", body=f"Body of post {n}.\n\nSecond paragraph.\n", site=SITE,
        summary=f"Summary of post {n}.", tags=["python", "testing"], renderer=RENDERER,
    )
    values.update(changes)
    post = Post(**values)
    if document is not None:
        post.memo.document = Document(segments=list(document))
    return post


def nasty_posts() -> list[Post]:
    """Posts that break naive connectors: long, tag-heavy, CJK, emoji, RTL, Liquid, long URLs, embeds."""
    return [
        make_post(10, title="A very long title " * 20, summary="word " * 400),
        make_post(11, tags=[f"Tag number {i}" for i in range(25)] + ["C++", "C#", ".NET", "!!!", "123", "Ünïcödé"],
                  categories=["Machine Learning", "machine-learning"]),
        make_post(12, title="日本語のタイトルはスペースがありません" * 8, summary="中文摘要没有空格" * 80, tags=["日本語", "中文"],
                  lang="ja"),
        make_post(13, title="Emoji \U0001F468\u200d\U0001F469\u200d\U0001F467 " * 20, summary="\U0001F44D\U0001F3FD " * 300,
                  tags=["\U0001F600", "emoji"]),
        make_post(14, title="مرحبا بالعالم " * 15, summary="שלום עולם " * 80, tags=["עברית", "عربي"], lang="ar"),
        make_post(15, title="Liquid {{ page.title }} {% include x %}",
                  body="Text {{ var }} and {% tag %}\n\n```\n{{ code }}\n```\n",
                  summary="Uses {{ braces }} and e\u0301\u0301\u0301 marks " * 30),
        make_post(16, url="https://blog.example/" + "very-long-path/" * 30, title="Long URL"),
        make_post(17, cover=Image(src="cover.png", url="https://blog.example/cover.png", alt="A cover"),
                  document=["Intro\n\n", Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
                            "\n\nEnd {{ x }}\n"]),
    ]


class StaticMedia:
    """A stand-in for the media pipeline (tested on its own): every image URL answers, every image is a
    small PNG. Connector cases then test what the connector does with media, not the network."""

    rehost_store = None

    def __init__(self) -> None:
        self.fitted_items: list[MediaItem] = []

    def probe(self, url: str) -> None:
        return None

    def fitted(self, item: MediaItem, policy: MediaPolicy) -> FittedMedia:
        import io

        from PIL import Image as PILImage

        self.fitted_items.append(item)
        out = io.BytesIO()
        PILImage.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
        return FittedMedia(out.getvalue(), "image/png", 8, 8, "image.png", item.alt)



def unthrottled(syn: Syndicator, *targets: str) -> Syndicator:
    """For tests whose sleeps pass no time: each target's client-side limiter runs an hour ahead at every
    reading, so its windows never hold a unit up (the platform's own 429s still do)."""
    for target in targets:
        limiter = getattr(syn.connector(target).throttle, "limiter", None)
        if limiter is not None:
            limiter.clock = _fast_forward()
    return syn


class Clock:
    """The engine's clock in tests: real time at the start, then only what `advance` adds."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _fast_forward(step: float = 3600.0) -> Callable[[], float]:
    """A clock an hour further on at each reading: every window and pause has passed."""
    ticks = itertools.count(1)
    return lambda: time.time() + step * next(ticks)
