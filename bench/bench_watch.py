"""The watcher's costs on a generated site (issue 8): cold scan, no-change rescan, save → queued, RSS.

    PYTHONPATH=. python bench/bench_watch.py [--posts 10000] [--saves 200] [--changes 1000]

Runs against Redis ($SYNDICATE_TEST_REDIS, as the broker: tasks are queued,
never run) and the dev.to / Mastodon fakes (the plan asks Mastodon for its
instance limits once). The site and the SQLite ledger live in a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syndicate.registry import load_config
from syndicate.triggers.watch import Watcher
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon

REDIS = os.environ.get("SYNDICATE_TEST_REDIS", "redis://127.0.0.1:6379/7")
QUEUE = "bench-watch"


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_site(root: Path, posts: int, devto: str, masto: str, debounce_ms: int) -> Path:
    folder = root / "content" / "posts"
    for i in range(posts):
        sub = folder / f"{i // 500:03}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"post-{i:05}.md").write_text(
            f"---\ntitle: Post number {i}\ndate: 2023-01-01\ntags: [bench, n{i % 50}]\n---\n\n"
            f"Paragraph {i} with a [link](https://example.org/{i}).\n\n## Heading\n\nMore text {i}.\n",
            encoding="utf-8")
    config = root / "syndicate.toml"
    config.write_text(f"""
[site]
url = "https://blog.example"
content = ["content/posts/**/*.md"]
permalink = "/posts/:slug/"

[state]
url = "sqlite:///{root / 'state.db'}"

[queue]
broker = "{REDIS}"
name = "{QUEUE}"

[watch]
debounce_ms = {debounce_ms}
first_run_limit = 100000

[targets.devto]
api_key = "devto-test-key"
base_url = "{devto}"

[targets.mastodon]
base_url = "{masto}"
access_token = "mastodon-test-token"
""", encoding="utf-8")
    return config


def rows_cost(w: Watcher, scan: object) -> None:
    """With one published row per (post, target) in the ledger: what a full reconcile adds to look at every
    row (posts only the ledger knows whose file is gone; unfinished rows to carry on with)."""
    from syndicate.state.ledger.schema import rows, utcnow

    now = utcnow()
    values = [{"post_id": f.post_id, "target": t, "post_path": f.path, "state": "published", "revision": 1,
               "attempts": 1, "created_at": now, "updated_at": now, "published_at": now}
              for f in scan.put for t in w.targets]  # type: ignore[attr-defined]
    with w.syn.ledger.engine.begin() as conn:
        conn.execute(rows.insert(), values)
    runs, extra, revisit = [], [], []
    for _ in range(5):
        t = time.perf_counter()
        w.scanner.scan()
        runs.append(time.perf_counter() - t)
        t = time.perf_counter()
        w.syn.ledger.untracked_paths()
        extra.append(time.perf_counter() - t)
        t = time.perf_counter()
        w.syn.ledger.unfinished()
        revisit.append(time.perf_counter() - t)
    print(f"no-change rescan with {len(values)} ledger rows: median {statistics.median(runs) * 1000:.0f} ms; "
          f"of which the posts only the ledger knows {statistics.median(extra) * 1000:.0f} ms; "
          f"then the unfinished rows {statistics.median(revisit) * 1000:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--saves", type=int, default=200)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--debounce-ms", type=int, default=50)
    args = ap.parse_args()
    import redis

    client = redis.Redis.from_url(REDIS)
    with FakeDevTo() as devto, FakeMastodon() as masto, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        config = load_config(make_site(root, args.posts, devto.url, masto.url, args.debounce_ms))
        print(f"generated {args.posts} posts in {time.perf_counter() - t:.1f}s")
        lines: list[tuple[float, str]] = []
        w = Watcher(config, echo=lambda line: lines.append((time.perf_counter(), line)), first_run="baseline")

        t = time.perf_counter()
        scan = w.scanner.scan()
        cold = time.perf_counter() - t
        t = time.perf_counter()
        w.syn.ledger.put_files(scan.put)
        put = time.perf_counter() - t
        print(f"cold scan: {cold:.2f}s ({scan.stats}) + recording {len(scan.put)} file rows {put:.2f}s")

        runs = []
        for _ in range(5):
            t = time.perf_counter()
            again = w.scanner.scan()
            runs.append(time.perf_counter() - t)
        assert not again.changed and again.stats["hashed"] == 0
        print(f"no-change rescan: median {statistics.median(runs) * 1000:.0f} ms, "
              f"min {min(runs) * 1000:.0f} ms (stat only: {again.stats})")
        t = time.perf_counter()
        w.syn.ledger.files()
        print(f"  of which reading the files table: {(time.perf_counter() - t) * 1000:.0f} ms")
        rows_cost(w, scan)

        runner = threading.Thread(target=w.run, daemon=True)
        runner.start()
        deadline = time.monotonic() + 30
        while not any("watching" in line for _, line in lines) and time.monotonic() < deadline:
            time.sleep(0.01)
        target = root / "content" / "posts" / "000" / "post-00001.md"
        base = target.read_text(encoding="utf-8")
        latencies = []
        for i in range(args.saves):
            seen = len(lines)
            start = time.perf_counter()
            target.write_text(base + f"\nSave {i}.\n", encoding="utf-8")
            end = time.monotonic() + 10
            while time.monotonic() < end:
                hit = [at for at, line in lines[seen:] if line.startswith("saved ") and "queued" in line]
                if hit:
                    latencies.append(hit[0] - start - args.debounce_ms / 1000)
                    break
                time.sleep(0.002)
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
        print(f"save → queued beyond the {args.debounce_ms} ms debounce, {len(latencies)}/{args.saves} saves: "
              f"p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        w.stop.set()
        runner.join(10)

        before = rss_mb()
        marks = []
        some = sorted((root / "content" / "posts").glob("*/post-*.md"))[::97][:20]
        for i in range(args.changes):
            path = some[i % len(some)]
            path.write_text(base + f"\nChange {i}.\n", encoding="utf-8")
            w.reconcile([path])
            if i % max(1, args.changes // 4) == 0:
                marks.append(round(rss_mb(), 1))
        print(f"RSS over {args.changes} changes: {before:.1f} MB → {rss_mb():.1f} MB (samples {marks})")
        client.delete(QUEUE)


if __name__ == "__main__":
    main()
