"""CPU per (post, target) of the X connector, against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_x.py [CORPUS_DIR] [ROUNDS]

Two figures per connector, CPU time of this process only (best of ROUNDS, µs per post):
- build: render, fit the text to 280 weighted characters (twitter-text), and build the request
  `preview` shows, with its price (no I/O);
- create: the whole create against its fake, the fakes running in a child process so that their
  CPU is not counted (X: one POST /2/tweets, signed with OAuth 1.0a HMAC-SHA1, or with an OAuth
  2.0 token from the token store; Mastodon: one request), over one keep-alive HTTP client.
"""
from __future__ import annotations

import multiprocessing
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.connector_cpu import ROUNDS, best, prepared
from connectors.mastodon import Mastodon
from connectors.x import X
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Post
from syndicate.contract import Connector, SendContext
from syndicate.engine.fitting import fit_draft
from syndicate.state.tokens import TokenStore


def serve(pipe: Any) -> None:
    """The child: both fakes, their URLs sent back, kept up until the parent says stop."""
    from tests.fakes.mastodon import FakeMastodon
    from tests.fakes.x import FakeX

    with FakeMastodon() as mastodon, FakeX() as fake_x:
        fake_x.refuse_duplicates = False  # every round posts the corpus again
        pipe.send((mastodon.url, fake_x.url))
        pipe.recv()


def main() -> None:
    from tests.fakes import x as fx

    posts = prepared(covers=False)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child,), daemon=True)
    server.start()
    mastodon_url, x_url = parent.recv()
    http = httpx.Client(timeout=10)
    with tempfile.TemporaryDirectory() as data:
        conns: dict[str, Connector] = {
            "mastodon": Mastodon(TargetConfig("mastodon", "mastodon", {
                "base_url": mastodon_url, "access_token": Secret("mastodon-test-token")}), http=http),
            "x-oauth1": X(TargetConfig("x-oauth1", "x", {
                "base_url": x_url, "api_key": Secret(fx.API_KEY), "api_secret": Secret(fx.API_SECRET),
                "access_token": Secret(fx.ACCESS_TOKEN), "access_secret": Secret(fx.ACCESS_SECRET)}), http=http),
            "x-oauth2": X(TargetConfig("x-oauth2", "x", {
                "base_url": x_url, "client_id": fx.CLIENT_ID, "refresh_token": Secret(fx.REFRESH_TOKEN)}),
                http=http),
        }
        conns["x-oauth2"].token_store = TokenStore(Path(data))
        for c in conns.values():
            for post in posts[:3]:  # warm: connections open, the token refreshed, twitter-text compiled
                c.create(fit_draft(c.render(post), c.limits_for(None)), f"warm-{post.id}", SendContext())
        print(f"{len(posts)} posts, CPU µs per post (best of {ROUNDS})")
        figures: dict[str, tuple[float, float]] = {}
        for name, c in conns.items():
            limits = c.limits_for(None)
            runs = iter(range(10**9))

            def build(post: Post, c: Connector = c, limits: Any = limits) -> None:
                c.preview_create(fit_draft(c.render(post), limits), "k", SendContext(preview=True))

            def create(post: Post, c: Connector = c, limits: Any = limits, runs: Any = runs) -> None:
                c.create(fit_draft(c.render(post), limits), f"{post.id}-{next(runs)}", SendContext())

            figures[name] = (best(posts, build), best(posts, create, rounds=max(1, ROUNDS // 2)))
        for name, (build_us, create_us) in figures.items():
            print(f"{name:10s} build {build_us:9.1f}   create {create_us:9.1f}")
        base = figures["mastodon"]
        for name in ("x-oauth1", "x-oauth2"):
            print(f"{name} / mastodon: build {figures[name][0] / base[0]:.2f}×, create {figures[name][1] / base[1]:.2f}×")
    parent.send("stop")
    server.join(timeout=10)


if __name__ == "__main__":
    main()
