"""CPU per (post, target) of the Threads connector, against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_threads.py [CORPUS_DIR] [ROUNDS]

Two figures per connector, CPU time of this process only (best of ROUNDS, µs per post):
- build: render, fit the text, and build the request(s) `preview` shows (no I/O);
- create: the whole create against its fake, the fakes running in a child process so that
  their CPU is not counted (Threads: container, status read, publish, permalink read = 4
  requests; Mastodon: 1 request), over one keep-alive HTTP client as the engine has.
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
from connectors.threads import Threads
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Post
from syndicate.contract import Connector, SendContext
from syndicate.engine.fitting import fit_draft
from syndicate.state.tokens import TokenStore


def serve(pipe: Any) -> None:
    """The child: both fakes, their URLs sent back, kept up until the parent says stop."""
    from tests.fakes.mastodon import FakeMastodon
    from tests.fakes.threads import FakeThreads

    with FakeMastodon() as mastodon, FakeThreads() as threads:
        pipe.send((mastodon.url, threads.url))
        pipe.recv()


def main() -> None:
    posts = prepared(covers=False)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child,), daemon=True)
    server.start()
    mastodon_url, threads_url = parent.recv()
    http = httpx.Client(timeout=10)
    with tempfile.TemporaryDirectory() as data:
        conns: dict[str, Connector] = {
            "mastodon": Mastodon(TargetConfig("mastodon", "mastodon", {
                "base_url": mastodon_url, "access_token": Secret("mastodon-test-token")}), http=http),
            "threads": Threads(TargetConfig("threads", "threads", {
                "base_url": threads_url, "access_token": Secret("threads-test-token"), "user_id": "1789"}),
                http=http),
        }
        conns["threads"].token_store = TokenStore(Path(data))
        for c in conns.values():
            for post in posts[:3]:  # warm: connections open, the token adopted, modules imported
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
        ratio = figures["threads"][1] / figures["mastodon"][1]
        print(f"threads / mastodon: build {figures['threads'][0] / figures['mastodon'][0]:.2f}×, create {ratio:.2f}×")
    parent.send("stop")
    server.join(timeout=10)


if __name__ == "__main__":
    main()
