"""A lean task (issue 17): what one (post, target) costs the worker in statements and round trips.

Regression guards on counts, not timings: the statements one unit sends to the ledger (a
`before_cursor_execute` listener, on SQLite and on real PostgreSQL) and its round trips to the
real Redis (every client's commands, counted as they go). The speed itself is measured by
`bench/bench_worker.py overhead` against a no-op task, never here.
"""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.counting import RoundTrips, unit_counts
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Reply, Request

pytestmark = [pytest.mark.redis]


def test_a_new_post_costs_at_most_four_statements_and_one_limiter_call(
        tmp_path: Path, ledger_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    with FakeMastodon() as masto:
        counts = unit_counts(tmp_path, state_url=ledger_url, redis_url=redis_url, masto_url=masto.url, posts=3)
        assert len(masto.statuses) == 3
    # claim (UPDATE ... RETURNING the row), intent, result (which also lets the lease go)
    assert counts["sql_new"] <= 4, counts["statements_new"]
    assert all(s.startswith("UPDATE") for s in counts["statements_new"]), counts["statements_new"]
    # the limiter: one script call per attempt, nothing else on Redis
    assert counts["redis_new"] == 1, counts["commands_new"]
    assert counts["commands_new"] in (["EVALSHA"], ["EVAL"]), counts["commands_new"]


def test_an_unchanged_post_is_claimed_and_let_go_and_nothing_else(
        tmp_path: Path, ledger_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    with FakeMastodon() as masto:
        counts = unit_counts(tmp_path, state_url=ledger_url, redis_url=redis_url, masto_url=masto.url, posts=2)
        assert len(masto.statuses) == 2  # each sent once: the second attempts were skips
    assert counts["sql_unchanged"] <= 2, counts["statements_unchanged"]
    assert counts["redis_unchanged"] == 0


class CountingMastodon(FakeMastodon):
    """Mastodon as it really answers: its X-RateLimit-* headers on every response, plenty left."""

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        reset = datetime.fromtimestamp(time.time() + 300, UTC).isoformat(timespec="milliseconds")
        return replace(reply, headers={**reply.headers, "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "290",
                                       "X-RateLimit-Reset": reset.replace("+00:00", "Z")})


def test_headers_that_say_plenty_left_cost_no_round_trip_of_their_own(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    with CountingMastodon() as masto:
        counts = unit_counts(tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}", redis_url=redis_url,
                             masto_url=masto.url, posts=3)
    # the "calm" the headers say rides along in the next attempt's one script call
    assert counts["redis_new"] == 1, counts["commands_new"]


def test_the_calm_the_next_acquire_carries_lifts_the_spacing_a_header_set(redis_url: str) -> None:
    """Deferred, the calm still does what an immediate one does: the next grant is not spaced."""
    from syndicate.state.ratelimit import RateLimiter

    clock = [1000.0]
    rl = RateLimiter(redis_url, namespace=f"lean{time.time_ns()}", clock=lambda: clock[0])
    a = "mastodon:https://lean.example:abc"
    rl.observe(a, {"RateLimit-Limit": "100", "RateLimit-Remaining": "4", "RateLimit-Reset": "2"}, 200,
               defer_calm=True)  # low: goes out at once, whatever `defer_calm` says
    assert rl.acquire(a, "create", ()) == pytest.approx(0.5)
    with RoundTrips() as rt:
        assert rl.observe(a, {"RateLimit-Limit": "100", "RateLimit-Remaining": "80", "RateLimit-Reset": "2"}, 200,
                          defer_calm=True) == 0
    assert rt.count == 0
    with RoundTrips() as rt:
        assert rl.acquire(a, "create", ()) == 0.0  # lifted in this call
        assert rl.acquire(a, "create", ()) == 0.0
    assert rt.count == 2


def test_a_post_is_read_once_for_all_its_targets_and_again_when_its_file_changes(tmp_path: Path) -> None:
    from syndicate.engine import tasks
    from syndicate.registry import load_config
    from tests.harness import write_config, write_site

    [path] = write_site(tmp_path, 1)
    site = load_config(write_config(tmp_path, [], state_url=f"sqlite:///{tmp_path / 'state.db'}")).site
    first = tasks._load_post(path, site)
    assert tasks._load_post(path, site) is first  # the other target's task: the same post, parsed once
    path.write_text(path.read_text(encoding="utf-8").replace("Body of post", "Edited body of post"), encoding="utf-8")
    edited = tasks._load_post(path, site)
    assert edited is not first and "Edited body" in edited.body
