"""The webhook's costs (issue 9): verified deliveries/s and latency to 202, what each step costs, sync times.

    PYTHONPATH=. python bench/bench_webhook.py [--deliveries 3000] [--clients 8] [--posts 2000]

1. `syndicate serve` as a subprocess on loopback, Redis ($SYNDICATE_TEST_REDIS) as
   broker and replay store, SQLite as the ledger: a bounded load generator
   (asyncio, keep-alive connections) sends signed GitHub pushes, each with its
   own delivery id and commit, so every one is verified, checked for a replay,
   recorded and queued (the tasks are never run; the queue is dropped after).
2. The steps alone, in this process: HMAC of the payload, the replay check
   (Redis), the ledger's push counter, the enqueue.
3. Sync time on a repository of `--posts` posts (a bare repository on disk):
   the first sync (a baseline), then a push touching 1 post and one touching
   100. The sync queues the publishes (the broker), so this is fetch, diff,
   checkout, scan, plan and enqueue, not the platforms' rate limits.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_webhook import ENV, SECRET, Repo, Server, payload, write_config

REDIS = os.environ.get("SYNDICATE_TEST_REDIS", "redis://127.0.0.1:6379/12")


def _request(port: int, body: bytes, event: str = "push") -> bytes:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (f"POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: {event}\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\nX-Hub-Signature-256: sha256={digest}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _client(port: int, bodies: list[bytes], latencies: list[float], statuses: dict[int, int],
                  event: str = "push") -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    prepared = [_request(port, body, event) for body in bodies]  # signed before the clock starts
    await asyncio.sleep(0)
    for raw in prepared:
        start = time.perf_counter()
        writer.write(raw)
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - start)
        code = int(status_line.split()[1])
        statuses[code] = statuses.get(code, 0) + 1
    writer.close()


def load(server: Server, n: int, clients: int, before: str, event: str = "push") -> dict[str, float]:
    bodies = [json.dumps(payload("github", before, os.urandom(20).hex())).encode() for _ in range(n)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(_client(server.port, bodies[i::clients], latencies, statuses, event)
                               for i in range(clients)))
        return time.perf_counter() - start

    # a warm-up: connections, imports, the first ledger write
    asyncio.run(_warm(server.port, before))
    elapsed = asyncio.run(run())
    q = statistics.quantiles(latencies, n=100)
    print(f"  statuses: {statuses}; body {len(bodies[0])} bytes")
    return {"per_s": n / elapsed, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "max_ms": max(latencies) * 1000}


async def _warm(port: int, before: str) -> None:
    await _client(port, [json.dumps(payload("github", before, os.urandom(20).hex())).encode() for _ in range(50)],
                  [], {})


def steps(config_path: Path, rounds: int = 1000) -> None:
    """Each step of an accepted delivery alone, one call at a time."""
    from syndicate.config import load_config
    from syndicate.synctask import sync
    from syndicate.webhook import Service

    config = load_config(config_path, env={**os.environ, **ENV})
    service = Service(config)
    body = json.dumps(payload("github", "a" * 40, "b" * 40)).encode()
    key = SECRET.encode()
    run = uuid.uuid4().hex

    def timed(label: str, fn: Callable[[int], object]) -> None:
        start = time.perf_counter()
        for i in range(rounds):
            fn(i)
        print(f"  {label:<48} {(time.perf_counter() - start) / rounds * 1e6:8.1f} µs")

    async def atimed(label: str, fn: Callable[[int], Awaitable[object]]) -> None:
        start = time.perf_counter()
        for i in range(rounds):
            await fn(i)
        print(f"  {label:<48} {(time.perf_counter() - start) / rounds * 1e6:8.1f} µs")

    async def both() -> None:
        await atimed("replay check (Redis: 2 SET NX EX, one round trip)", lambda i: service.replays.remember(
            f"{run}-{i}", "github", "refs/heads/main", "a" * 40, f"{run}{i:08}"))
        await atimed("push counter (ledger UPDATE, one at a time)", lambda i: service.counter.add())
        await service.replays.aclose()

    timed("HMAC-SHA256 of the body + compare", lambda i: hmac.compare_digest(
        hmac.new(key, body, hashlib.sha256).hexdigest(), "0" * 64))
    timed("JSON parse of the body", lambda i: json.loads(body))
    asyncio.run(both())
    timed("enqueue (Celery sync.delay; once per waiting sync)", lambda i: sync.delay())
    service.close()


def make_repo(root: Path, posts: int) -> Repo:
    repo = Repo(root)
    for i in range(posts):
        rel = f"content/posts/{i // 500:03}/post-{i:05}.md"
        path = repo.work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: Post number {i}\ndate: 2023-01-01\ntags: [bench, n{i % 50}]\n---\n\n"
                        f"Paragraph {i} with a [link](https://example.org/{i}).\n", encoding="utf-8")
    from tests.test_webhook import git

    git(repo.work, "add", "-A")
    repo.commit("posts")
    repo.push()
    return repo


def touch(repo: Repo, count: int, *, new: bool, start: int = 0) -> None:
    """One commit, pushed: `count` new posts, or `count` existing posts edited."""
    from tests.test_webhook import git

    for i in range(start, start + count):
        path = repo.work / (f"content/posts/new/fresh-{i:05}.md" if new else f"content/posts/{i // 500:03}/post-{i:05}.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8") if path.exists() else (
            f"---\ntitle: New post {i}\ndate: 2024-01-01\n---\n\nNew paragraph {i}.\n")
        path.write_text(text + "\nEdited.\n" if not new else text, encoding="utf-8")
    git(repo.work, "add", "-A")
    repo.commit(f"touch {count}")
    repo.push()


def syncs(root: Path, posts: int, devto: str, masto: str, queue: str) -> None:
    import redis

    from syndicate.config import load_config
    from syndicate.gitsync import Syncer

    start = time.perf_counter()
    repo = make_repo(root / "git", posts)
    print(f"  a repository of {posts} posts made in {time.perf_counter() - start:.1f}s")
    config = load_config(write_config(root / "site", repo.bare, devto=devto, masto=masto, broker=REDIS, queue=queue,
                                      extra='first_run = "baseline"'), env={**os.environ, **ENV})
    syncer = Syncer(config, echo=lambda line: None)
    client = redis.Redis.from_url(REDIS)
    cases = [("first sync: shallow clone + baseline of every post", None),
             ("a push adding 1 post", dict(count=1, new=True, start=0)),
             ("a push adding 100 posts", dict(count=100, new=True, start=1)),
             ("a push editing 1 post (baselined: planned, not sent)", dict(count=1, new=False)),
             ("a push editing 100 posts (baselined: planned, not sent)", dict(count=100, new=False, start=1))]
    for label, change in cases:
        if change is not None:
            touch(repo, **change)  # type: ignore[arg-type]
        queued = client.llen(queue)
        syncer.syncs.request(syncer.key)
        start = time.perf_counter()
        [done] = syncer.run()
        took = time.perf_counter() - start
        if os.environ.get("BENCH_DEBUG"):
            print(done.lines[:5])
        print(f"  {label:<56} {took:7.2f} s  ({'whole tree' if done.full else 'diff'}; "
              f"{client.llen(queue) - queued} publish task(s) queued)")


def main() -> None:
    import redis

    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    client = redis.Redis.from_url(REDIS)
    queue = f"bench-webhook-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, FakeDevTo() as devto, FakeMastodon() as masto:
        root = Path(tmp)
        repo = Repo(root / "empty")
        config = write_config(root / "serve", repo.bare, broker=REDIS, queue=queue)
        server = Server(config)
        try:
            print(f"deliveries: {args.deliveries} signed GitHub pushes, {args.clients} keep-alive clients, loopback")
            result = load(server, args.deliveries, args.clients, "a" * 40)
            print(f"  {result['per_s']:.0f} verified deliveries/s; latency to 202: p50 {result['p50_ms']:.2f} ms, "
                  f"p99 {result['p99_ms']:.2f} ms, max {result['max_ms']:.1f} ms")
            print(f"  queued: {client.llen(queue)} sync task(s) (a sync already queued takes the later pushes)")
            floor = load(server, args.deliveries // 2, args.clients, "a" * 40, event="ping")
            print(f"  the floor, verified pings (HTTP + HMAC, no replay check, no ledger, no enqueue): "
                  f"{floor['per_s']:.0f}/s, p50 {floor['p50_ms']:.2f} ms, p99 {floor['p99_ms']:.2f} ms")
        finally:
            server.stop()
        print("each step of an accepted delivery, alone:")
        steps(config)
        client.delete(queue)
        print(f"sync times ({args.posts} posts; devto + mastodon targets, publishes queued):")
        syncs(root / "sync", args.posts, devto.url, masto.url, queue)
        client.delete(queue)
        for key in client.scan_iter("syndicate:hook:me/blog:*", count=1000):
            client.delete(key)


if __name__ == "__main__":
    main()
