"""CPU per (post, target) of the standard.site connector, against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_stdsite.py [CORPUS_DIR] [ROUNDS]

Two figures per connector, CPU time of this process only (best of ROUNDS, µs per post):
- build: render, fit the text, and build the request(s) `preview` shows (no I/O);
- create: the whole create against its fake, the fakes running in a child process so that
  their CPU is not counted (standard.site: one putRecord of the document, the session and the
  publication read once per process; Mastodon: 1 request), over one keep-alive HTTP client as
  the engine has. standard.site's build renders the whole body twice (Markdown and plain text).
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
from connectors.standard_site import StandardSite
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Post
from syndicate.contract import Connector, SendContext
from syndicate.engine.fitting import fit_draft


def serve(pipe: Any) -> None:
    """The child: both fakes, their URLs sent back, kept up until the parent says stop."""
    from tests.fakes.mastodon import FakeMastodon
    from tests.fakes.standard_site import FakeStandardSite

    with FakeMastodon() as mastodon, FakeStandardSite("bench-app-pass") as pds:
        pipe.send((mastodon.url, pds.url))
        pipe.recv()


def main() -> None:
    posts = prepared(covers=False)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child,), daemon=True)
    server.start()
    mastodon_url, pds_url = parent.recv()
    http = httpx.Client(timeout=10)
    with tempfile.TemporaryDirectory():
        conns: dict[str, Connector] = {
            "mastodon": Mastodon(TargetConfig("mastodon", "mastodon", {
                "base_url": mastodon_url, "access_token": Secret("mastodon-test-token")}), http=http),
            "standard_site": StandardSite(TargetConfig("standard_site", "standard_site", {
                "base_url": pds_url, "identifier": "alice.test", "app_password": Secret("bench-app-pass")}),
                http=http),
        }
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
            print(f"{name:14s} build {build_us:9.1f}   create {create_us:9.1f}")
        ratio = figures["standard_site"][1] / figures["mastodon"][1]
        print(f"standard_site / mastodon: build {figures['standard_site'][0] / figures['mastodon'][0]:.2f}×, "
              f"create {ratio:.2f}×")
    parent.send("stop")
    server.join(timeout=10)


if __name__ == "__main__":
    main()
