"""The in-process push (no broker) with one slow platform: serial as before, against concurrent targets.

Usage: .venv/bin/python bench/bench_inline.py [POSTS] [SLOW_SECONDS]

21 posts (default) to dev.to and Mastodon, Mastodon answering every request in SLOW_SECONDS
(default 0.3 s; issue 13 saw 70 s). The fakes run in a child process, so that their CPU is
not counted. Printed per mode: wall time, when dev.to's last row was done, and this
process's CPU per (post, target), with the embedded rate limiter in the ledger (SQLite).
Also: CPU per `acquire` of the embedded limiter, on a SQLite ledger file.
"""
from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syndicate.content.loader import load_post
from syndicate.engine import inline
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from tests.harness import write_config, write_site

POSTS = int(sys.argv[1]) if len(sys.argv) > 1 else 21
SLOW = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3


def serve(pipe: Any, slow: float) -> None:
    from tests.fakes.devto import FakeDevTo
    from tests.fakes.mastodon import FakeMastodon

    with FakeDevTo() as devto, FakeMastodon(latency=slow) as masto:
        pipe.send((devto.url, masto.url))
        pipe.recv()


def one_mode(concurrent: bool) -> tuple[float, float, float]:
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=serve, args=(child, SLOW), daemon=True)
    proc.start()
    devto_url, masto_url = parent.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            paths = write_site(root, POSTS)
            config = write_config(root, [
                "[targets.devto]", 'api_key = "devto-test-key"', f'base_url = "{devto_url}"', "",
                "[targets.mastodon]", f'base_url = "{masto_url}"', 'access_token = "mastodon-test-token"',
            ], state_url=f"sqlite:///{root / 'ledger.db'}", extra=["[queue]", "rate_time_scale = 0.01"])
            syn = Syndicator(load_config(config))
            posts = [load_post(p, syn.config.site) for p in paths]
            devto_done = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            if concurrent:
                def unit(post: Any, target: str, sleep: Any) -> Any:
                    nonlocal devto_done
                    out = syn.run_inline(post, target, sleep=sleep)
                    if target == "devto":
                        devto_done = time.perf_counter() - wall
                    return out

                run = inline.run(syn, posts, ["devto", "mastodon"], unit=unit)
                assert all(o.status == "done" for o in run.outcomes), [o.as_dict() for o in run.outcomes]
            else:
                for post in posts:
                    for target in ("devto", "mastodon"):
                        assert syn.run_inline(post, target).status == "done"
                        if target == "devto":
                            devto_done = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - wall
            syn.ledger.dispose()
            return wall, devto_done, cpu / (2 * POSTS) * 1e6
    finally:
        parent.send("stop")
        proc.join(10)


def limiter_cost(rounds: int = 2000) -> float:
    from syndicate.contract import RateLimit
    from syndicate.state.ledger.store import Ledger
    from syndicate.state.ratesql import SqlRateLimiter

    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'ledger.db'}", site="bench.example")
        rl = SqlRateLimiter(ledger.engine)
        rates = [RateLimit("create", 10**9, 30), RateLimit("request", 10**9, 300)]
        start = time.process_time()
        for i in range(rounds):
            rl.acquire(f"acct{i % 4}", "create", rates)
        cost = (time.process_time() - start) / rounds * 1e6
        ledger.dispose()
        return cost


def main() -> None:
    print(f"{POSTS} posts x (dev.to, Mastodon at {SLOW:g} s per request), SQLite ledger, embedded limiter")
    for name, concurrent in (("serial (before)", False), ("concurrent targets", True)):
        wall, devto_done, cpu = one_mode(concurrent)
        print(f"  {name:20s} wall {wall:6.2f} s   dev.to's rows done at {devto_done:6.2f} s   "
              f"CPU {cpu:7.0f} µs per (post, target)")
    print(f"  embedded limiter: {limiter_cost():.0f} µs CPU per acquire (SQLite file)")


if __name__ == "__main__":
    main()
