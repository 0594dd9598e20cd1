"""The broker as a fault (issue 13.31, 13.32): vanished under real workers, hanging, or poisoned.

Real Celery worker processes reach a private Redis through a TCP proxy
(`tests/fakes/tcpproxy.py`) that drops every connection and refuses new ones
until told to resume; a broker that accepts connections and never answers is
the same proxy with nothing behind it. Waits are on conditions (what the
workers logged, what the fakes hold); the deadlines only stop a hang.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.engine import lease
from syndicate.registry import load_config
from syndicate.state.ledger import Ledger
from tests.fakes.devto import FakeDevTo
from tests.fakes.tcpproxy import TcpProxy
from tests.harness import RedisServer, write_config, write_site
from tests.test_worker import cli, logs, state_counts, targets, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
POSTS = 24


def test_the_visibility_timeout_is_the_longest_task_the_engine_allows(tmp_path: Path) -> None:
    from syndicate.engine.tasks import app, configure

    path = write_config(tmp_path, [], state_url="sqlite:///x.db", broker="redis://127.0.0.1:1/0")
    config = load_config(path)
    assert config.queue.visibility_timeout is None  # not left at an hour
    longest = lease.max_countdown(config) + lease.unit_limit(config)  # 120 s + 10 × 30 s
    assert lease.visibility_timeout(config) == pytest.approx(longest * 1.1) == pytest.approx(462)
    assert lease.stale_after(config) == pytest.approx(462 + 60)
    configure(config)
    assert app.conf.broker_transport_options["visibility_timeout"] == 462
    set_here = write_config(tmp_path, [], state_url="sqlite:///x.db", broker="redis://127.0.0.1:1/0",
                            queue={"visibility_timeout": "20m"})
    assert lease.visibility_timeout(load_config(set_here)) == 1200 and lease.max_countdown(load_config(set_here)) == 120


def test_push_and_watch_give_up_on_a_broker_that_never_answers(tmp_path: Path) -> None:
    with TcpProxy(None) as silent, FakeDevTo() as devto:
        write_site(tmp_path, 1)
        config = write_config(tmp_path, targets(devto, None), state_url=f"sqlite:///{tmp_path / 'state.db'}",
                              broker=silent.url(db=0))
        for args in (("push", str(tmp_path / "content")), ("watch", "--once")):
            done = cli(config, *args, timeout=90)  # the deadline only stops a hang: the check has its own
            assert done.returncode == 2, done.stdout + done.stderr
            assert "does not answer" in done.stderr and "did not answer PING within 5s" in done.stderr, done.stderr
        assert silent.accepted >= 2 and not devto.requests


def test_push_says_so_when_the_broker_goes_away_while_it_queues(tmp_path: Path) -> None:
    broker = RedisServer(tmp_path / "redis")
    broker.start()
    try:
        with TcpProxy(broker.port) as proxy, FakeDevTo() as devto:
            write_site(tmp_path, 3)
            config = write_config(tmp_path, targets(devto, None), state_url=f"sqlite:///{tmp_path / 'state.db'}",
                                  broker=proxy.url(db=0))
            proxy.refuse_after(1)  # the broker check gets through; then Redis is gone
            done = cli(config, "push", str(tmp_path / "content"), timeout=90)
            assert done.returncode == 1, done.stdout + done.stderr
            assert "stopped answering while queueing" in done.stderr and "Traceback" not in done.stderr, done.stderr
            proxy.resume()
            again = cli(config, "push", str(tmp_path / "content"), "--json", timeout=90)
            assert again.returncode == 0 and len(json.loads(again.stdout)["results"]) == 3, again.stderr
    finally:
        broker.stop()


def test_a_worker_that_dies_of_an_error_exits_non_zero(tmp_path: Path) -> None:
    import redis

    broker = RedisServer(tmp_path / "redis")
    broker.start()
    try:
        # the queue's binding key holds something else: a Redis error that no reconnect can cure
        redis.Redis.from_url(broker.url).set("_kombu.binding.syndicate", "not a set")
        config = write_config(tmp_path, [], state_url=f"sqlite:///{tmp_path / 'state.db'}", broker=broker.url)
        done = cli(config, "worker", "--concurrency", "1", "--loglevel", "warning", timeout=90)
    finally:
        broker.stop()
    out = done.stdout + done.stderr
    assert "Unrecoverable error" in out, out[-3000:]
    assert done.returncode == 1, out[-3000:]  # not 0: a supervisor restarts it and the operator sees it


def test_workers_survive_a_broker_outage_and_nothing_is_stranded(tmp_path: Path, workers, pg_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # `status` lines unwrapped
    broker = RedisServer(tmp_path / "redis")
    broker.start()
    proxy = TcpProxy(broker.port)
    scale = 0.2  # dev.to's 10 creates per 30 s, 5 times shorter: tasks wait in the broker for their slot
    try:
        with FakeDevTo(time_scale=scale) as devto:
            write_site(tmp_path, POSTS)
            # no visibility_timeout, no stale_after: the defaults, derived from a 1 s [http] timeout
            config = write_config(tmp_path, targets(devto, None), state_url=pg_url, broker=proxy.url(),
                                  queue={"scan_interval": 1, "rate_time_scale": scale},
                                  extra=["[http]", 'timeout = "1s"'])
            assert cli(config, "push", str(tmp_path / "content")).returncode == 0
            w = workers(config, concurrency=8)
            w.start(1, beat=True)
            w.start(1)
            ledger = Ledger(pg_url, site="blog.example")
            wait_until(lambda: len(devto.articles) >= 6, 90, "the first creates",
                       lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")

            proxy.drop()  # Redis vanishes: every connection reset, new ones refused
            # each worker saw the broker go (its consumer, or the embedded beat when a reject in the consumer's
            # own loop is what met the refused connection), and reconnecting is under way: the outage is real
            wait_until(lambda: outage_seen(tmp_path), 90, "both workers to lose the broker and retry it",
                       lambda: logs(tmp_path))
            proxy.resume()

            status = cli(config, "status")
            assert "next slot in" not in status.stdout, status.stdout  # no promise about a lost countdown
            if state_counts(ledger).get("published") != POSTS:
                assert "the periodic job sends it again at" in status.stdout or "being sent by" in status.stdout

            wait_until(lambda: state_counts(ledger).get("published") == POSTS, 150, "every post published",
                       lambda: f"{state_counts(ledger)}\n{logs(tmp_path)}")
            assert all(p.poll() is None for p in w.procs), logs(tmp_path)  # alive, reconnected
            canon = [a["canonical_url"] for a in devto.articles.values()]
            assert len(canon) == POSTS == len(set(canon))  # each post created once
            rows = ledger.all()
            assert all(r.remote_url for r in rows)
            ledger.dispose()
    finally:
        proxy.close()
        broker.stop()


LOST = ("Cannot connect to", "Connection to broker lost", "beat: Connection error")


def outage_seen(tmp_path: Path) -> bool:
    texts = [p.read_text(errors="replace") for p in sorted(tmp_path.glob("worker-*.log"))]
    return (len(texts) == 2 and all(any(s in t for s in LOST) for t in texts)
            and any(t.count("Cannot connect to") >= 2 for t in texts))


def test_status_of_a_queued_row_names_a_time_the_periodic_job_keeps(tmp_path: Path, pg_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With no worker at all: the row waits, and `status` says when the periodic job sends it again."""
    monkeypatch.setenv("COLUMNS", "400")
    broker = RedisServer(tmp_path / "redis")
    broker.start()
    try:
        with FakeDevTo() as devto:
            write_site(tmp_path, 1)
            config = write_config(tmp_path, targets(devto, None), state_url=pg_url, broker=broker.url,
                                  queue={"stale_after": "10m"})
            out = cli(config, "push", str(tmp_path / "content"), "--json")
            assert json.loads(out.stdout)["results"][0]["status"] == "queued"
            ledger = Ledger(pg_url, site="blog.example")
            (row,) = ledger.all()
            ledger.update(row.post_id, row.target, last_error="rate limit (create): next slot in 89.9s",
                          error_kind="rate-limited")
            status = cli(config, "status").stdout
            assert "next slot in" not in status and "last try" in status and "rate limited" in status, status
            waited = ledger.get(row.post_id, row.target)
            assert waited is not None and waited.updated_at is not None
            due = (waited.updated_at + timedelta(minutes=10)).strftime("%H:%M:%S")
            assert f"the periodic job sends it again at {due} UTC" in status, status
            ledger.dispose()
    finally:
        broker.stop()

