"""Chaos: 200 posts to 2 fake platforms through real workers while everything fails.

The fakes inject 5xx, 429 with Retry-After, timeouts and lost responses (the
post is committed, then the connection drops); worker processes are SIGKILLed
at random moments and restarted; the Redis broker is restarted once. At the
end every post is on every fake exactly once, and the ledger agrees.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from syndicate.state.ledger import Ledger
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.harness import RedisServer, write_config, write_site
from tests.test_worker import cli, logs, state_counts, targets

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]
POSTS = 200
DEADLINE = 300  # seconds for the whole run; it normally takes well under half


@pytest.mark.timeout(DEADLINE + 120)
def test_every_post_exactly_once_on_every_platform_under_chaos(tmp_path: Path, pg_url: str, workers) -> None:
    rng = random.Random(20261128)
    broker = RedisServer(tmp_path / "redis")
    broker.start()
    scale = 0.05  # the platforms' rate windows, 20 times shorter: dev.to 10 creates per 1.5 s
    try:
        with FakeDevTo(time_scale=scale) as devto, FakeMastodon(time_scale=scale) as masto:
            write_site(tmp_path, POSTS)
            config = write_config(
                tmp_path, targets(devto, masto), state_url=pg_url, broker=broker.url,
                queue={"visibility_timeout": 10, "scan_interval": 1, "stale_after": 12, "lease_seconds": 6,
                       "rate_time_scale": scale},
                extra=["[http]", "timeout = 1.5"],
            )
            queued = cli(config, "push", str(tmp_path / "content"))
            assert queued.returncode == 0, queued.stderr
            for fake in (devto, masto):
                fake.chaos(p_5xx=0.06, p_429=0.04, p_timeout=0.03, p_lost=0.06, seed=rng.randrange(1 << 30), timeout=2.5)

            w = workers(tmp_path / "syndicate.toml", concurrency=8)
            w.start(1, beat=True)
            w.start(1)
            ledger = Ledger(pg_url, site="blog.example")
            started = time.monotonic()
            kills = revived = 0
            restarted_redis = False
            while time.monotonic() - started < DEADLINE:
                counts = state_counts(ledger)
                print(f"{time.monotonic() - started:6.1f}s {counts} workers={len(w.procs)} kills={kills} "
                      f"revived={revived}", flush=True)
                if counts.get("published") == 2 * POSTS:
                    break
                time.sleep(rng.uniform(1.5, 4.0))
                revived += w.revive()
                if kills < 6:
                    had_beat = w.kill_one(rng.randrange(len(w.procs)))
                    kills += 1
                    w.start(1, beat=had_beat)  # the replacement takes the periodic jobs over
                if not restarted_redis and time.monotonic() - started > 12:
                    broker.restart()
                    restarted_redis = True
            else:
                pytest.fail(f"not all published after {DEADLINE}s: {state_counts(ledger)}\n{logs(tmp_path)}")

            for fake in (devto, masto):
                fake.calm()
            assert kills >= 3 and restarted_redis

            # every post exactly once on each platform
            canon = sorted(a["canonical_url"] for a in devto.articles.values())
            assert len(canon) == POSTS and len(set(canon)) == POSTS
            texts = [s["text"] for s in masto.live]
            assert len(texts) == POSTS
            urls = {f"https://blog.example/posts/post-{i:04d}/" for i in range(POSTS)}
            assert set(canon) == urls
            assert {u for u in urls if any(u in t for t in texts)} == urls

            # the ledger agrees with the platforms
            rows = ledger.all()
            assert len(rows) == 2 * POSTS and {r.state for r in rows} == {"published"}
            by_target = {t: {r.remote_id for r in rows if r.target == t} for t in ("devto", "mastodon")}
            assert by_target["devto"] == {str(a["id"]) for a in devto.articles.values()}
            assert by_target["mastodon"] == {s["id"] for s in masto.live}
            ledger.dispose()
    finally:
        broker.stop()
