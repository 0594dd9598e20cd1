"""What `[site] write_back` costs (issue 16): the change-detection hash without the key, and the edit.

    PYTHONPATH=. python bench/bench_writeback.py [--posts 2000] [--rounds 3]

A generated site of YAML posts in a temporary folder. Measures, best of
`--rounds`: the plain sha256 of every file (what a scan hashes with write-back
off) against `masked_digest` (with it on: parsed, the key left out), and one
`edit` per post (two URLs appended, parsed again and verified). Only files
whose stat changed are hashed by a scan, so these are per changed file.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syndicate.content.fmedit import edit, masked_digest

URLS = ["https://dev.to/me/post-3e9", "https://mastodon.social/@me/110000000000000001"]


def make_posts(root: Path, n: int) -> list[bytes]:
    out = []
    for i in range(n):
        text = (f"---\n# post {i}\ntitle: \"Post number {i}\"\ndate: 2024-01-{1 + i % 28:02d}T10:00:00Z\n"
                f"tags: [python, testing]\ndescription: 'Post {i} of a generated site.'\n---\n\n"
                + f"Body of post {i}. It has a [link](https://example.org/{i}) and `code`.\n" * 20)
        (root / f"post-{i:05d}.md").write_text(text, encoding="utf-8")
        out.append(text.encode("utf-8"))
    return out


def best(rounds: int, fn: object) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = make_posts(Path(tmp), args.posts)
        texts = [d.decode("utf-8") for d in data]
        raw = best(args.rounds, lambda: [hashlib.sha256(d).hexdigest() for d in data])
        masked = best(args.rounds, lambda: [masked_digest(d, "syndication") for d in data])
        edits = best(args.rounds, lambda: [edit(t, "syndication", URLS) for t in texts])
    n = args.posts
    print(f"posts: {n}")
    print(f"sha256 of the bytes (write-back off): {raw / n * 1e6:8.1f} µs per changed file")
    print(f"masked_digest (write-back on):       {masked / n * 1e6:8.1f} µs per changed file")
    print(f"edit (two URLs, verified):           {edits / n * 1e6:8.1f} µs per post")


if __name__ == "__main__":
    main()
