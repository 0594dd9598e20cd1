"""What every connector's CPU bench shares: the corpus posts prepared once, the best-of-rounds timer, and
the offline path (render + fit + build_create + parse_remote against a recorded-shape answer), Mastodon's
included as the yardstick. A bench names its connector, its answer and its context; the rest is here."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_markdown import load
from connectors.mastodon import Mastodon
from syndicate.config import Secret, TargetConfig
from syndicate.content.markdown import prepare
from syndicate.content.post import Image, Post
from syndicate.contract import Connector, SendContext
from syndicate.engine.fitting import fit_draft

ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
MASTODON_STATUS = {"id": "110000000000000001", "url": "https://mastodon.example/@me/110000000000000001"}


def prepared(covers: bool = True) -> list[Post]:
    """The corpus posts, parsed once (the parse is shared by every target: outside the timing), with their
    tags; `covers`: half of them with a cover, as on a typical blog."""
    posts = load()
    for i, post in enumerate(posts):
        post.memo.document = prepare(post)
        assert post.excerpt is not None  # computed once for every target
        tags = post.front_matter.get("tags") or (post.front_matter.get("taxonomies") or {}).get("tags") or []
        post.tags = [str(t) for t in tags] if isinstance(tags, list) else []
        if covers and i % 2 == 0:
            post.cover = Image(src="cover.png", url=f"{post.site.url}/images/{post.slug}.png", alt="A cover")
    return posts


def best(posts: list[Post], one: Callable[[Post], object], rounds: int = ROUNDS) -> float:
    """µs of CPU per post, the best round."""
    fastest = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for post in posts:
            one(post)
        fastest = min(fastest, (time.process_time() - start) / len(posts) * 1e6)
    return fastest


def offline_path(conn: Connector, answer: dict[str, object],
                 ctx: SendContext | None = None) -> Callable[[Post], object]:
    """render + fit + build_create + parse_remote: one (post, target) without the network."""
    limits = conn.limits_for(None)
    response = httpx.Response(200, json=answer, request=httpx.Request("POST", "https://platform.invalid/"))
    ctx = ctx or SendContext()

    def one(post: Post) -> object:
        draft = fit_draft(conn.render(post, None), limits)
        conn.build_create(draft, "key", ctx)
        return conn.parse_remote(response, ctx)

    return one


def against_mastodon(name: str, conn: Connector, answer: dict[str, object], ctx: SendContext | None = None) -> None:
    """Time `conn` and Mastodon on the same posts, interleaved (a busy moment of a shared machine hits both),
    and print µs per post and the ratio."""
    posts = prepared()
    mastodon = Mastodon(TargetConfig("mastodon", "mastodon", {"base_url": "https://mastodon.example",
                                                               "access_token": Secret("x")}))
    paths = {"mastodon": offline_path(mastodon, MASTODON_STATUS), name: offline_path(conn, answer, ctx)}
    timed = {key: float("inf") for key in paths}
    for _ in range(3):
        for key, one in paths.items():
            timed[key] = min(timed[key], best(posts, one))
    print(f"{len(posts)} posts, best of {ROUNDS} rounds (CPU µs per post: render + fit + request + answer)")
    for key, micros in timed.items():
        print(f"{key:10s} {micros:9.1f} µs/post")
    print(f"{name} / mastodon: {timed[name] / timed['mastodon']:.2f}×")
