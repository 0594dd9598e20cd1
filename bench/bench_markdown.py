"""Throughput of prepare + markdown() + text() over the shared corpus (posts/s on one core).

Usage: .venv/bin/python bench/bench_markdown.py [CORPUS_DIR] [ROUNDS]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import frontmatter

from syndicate.config import SiteConfig
from syndicate.markdown import prepare
from syndicate.post import Post

CORPUS = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/corpus")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def load() -> list[Post]:
    site = SiteConfig(url="https://blog.example.org", root=CORPUS)
    posts = []
    for path in sorted(CORPUS.rglob("*.md")):
        if path.name == "README.md" and path.parent == CORPUS:
            continue
        raw = path.read_text(encoding="utf-8")
        if raw.startswith("+++"):
            raw = "---\n---\n" + raw.split("+++", 2)[2]  # Zola TOML front matter: body only
        fm = frontmatter.loads(raw)
        slug = path.parent.name if path.stem in ("index", "_index") else path.stem
        posts.append(Post(id=slug, path=path, title=str(fm.get("title", slug)), slug=slug,
                          url=f"{site.url}/blog/{slug}/", body=fm.content, site=site,
                          front_matter=dict(fm.metadata)))
    return posts


def main() -> None:
    posts = load()
    size = sum(len(p.body.encode()) for p in posts) / len(posts)
    best = 0.0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for post in posts:
            doc = prepare(post)
            doc.markdown()
            doc.text()
        rate = len(posts) / (time.perf_counter() - start)
        best = max(best, rate)
    first = time.perf_counter()
    for post in posts:
        prepare(post).first_paragraph
    fp_rate = len(posts) / (time.perf_counter() - first)
    print(f"{len(posts)} posts, average {size / 1024:.1f} KiB")
    print(f"prepare + markdown() + text(): {best:.0f} posts/s (best of {ROUNDS})")
    print(f"prepare + first_paragraph:     {fp_rate:.0f} posts/s")


if __name__ == "__main__":
    main()
