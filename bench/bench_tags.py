"""A hostile post's tags: load, then plan for dev.to and Mastodon, with 100 to 10,000 tags.

Usage: .venv/bin/python bench/bench_tags.py [MAX_TAGS] [ROUNDS]

Reports CPU ms (best of ROUNDS) for loading the post and for each target's
plan (render, fit, tag shaping), and the longest warning line the plan gives.
A tag list costs time linear in its length: the loader dedups with a dict, the
status fitting finds how many hashtags fit by a binary search.
"""
from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syndicate.config import SiteConfig, TargetConfig
from syndicate.content.loader import load_post
from syndicate.engine.plan import plan
from syndicate.registry import get

MAX_TAGS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def best(one: Callable[[], object]) -> float:
    fastest = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        one()
        fastest = min(fastest, (time.process_time() - start) * 1e3)
    return fastest


def main() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = SiteConfig(url="https://blog.example", root=root, content=["*.md"])
        targets = {
            "devto": get("devto")(TargetConfig("devto", "devto", {"base_url": "https://dev.to"})),
            "mastodon": get("mastodon")(TargetConfig("mastodon", "mastodon", {"base_url": "https://m.example"})),
        }
        print(f"{'tags':>7} {'load ms':>9} {'devto ms':>9} {'mastodon ms':>12} {'longest warning':>16}")
        n = 100
        while n <= MAX_TAGS:
            path = root / f"t{n}.md"
            tags = ", ".join(f"tag{i}" for i in range(n))
            path.write_text(f"---\ntitle: Tags\ndate: 2024-03-01\ntags: [{tags}]\n---\n\nBody.\n", encoding="utf-8")
            post = load_post(path, site)
            loading = best(lambda path=path: load_post(path, site))  # type: ignore[misc]
            costs, longest = [], 0
            for conn in targets.values():
                costs.append(best(lambda conn=conn, post=post: plan(post, conn, None, now)))  # type: ignore[misc]
                longest = max([longest, *(len(w) for w in plan(post, conn, None, now).warnings)])
            print(f"{n:>7,} {loading:>9.1f} {costs[0]:>9.1f} {costs[1]:>12.1f} {longest:>16,}")
            n *= 10


if __name__ == "__main__":
    main()
