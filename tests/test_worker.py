"""Celery workers as real processes, a real Redis broker, the ledger on real PostgreSQL.

Redeliveries after a SIGKILL, duplicate deliveries racing for one row, long
waits deferred into the ledger and brought back by the periodic job, future
posts published when their date comes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate.state.ledger import Ledger
from tests.conftest import WORKER_ENV
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.harness import ROOT, RedisServer, write_config, write_site

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
ENV = WORKER_ENV


def targets(devto: FakeDevTo | None, masto: FakeMastodon | None) -> list[str]:
    out = []
    if devto is not None:
        out += ["[targets.devto]", 'api_key = "${DEVTO_API_KEY}"', f'base_url = "{devto.url}"', ""]
    if masto is not None:
        out += ["[targets.mastodon]", f'base_url = "{masto.url}"', 'access_token = "${MASTODON_ACCESS_TOKEN}"', ""]
    return out


def cli(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "SYNDICATE_CONFIG": str(config)}
    env.pop("SYNDICATE_BROKER_URL", None)
    return subprocess.run([sys.executable, "-m", "syndicate.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def wait_until(check: Callable[[], bool], timeout: float, what: str, on_fail: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_fail()}")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(tmp_path.glob("worker-*.log")))


def state_counts(ledger: Ledger) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in ledger.all():
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


def test_push_with_a_broker_queues_and_workers_publish_each_post_once(tmp_path, broker, workers, pg_url) -> None:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        write_site(tmp_path, 10)  # dev.to allows 10 creates per 30 s; the shared limiter enforces it
        config = write_config(tmp_path, targets(devto, masto), state_url=pg_url, broker=broker.url,
                              queue={"visibility_timeout": 20, "scan_interval": 1})
        result = cli(config, "push", str(tmp_path / "content"), "--json")
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)["results"]) == 20
        w = workers(config, concurrency=4)
        w.start(1, beat=True)
        w.start(1)
        ledger = Ledger(pg_url, site="blog.example")
        wait_until(lambda: state_counts(ledger).get("published") == 20, 60, "20 published rows",
                   lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
        assert len(devto.articles) == 10 and len(masto.live) == 10
        # a second push of unchanged posts queues nothing that would send
        again = cli(config, "push", str(tmp_path / "content"), "--json")
        assert json.loads(again.stdout)["results"] == []
        ledger.dispose()


def test_duplicate_deliveries_race_and_exactly_one_publishes(tmp_path, broker, workers, pg_url) -> None:
    """The same (post, target) handed to many workers at once: the row claim lets one through."""
    with FakeDevTo(latency=0.3) as devto, FakeMastodon(latency=0.3) as masto:
        write_site(tmp_path, 6)
        config = write_config(tmp_path, targets(devto, masto), state_url=pg_url, broker=broker.url,
                              queue={"visibility_timeout": 20, "scan_interval": 1})
        for _ in range(4):  # every task queued four times
            assert cli(config, "push", str(tmp_path / "content"), "--force").returncode == 0
        w = workers(config, concurrency=8)
        w.start(3)
        ledger = Ledger(pg_url, site="blog.example")
        wait_until(lambda: state_counts(ledger).get("published") == 12, 90, "12 published rows",
                   lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
        time.sleep(2)  # let the duplicates drain
        canon = [a["canonical_url"] for a in devto.articles.values()]
        assert len(canon) == 6 == len(set(canon))
        texts = [s["text"] for s in masto.live]
        assert len(texts) == 6 == len(set(texts))
        assert sum(1 for r in devto.requests if r.method == "POST") == 6
        ledger.dispose()


def test_a_killed_worker_task_is_redelivered_and_not_duplicated(tmp_path, broker, workers, pg_url) -> None:
    with FakeMastodon() as masto:
        write_site(tmp_path, 1)
        config = write_config(tmp_path, targets(None, masto), state_url=pg_url, broker=broker.url,
                              queue={"visibility_timeout": 6, "scan_interval": 1, "stale_after": 4,
                                     "lease_seconds": 5})
        masto.delay_next(1, seconds=4, method="POST", path="/api/v1/statuses")  # the create hangs...
        assert cli(config, "push", str(tmp_path / "content")).returncode == 0
        w = workers(config, concurrency=2)
        w.start(1)
        wait_until(lambda: any(r.method == "POST" for r in masto.requests), 30, "the create to start",
                   lambda: logs(tmp_path))
        w.kill_one(0)  # ...and the worker dies inside it (SIGKILL)
        w.start(1, beat=True)
        ledger = Ledger(pg_url, site="blog.example")
        wait_until(lambda: state_counts(ledger).get("published") == 1, 60, "the redelivered task",
                   lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
        assert len(masto.live) == 1  # the hung create landed once; the redelivery found it (Idempotency-Key)
        ledger.dispose()


def test_a_long_rate_limit_is_deferred_to_the_ledger_and_brought_back(tmp_path, broker, workers, pg_url) -> None:
    with FakeDevTo() as devto:
        write_site(tmp_path, 1)
        config = write_config(tmp_path, targets(devto, None), state_url=pg_url, broker=broker.url,
                              queue={"visibility_timeout": 8, "scan_interval": 1})
        devto.rate_limit_next(1, retry_after=3600, method="POST")
        assert cli(config, "push", str(tmp_path / "content")).returncode == 0
        w = workers(config, concurrency=2)
        w.start(1)
        ledger = Ledger(pg_url, site="blog.example")
        wait_until(lambda: state_counts(ledger).get("deferred") == 1, 30, "the deferral",
                   lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
        row = ledger.all()[0]
        assert row.deferred_until is not None
        assert row.deferred_until > datetime.now(UTC) + timedelta(minutes=50)  # not a countdown in the broker
        out = cli(config, "status")
        assert "deferred" in out.stdout and "rate limit" in out.stdout
        # the shared limiter remembered the platform's hour too
        import redis

        client = redis.Redis.from_url(broker.url)
        pauses = list(client.scan_iter(match="syndicate:rl:*pause"))
        assert pauses and 3000 < client.pttl(pauses[0]) / 1000 <= 3600
        # the hour passes (moved, not waited): the periodic job enqueues it again
        client.delete(*pauses)
        ledger.update(row.post_id, row.target, deferred_until=datetime.now(UTC) - timedelta(seconds=1))
        w.start(1, beat=True)
        wait_until(lambda: state_counts(ledger).get("published") == 1, 40, "the due job",
                   lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
        assert len(devto.articles) == 1
        ledger.dispose()


def test_a_future_post_is_published_by_the_periodic_job_when_due(tmp_path, broker, workers, pg_url) -> None:
    with FakeMastodon() as masto:
        (tmp_path / "content" / "posts").mkdir(parents=True)
        post = tmp_path / "content" / "posts" / "soon.md"
        when = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        post.write_text(f"---\ntitle: Soon\ndate: {when}\n---\n\nComing up.\n", encoding="utf-8")
        config = write_config(tmp_path, targets(None, masto), state_url=pg_url, broker=broker.url,
                              queue={"visibility_timeout": 20, "scan_interval": 1})
        out = cli(config, "push", str(tmp_path / "content"), "--json")
        assert json.loads(out.stdout)["results"][0]["status"] == "deferred"
        ledger = Ledger(pg_url, site="blog.example")
        assert state_counts(ledger) == {"deferred": 1}
        w = workers(config, concurrency=2)
        w.start(1, beat=True)
        # time passes (no clock is waited on): the post's hour comes, as the file and the ledger say
        past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        post.write_text(f"---\ntitle: Soon\ndate: {past}\n---\n\nComing up.\n", encoding="utf-8")
        (row,) = ledger.all()
        assert not masto.live
        ledger.update(row.post_id, row.target, deferred_until=datetime.now(UTC) - timedelta(seconds=1))
        wait_until(lambda: state_counts(ledger).get("published") == 1, 60, "the due post",
                   lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
        assert len(masto.live) == 1
        ledger.dispose()


def test_workers_give_the_document_the_ref_of_a_later_bluesky_post(tmp_path, broker, workers, pg_url,
                                                                   monkeypatch) -> None:
    """standard.site's bskyPostRef through Celery: a Bluesky post a worker makes after the document asks
    for the document's task (`syndicate.engine.follow`), which updates it in place; and with both targets
    queued at once, in whatever order the workers take them, every document ends naming its Bluesky post."""
    from tests.fakes.bluesky import HANDLE
    from tests.fakes.standard_site import DOCUMENT, FakeStandardSite

    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "worker-app-pass")
    with FakeStandardSite("worker-app-pass") as pds:
        account = [f'base_url = "{pds.url}"', f'identifier = "{HANDLE}"', 'app_password = "${BLUESKY_APP_PASSWORD}"']
        paths = write_site(tmp_path, 4)
        config = write_config(tmp_path, ["[targets.standard_site]", *account, "", "[targets.bluesky]", *account],
                              state_url=pg_url, broker=broker.url, queue={"visibility_timeout": 20, "scan_interval": 1})
        content = str(tmp_path / "content")
        ledger = Ledger(pg_url, site="blog.example")

        def published(target: str) -> int:
            return sum(r.state == "published" for r in ledger.all() if r.target == target)

        def refs() -> dict[str, dict[str, str] | None]:
            """Each post's document's bskyPostRef, by post id; only posts with a recorded document."""
            out: dict[str, dict[str, str] | None] = {}
            for row in ledger.all():
                if row.target == "standard_site" and row.state == "published" and row.remote_id:
                    doc = pds.documents.get(row.remote_id.rsplit("/", 1)[1]) or {}
                    out[row.post_id] = doc.get("bskyPostRef")
            return out

        def announced() -> dict[str, dict[str, str]]:
            return {r.post_id: {"uri": str(r.remote_id), "cid": str(r.remote_extra.get("cid"))}
                    for r in ledger.all() if r.target == "bluesky" and r.state == "published"}

        w = workers(config, concurrency=4)
        w.start(2)
        # the documents first, then (a later push) the Bluesky posts
        first = [str(p) for p in paths[:2]]
        assert cli(config, "push", *first, "--to", "standard_site").returncode == 0
        wait_until(lambda: published("standard_site") == 2, 60, "2 documents", lambda: logs(tmp_path))
        assert set(map(str, refs().values())) == {"None"}
        assert cli(config, "push", *first, "--to", "bluesky").returncode == 0
        wait_until(lambda: published("bluesky") == 2 and refs() == announced(), 60,
                   "the documents to name the Bluesky posts", lambda: f"{refs()}\n{announced()}\n{logs(tmp_path)}")
        # both targets at once: the workers take the tasks in any order
        result = cli(config, "push", content)
        assert result.returncode == 0, result.stderr
        wait_until(lambda: published("bluesky") == 4 and refs() == announced() and len(refs()) == 4, 60,
                   "every document to name its Bluesky post", lambda: f"{refs()}\n{announced()}\n{logs(tmp_path)}")
        assert len(pds.documents) == 4 and len(pds.of("app.bsky.feed.post")) == 4
        assert all(r.state == "published" for r in ledger.all())
        assert DOCUMENT in {k[0] for k in pds.repo}
        ledger.dispose()
