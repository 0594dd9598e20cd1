"""CPU per (post, target) of the Telegram connector against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_telegram.py [CORPUS_DIR] [ROUNDS]

What a post costs a connector once its document is parsed (the parse is shared
by every target, so it is done once, outside the timing): render, fit the
text to the limits, build the create request, and parse the platform's answer
into a copy. No network: the answer is a recorded-shape response. Reports µs
per post (CPU, best of ROUNDS) for each connector and the ratio.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_markdown import load
from connectors.mastodon import Mastodon
from connectors.telegram import Telegram
from syndicate.config import Secret, TargetConfig
from syndicate.contract import Connector, SendContext
from syndicate.fitting import fit_draft
from syndicate.markdown import prepare
from syndicate.post import Image, Post

ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
TOKEN = "7012345678:" + "A" * 35


def best(posts: list[Post], one: Callable[[Post], object]) -> float:
    """µs per post, the best round."""
    fastest = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for post in posts:
            one(post)
        fastest = min(fastest, (time.process_time() - start) / len(posts) * 1e6)
    return fastest


def path_of(conn: Connector, answer: dict[str, object]) -> Callable[[Post], object]:
    """render + fit + build_create + parse_remote: one (post, target) without the network."""
    limits = conn.limits_for(None)
    request = httpx.Request("POST", "https://platform.invalid/")
    response = httpx.Response(200, json=answer, request=request)
    ctx = SendContext()

    def one(post: Post) -> object:
        draft = fit_draft(conn.render(post, None), limits)
        ctx.media = {m.source: m.source for m in draft.media}  # the cover's public URL, as the engine gives it
        conn.build_create(draft, "key", ctx)
        return conn.parse_remote(response, ctx)

    return one


def main() -> None:
    posts = load()
    for i, post in enumerate(posts):
        post.__dict__["document"] = prepare(post)
        assert post.excerpt is not None  # computed once for every target: outside the timing
        tags = post.front_matter.get("tags") or (post.front_matter.get("taxonomies") or {}).get("tags") or []
        post.tags = [str(t) for t in tags] if isinstance(tags, list) else []
        if i % 2 == 0:  # half the posts with a cover, as on a typical blog
            post.cover = Image(src="cover.png", url=f"{post.site.url}/images/{post.slug}.png", alt="A cover")
    mastodon = Mastodon(TargetConfig("mastodon", "mastodon", {"base_url": "https://mastodon.example",
                                                               "access_token": Secret("x")}))
    telegram = Telegram(TargetConfig("telegram", "telegram", {"base_url": "https://api.telegram.org",
                                                              "bot_token": Secret(TOKEN), "chat_id": "@blogchannel",
                                                              "cover": "photo"}))
    status = {"id": "110000000000000001", "url": "https://mastodon.example/@me/110000000000000001"}
    message = {"ok": True, "result": {"message_id": 42, "date": 1800000000, "text": "x",
                                      "chat": {"id": -1001234567890, "type": "channel", "username": "blogchannel"}}}
    paths = {"mastodon": path_of(mastodon, status), "telegram": path_of(telegram, message)}
    timed = {name: float("inf") for name in paths}
    for _ in range(3):  # interleaved, so that a busy moment of a shared machine hits both
        for name, one in paths.items():
            timed[name] = min(timed[name], best(posts, one))
    print(f"{len(posts)} posts, best of {ROUNDS} rounds (CPU µs per post: render + fit + request + answer)")
    for name, micros in timed.items():
        print(f"{name:10s} {micros:9.1f} µs/post")
    print(f"telegram / mastodon: {timed['telegram'] / timed['mastodon']:.2f}×")


if __name__ == "__main__":
    main()
