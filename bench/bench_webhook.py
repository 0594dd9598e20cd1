"""The webhook's costs (issue 9): verified deliveries/s and latency to 202, what each step costs, sync times;
and its defences (issue 13.36): memory under huge forged bodies, valid pushes during a slow-client flood.

    PYTHONPATH=. python bench/bench_webhook.py [--deliveries 3000] [--clients 8] [--posts 2000]
        [--only deliveries,steps,sync,bodies,flood] [--bodies 20] [--slow 1100] [--nofile 1024]

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
4. Memory: the server's resident set (VmRSS at rest, VmHWM after) while
   `--bodies` clients at once each send a 24 MiB body with a forged signature.
5. A flood: the server started with an open-file limit of `--nofile`, `--slow`
   clients sending their request a byte a second (reconnecting when dropped),
   and meanwhile `--pushes` signed pushes and GET /healthz, each on a new
   connection: their latency, how many did not answer within 10 s, and how
   much the server logged.
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
    cpu = cpu_seconds(server.proc.pid)
    elapsed = asyncio.run(run())
    cpu = cpu_seconds(server.proc.pid) - cpu
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"  statuses: {statuses}; body {len(bodies[0])} bytes; server CPU {cpu / n * 1e6:.0f} µs per delivery "
          "(the figure a busy machine changes least)")
    return {"per_s": n / elapsed, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "max_ms": max(latencies) * 1000}


async def _warm(port: int, before: str) -> None:
    await _client(port, [json.dumps(payload("github", before, os.urandom(20).hex())).encode() for _ in range(50)],
                  [], {})


def steps(config_path: Path, rounds: int = 1000) -> None:
    """Each step of an accepted delivery alone, one call at a time."""
    from syndicate.registry import load_config
    from syndicate.triggers.synctask import sync
    from syndicate.triggers.webhook.app import Service

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

    from syndicate.registry import load_config
    from syndicate.triggers.gitsync import Syncer

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def big_bodies(server: Server, count: int, size: int = 24 * 1024 * 1024) -> None:
    """`count` clients at once, each sending a `size` body with a forged signature, as fast as loopback goes."""
    chunk = b"x" * 65536
    statuses: dict[str, int] = {}

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256="
                     + b"0" * 64 + f"\r\nContent-Length: {size}\r\n\r\n".encode())
        try:
            for _ in range(size // len(chunk)):
                writer.write(chunk)
                await writer.drain()
            line = (await reader.readline()).decode().strip() or "closed"
        except OSError as exc:
            line = type(exc).__name__
        statuses[line] = statuses.get(line, 0) + 1
        writer.close()

    async def run() -> None:
        await asyncio.gather(*(one() for _ in range(count)))

    rest = status_kib(server.proc.pid, "VmRSS")
    start = time.perf_counter()
    asyncio.run(run())
    took = time.perf_counter() - start
    peak = status_kib(server.proc.pid, "VmHWM")
    print(f"  {count} × {size >> 20} MiB forged bodies at once: server RSS at rest {rest / 1024:.0f} MiB, "
          f"peak {peak / 1024:.0f} MiB; {took:.1f} s; answers {statuses}")


def flood(root: Path, slow: int, nofile: int, queue: str, pushes: int = 100) -> None:
    """Valid pushes and /healthz while `slow` clients send a byte a second, the server at `nofile` descriptors."""
    import httpx

    from tests.flood import Flood, open_files
    from tests.test_webhook import headers

    repo = Repo(root / "flood-repo")
    config = write_config(root / "flood", repo.bare, broker=REDIS, queue=queue)
    server = Server(config, nofile=nofile)
    with open_files(slow + 512) as ok:
        if not ok:
            print(f"  skipped: this process cannot open {slow + 512} files (hard limit)")
            server.stop()
            return
        clients = Flood(server.port, headers=slow).start()
        try:
            deadline = time.monotonic() + 60
            while clients.opened < min(slow, nofile) and time.monotonic() < deadline:
                time.sleep(0.1)
            print(f"  {slow} slow clients, server limit {nofile} files: {clients.open} open, "
                  f"{clients.opened} opened so far")
            push_ms: list[float] = []
            health_ms: list[float] = []
            failed = {"push": 0, "healthz": 0}
            fresh = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(base_url=server.url, timeout=10, limits=fresh) as http:
                def timed(kind: str, into: list[float], method: str, path: str, **kw: object) -> None:
                    start = time.perf_counter()
                    try:
                        answered = http.request(method, path, **kw).status_code in (200, 202)  # type: ignore[arg-type]
                    except httpx.HTTPError:
                        answered = False
                    if answered:
                        into.append((time.perf_counter() - start) * 1000)
                    else:
                        failed[kind] += 1

                for _ in range(pushes):
                    body = json.dumps(payload("github", "a" * 40, os.urandom(20).hex())).encode()
                    timed("push", push_ms, "POST", "/hooks/github", content=body, headers=headers("github", body))
                    timed("healthz", health_ms, "GET", "/healthz")
            for kind, values in (("push", push_ms), ("healthz", health_ms)):
                if len(values) >= 2:
                    q = statistics.quantiles(values, n=100, method="inclusive")
                    print(f"  {kind:<8} answered {len(values)}/{pushes}: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, "
                          f"max {max(values):.0f} ms; {failed[kind]} failed or took over 10 s")
                else:
                    print(f"  {kind:<8} answered {len(values)}/{pushes}")
            print(f"  slow clients: {clients.opened} connections made, {clients.dropped} dropped by the server, "
                  f"{clients.refused} refused; answers {clients.answers}")
        finally:
            clients.stop()
            rss = status_kib(server.proc.pid, "VmHWM")
            server.stop()
    log = server.log.read_bytes()
    print(f"  server: peak RSS {rss / 1024:.0f} MiB; logged {len(log):,} bytes, {log.count(b'Traceback')} tracebacks")


SECTIONS = ("deliveries", "steps", "sync", "bodies", "flood")


def main() -> None:
    import redis

    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--slow", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--pushes", type=int, default=100, help="valid pushes (and GET /healthz) during the flood")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    args = parser.parse_args()
    only = set(args.only.split(","))
    client = redis.Redis.from_url(REDIS)
    queue = f"bench-webhook-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, FakeDevTo() as devto, FakeMastodon() as masto:
        root = Path(tmp)
        repo = Repo(root / "empty")
        config = write_config(root / "serve", repo.bare, broker=REDIS, queue=queue)
        if only & {"deliveries", "bodies"}:
            server = Server(config)
            try:
                if "deliveries" in only:
                    print(f"deliveries: {args.deliveries} signed GitHub pushes, {args.clients} keep-alive clients, "
                          "loopback")
                    result = load(server, args.deliveries, args.clients, "a" * 40)
                    print(f"  {result['per_s']:.0f} verified deliveries/s; latency to 202: p50 "
                          f"{result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, max {result['max_ms']:.1f} ms")
                    print(f"  queued: {client.llen(queue)} sync task(s) (a sync already queued takes the later pushes)")
                    floor = load(server, args.deliveries // 2, args.clients, "a" * 40, event="ping")
                    print(f"  the floor, verified pings (HTTP + HMAC, no replay check, no ledger, no enqueue): "
                          f"{floor['per_s']:.0f}/s, p50 {floor['p50_ms']:.2f} ms, p99 {floor['p99_ms']:.2f} ms")
                if "bodies" in only:
                    print("memory under huge forged bodies:")
                    big_bodies(server, args.bodies)
            finally:
                server.stop()
        if "steps" in only:
            print("each step of an accepted delivery, alone:")
            steps(config)
        client.delete(queue)
        if "flood" in only:
            print(f"a flood of slow clients (a byte a second), the server limited to {args.nofile} open files:")
            flood(root, args.slow, args.nofile, queue, args.pushes)
            client.delete(queue)
        if "sync" in only:
            print(f"sync times ({args.posts} posts; devto + mastodon targets, publishes queued):")
            syncs(root / "sync", args.posts, devto.url, masto.url, queue)
        client.delete(queue)
        for key in client.scan_iter("syndicate:hook:me/blog:*", count=1000):
            client.delete(key)


if __name__ == "__main__":
    main()
