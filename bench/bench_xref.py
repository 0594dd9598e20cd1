"""The site index's costs (issue 14.3, 14.11) on a generated Hugo site: build, lookups, link rewriting, duplicates.

    PYTHONPATH=. python bench/bench_xref.py [--posts 10000] [--repeat 5]

- build: every post's front matter read once (cold process), then a re-check of an unchanged site,
  beside a full load of every post (what the cold reconcile scan parses) for scale;
- the duplicate check of one pushed post against the whole site (`loader.unique`), warm;
- per post: `prepare()` of a body with 5 links between posts, against the same body with 5 plain
  URLs (the difference is the cost of the links), for relative `.md` links (one stat each) and for
  Hugo `ref` by logical path (the whole site is read first, once per process).
The site lives in a temporary folder.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syndicate.config import SiteConfig
from syndicate.content.loader import load_post, reset_cache, unique
from syndicate.content.siteindex import index_for

LINKS = 5


def make_site(root: Path, posts: int) -> SiteConfig:
    (root / "hugo.toml").write_text('baseURL = "https://blog.example/"\n[permalinks]\nposts = "/:year/:month/:slug/"\n',
                                    encoding="utf-8")
    for i in range(posts):
        sub = root / "content" / "posts" / f"{i // 500:03}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"post-{i:05}.md").write_text(
            f"---\ntitle: Post number {i}\ndate: 2023-01-{1 + i % 28:02}\ntags: [bench, n{i % 50}]\n"
            f"description: The {i}th post.\n---\n\nParagraph {i} with a [link](https://example.org/{i}).\n",
            encoding="utf-8")
    body = "Intro.\n\n" + "".join(f"See [post {n}]({{{{}}}}) and more text.\n\n" for n in range(LINKS))
    folder = root / "content" / "posts" / "000"
    plain = body.replace("{{}}", "https://example.org/elsewhere/")
    rel = "".join(f"See [post {n}](post-{n + 1:05}.md) and more text.\n\n" for n in range(LINKS))
    ref = "".join(f'See [post {n}]({{{{< ref "/posts/001/post-{500 + n:05}" >}}}}) and more text.\n\n'
                  for n in range(LINKS))
    for name, text in (("plain", plain), ("relative", "Intro.\n\n" + rel), ("ref", "Intro.\n\n" + ref)):
        (folder / f"links-{name}.md").write_text(f"---\ntitle: Links {name}\ndate: 2023-02-01\n---\n\n{text}",
                                                 encoding="utf-8")
    return SiteConfig(url="https://blog.example", root=root.resolve(), content=["content/posts/**/*.md"])


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def render_cost(site: SiteConfig, name: str, repeat: int) -> float:
    """Median seconds of load + prepare for one post (the index warm)."""
    path = site.root / "content" / "posts" / "000" / f"links-{name}.md"

    def once() -> None:
        post = load_post(path, site)
        assert post.document.markdown()
    once()
    return statistics.median(timed(once, repeat * 20))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = make_site(Path(tmp), args.posts)
        colds, warms = [], []
        for _ in range(args.repeat):
            reset_cache()
            index = index_for(site)
            start = time.perf_counter()
            index.build()
            colds.append(time.perf_counter() - start)
            index.complete = False
            start = time.perf_counter()
            index.build()  # every file unchanged: one stat each
            warms.append(time.perf_counter() - start)
        entries = len(index.entries)
        files = sorted((site.root / "content" / "posts").rglob("*.md"))
        full = statistics.median(timed(lambda: [load_post(f, site) for f in files], max(1, args.repeat // 2)))
        print(f"site: {entries} posts; for scale, loading every post in full (a cold reconcile scan's parse): "
              f"{full * 1000:.0f} ms")
        print(f"index build, cold (front matter of every post): median {statistics.median(colds) * 1000:.0f} ms, "
              f"min {min(colds) * 1000:.0f} ms ({statistics.median(colds) / entries * 1e6:.0f} µs/post)")
        print(f"index re-check, nothing changed (a stat each):  median {statistics.median(warms) * 1000:.0f} ms")

        mid = args.posts // 2
        one = load_post(site.root / "content" / "posts" / f"{mid // 500:03}" / f"post-{mid:05}.md", site)
        dup = statistics.median(timed(lambda: unique([one], site), args.repeat * 20))
        print(f"duplicate check of one pushed post, index warm: {dup * 1e6:.0f} µs")

        reset_cache()
        start = time.perf_counter()
        post = load_post(site.root / "content" / "posts" / "000" / "links-ref.md", site)
        post.document.markdown()
        first_ref = time.perf_counter() - start
        reset_cache()
        start = time.perf_counter()
        post = load_post(site.root / "content" / "posts" / "000" / "links-relative.md", site)
        post.document.markdown()
        first_rel = time.perf_counter() - start
        print(f"first post with Hugo refs in a process (reads the site): {first_ref * 1000:.0f} ms; "
              f"with relative .md links (a stat each, no site read): {first_rel * 1000:.1f} ms")
        index_for(site).build()
        plain = render_cost(site, "plain", args.repeat)
        rel = render_cost(site, "relative", args.repeat)
        ref = render_cost(site, "ref", args.repeat)
        print(f"load + prepare, {LINKS} links, index warm: plain URLs {plain * 1e6:.0f} µs; "
              f"relative .md {rel * 1e6:.0f} µs (+{(rel - plain) / LINKS * 1e6:.0f} µs/link); "
              f"Hugo ref {ref * 1e6:.0f} µs (+{(ref - plain) / LINKS * 1e6:.0f} µs/link)")


if __name__ == "__main__":
    main()
