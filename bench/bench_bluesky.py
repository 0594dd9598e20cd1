"""Cost of the Bluesky facet builder per post, against the plain-text renderer, over the shared corpus.

Usage: .venv/bin/python bench/bench_bluesky.py [CORPUS_DIR] [ROUNDS]

Reports µs per post (CPU, best of ROUNDS) for: `post.document.text()` (the
plain-text renderer, its memo cleared each time); `rich_text` on the fitted
status text (what a post costs: links shortened, link and tag facets); the
whole Bluesky path (render, fit, record); and `rich_text` over the whole body
text, a worst case no post takes.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_markdown import load
from connectors.atproto import rich_text
from connectors.bluesky import Bluesky
from syndicate.config import Secret, TargetConfig
from syndicate.content.markdown import prepare
from syndicate.content.post import Post
from syndicate.contract import SendContext
from syndicate.engine.fitting import fit_draft

ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def best(posts: list[Post], one: Callable[[Post], object]) -> float:
    """µs per post, the best round."""
    fastest = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for post in posts:
            one(post)
        fastest = min(fastest, (time.process_time() - start) / len(posts) * 1e6)
    return fastest


def main() -> None:
    posts = load()
    for post in posts:
        post.memo.document = prepare(post)
        tags = post.front_matter.get("tags") or (post.front_matter.get("taxonomies") or {}).get("tags") or []
        post.tags = [str(t) for t in tags] if isinstance(tags, list) else []
    conn = Bluesky(TargetConfig("bluesky", "bluesky", {"identifier": "me.bsky.social",
                                                        "app_password": Secret("x")}))
    limits = conn.limits_for(None)
    statuses = {p.id: fit_draft(conn.render(p), limits).parts[0].text or "" for p in posts}
    bodies = {p.id: p.document.text() for p in posts}

    def text(post: Post) -> None:
        post.document._cache.clear()
        post.document.text()

    def facets(post: Post) -> None:
        rich_text(statuses[post.id])

    tagged = {k: v + "\n\n#OpenTelemetry #Rust #Observability #Release #日本語" for k, v in statuses.items()}

    def tag_facets(post: Post) -> None:  # the corpus has no tags: five, as a status with tags carries
        rich_text(tagged[post.id])

    def whole(post: Post) -> None:
        draft = fit_draft(conn.render(post), limits)
        conn.record(draft, SendContext())

    def body_facets(post: Post) -> None:
        rich_text(bodies[post.id])

    facet_count = sum(len(rich_text(s)[1]) for s in statuses.values())
    print(f"{len(posts)} posts; {facet_count / len(posts):.1f} facets per status, "
          f"{sum(len(rich_text(b)[1]) for b in bodies.values()) / len(posts):.0f} per whole body")
    for name, fn in [("document.text() (plain-text renderer)", text), ("rich_text(status) (facet builder)", facets),
                     ("rich_text(status + 5 hashtags)", tag_facets),
                     ("render + fit + record (whole Bluesky path)", whole),
                     ("rich_text(whole body text) (worst case)", body_facets)]:
        print(f"{name:45s} {best(posts, fn):9.1f} µs/post")


if __name__ == "__main__":
    main()
