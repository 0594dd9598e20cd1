"""How fast the shared rate limiter answers: one round trip per `acquire` / `observe`.

Run: .venv/bin/python bench/bench_ratelimit.py [redis-url]  (default redis://127.0.0.1:6379/15; ~10 s)
"""
from __future__ import annotations

import multiprocessing
import sys
import time
import uuid

import redis

from syndicate.contract import RateLimit, RateLimited
from syndicate.state.ratelimit import RateLimiter, Throttle, account_key

MASTODON = (RateLimit("request", 300, 300), RateLimit("media", 30, 1800))
BLUESKY = (
    RateLimit("write-points:create", 5000, 3600, cost=3),
    RateLimit("write-points:create", 35000, 86400, cost=3),
)


def _rate(label: str, n: int, seconds: float) -> None:
    print(f"{label:<44} {n / seconds:>9,.0f}/s  {seconds / n * 1e6:>7.0f} µs each")


def _latency(label: str, samples: list[float]) -> None:
    samples.sort()
    p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99)]
    print(f"{label:<44} p50 {p50 * 1e6:>6.0f} µs  p99 {p99 * 1e6:>6.0f} µs")


def _before(throttle: Throttle, kind: str) -> tuple[float, bool]:
    t0 = time.perf_counter()
    try:
        throttle.before(kind)
        granted = True
    except RateLimited:
        granted = False
    return time.perf_counter() - t0, granted


def _worker(url: str, ns: str, n: int, out: multiprocessing.Queue) -> None:
    rl = RateLimiter(url, ns)
    a = account_key("mastodon", "https://bench.example", "t")
    t0 = time.perf_counter()
    granted = sum(rl.acquire(a, "create", MASTODON) == 0.0 for _ in range(n))
    out.put((granted, time.perf_counter() - t0))


def main(url: str) -> None:
    ns = f"bench:rl:{uuid.uuid4().hex[:8]}"
    rl = RateLimiter(url, ns)
    n = 5000
    try:
        accounts = [account_key("mastodon", f"https://m{i}.example", "t") for i in range(n)]
        t0 = time.perf_counter()
        for a in accounts:
            rl.acquire(a, "create", MASTODON)
        _rate("acquire, granted (2 windows)", n, time.perf_counter() - t0)

        a = accounts[0]
        for _ in range(300):
            rl.acquire(a, "create", MASTODON)
        t0 = time.perf_counter()
        for _ in range(n):
            rl.acquire(a, "create", MASTODON)
        _rate("acquire, refused (full 300-entry window)", n, time.perf_counter() - t0)

        bs = [account_key("bluesky", f"https://p{i}.example", "t") for i in range(n)]
        t0 = time.perf_counter()
        for b in bs:
            rl.acquire(b, "create", BLUESKY)
        _rate("acquire, Bluesky points (cost 3, 2 windows)", n, time.perf_counter() - t0)

        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "12",
                   "X-RateLimit-Reset": "2030-01-01T00:00:00Z"}
        t0 = time.perf_counter()
        for a in accounts:
            rl.observe(a, headers, 200)
        _rate("observe (pacing set)", n, time.perf_counter() - t0)

        fresh = [Throttle(rl, account_key("mastodon", f"https://t{i}.example", "t"), MASTODON) for i in range(n)]
        timed = [_before(t, "create") for t in fresh]
        _latency("Throttle.before, granted (fresh accounts)", [s for s, _ in timed])
        one = Throttle(rl, account_key("mastodon", "https://busy.example", "t"), MASTODON)
        timed = [_before(one, "create") for _ in range(n)]
        _latency("Throttle.before, one paced account", [s for s, _ in timed])
        print(f"  granted {sum(g for _, g in timed)} of {n}")

        ctx = multiprocessing.get_context("spawn")
        out: multiprocessing.Queue = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(url, ns + "p", 3000, out)) for _ in range(3)]
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        granted = sum(g for g, _ in results)
        slowest = max(s for _, s in results)
        _rate("acquire, 3 processes on one account", 9000, slowest)
        print(f"  granted {granted} of 9000 (window allows 300 per 300 s)")
    finally:
        client = redis.Redis.from_url(url)
        for pattern in (f"{ns}:*", f"{ns}p:*"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            for i in range(0, len(keys), 1000):
                client.delete(*keys[i : i + 1000])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/15")
