"""Rate limits shared through the real Redis: windows, atomicity, headers, overrides.

Most tests drive the limiter with an injected clock (`Clock`), so that nothing
depends on how fast this machine runs; a few use the Redis server's own clock
with assertions that hold however slow the machine is.
"""
from __future__ import annotations

import email.utils
import math
import multiprocessing
import os
import pickle
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from syndicate.config import Secret
from syndicate.contract import RateLimit, RateLimited, Transient
from syndicate.state.ratelimit import (
    DEFAULT_PAUSE,
    MAX_PAUSE,
    RateLimiter,
    RateSpecError,
    Throttle,
    account_key,
    effective_rates,
    margin,
    parse_rate,
    read_headers,
)

URL = os.environ.get("SYNDICATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.redis


@pytest.fixture
def ns() -> Iterator[str]:
    name = f"test:rl:{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(URL)
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)


class Clock:
    """A clock that moves only when told (seconds since the epoch)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rl(ns: str, clock: Clock) -> RateLimiter:
    return RateLimiter(URL, ns, pace=False, clock=clock)  # the bare windows; pacing has tests of its own


def acct() -> str:
    return account_key("devto", "https://dev.to", uuid.uuid4().hex)


# --- windows ------------------------------------------------------------------------


def test_window_enforced_and_frees_after_its_length(rl: RateLimiter, clock: Clock) -> None:
    a, rates = acct(), (RateLimit("create", 3, 1),)
    assert [rl.acquire(a, "create", rates) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rl.acquire(a, "create", rates)
    assert wait == pytest.approx(1.0 + margin(1))
    clock.advance(0.4)
    assert rl.acquire(a, "create", rates) == pytest.approx(wait - 0.4)  # refusals take nothing
    clock.advance(wait - 0.4 - 0.01)
    assert rl.acquire(a, "create", rates) == pytest.approx(0.01)  # a moment early is still early
    clock.advance(0.011)  # just past the margin
    assert rl.acquire(a, "create", rates) == 0.0


def test_the_redis_clock_is_used_without_an_injected_one(ns: str) -> None:
    real = RateLimiter(URL, ns, pace=False)
    a, rates = acct(), (RateLimit("create", 1, 60),)
    assert real.acquire(a, "create", rates) == 0.0
    assert 0 < real.acquire(a, "create", rates) <= 60 + margin(60)  # holds however slow the machine is
    server = redis.Redis.from_url(URL).time()
    assert real.stats(a, rates[0]).reset_time <= server[0] + 1 + 60 + margin(60)


# --- pacing (the default): grants spread out, waiters queued ---------------------------


def test_paced_after_a_burst_of_the_window_and_each_waiter_gets_its_own_slot(ns: str, clock: Clock) -> None:
    paced = RateLimiter(URL, ns, clock=clock)
    a, rates = acct(), (RateLimit("create", 4, 2),)
    waits = [paced.acquire(a, "create", rates) for _ in range(7)]
    # a quiet account may use its window at once (a backfill is not slowed below the platform's rule)...
    assert waits[:3] == [0.0, 0.0, 0.0] and 3 <= waits.count(0.0) <= 4
    # ...then each caller its own later slot: no herd waking at once
    later = [w for w in waits if w > 0]
    assert len(later) >= 3 and later == sorted(later) and len(set(later)) == len(later)


def test_a_waiter_that_comes_back_at_its_slot_is_let_through(ns: str, clock: Clock) -> None:
    paced = RateLimiter(URL, ns, clock=clock)
    a, rates = acct(), (RateLimit("create", 1, 1),)  # one a second: no burst, the next caller waits
    assert paced.acquire(a, "create", rates) == 0.0
    wait = paced.acquire(a, "create", rates)
    assert wait > 0
    clock.advance(wait - 0.1)
    assert paced.acquire(a, "create", rates) > 0  # too early: a slot of its own, further on
    clock.advance(0.1)
    assert paced.acquire(a, "create", rates) == 0.0  # consumes its reserved slot


def test_paced_grants_never_exceed_the_window(ns: str, clock: Clock) -> None:
    paced = RateLimiter(URL, ns, time_scale=0.1, clock=clock)
    a, rates = acct(), (RateLimit("create", 10, 30),)  # 10 per 3 s
    grants: list[float] = []
    start = clock.now
    while clock.now < start + 9:
        wait = paced.acquire(a, "create", rates)
        if wait == 0.0:
            grants.append(clock.now)
            clock.advance(0.001)  # the call itself
        else:
            clock.advance(wait)  # as a task does: it comes back when told
    window = 3 + margin(3)
    assert len(grants) >= 9 / window * 10 - 1
    # (grants exactly one window apart are within the rule: the window is open at its old end)
    assert all(sum(1 for g in grants if t <= g < t + window - 1e-6) <= 10 for t in grants)
    # a burst takes at most the window's amount but one; past it, grants come one spacing apart
    assert all(sum(1 for g in grants if t <= g < t + 0.2) <= 10 for t in grants)
    assert len(grants) <= 9 / window * 10 + 10


def test_many_waiters_each_get_a_distinct_slot_in_order(ns: str, clock: Clock) -> None:
    paced = RateLimiter(URL, ns, clock=clock)
    a, rates = acct(), (RateLimit("create", 10, 10),)
    start = clock.now
    waits = [paced.acquire(a, "create", rates) for _ in range(30)]
    later = [w for w in waits if w > 0]
    assert len(later) >= 20  # at most the window's amount at once
    assert later == sorted(later) and len(set(later)) == len(later)  # a queue, not a herd
    grants = [start] * (30 - len(later))
    for w in later:  # every waiter comes back at its own slot
        clock.now = start + w
        if paced.acquire(a, "create", rates) == 0.0:
            grants.append(clock.now)
    assert len(grants) > 10  # waiters were let through at their slots, beyond the first window
    assert all(sum(1 for g in grants if t <= g < t + 10 + margin(10)) <= 10 for t in grants)


def test_kinds_are_separate_but_request_applies_to_all(rl: RateLimiter) -> None:
    a = acct()
    rates = (RateLimit("create", 2, 60), RateLimit("update", 10, 60), RateLimit("request", 4, 60))
    assert rl.acquire(a, "create", rates) == rl.acquire(a, "create", rates) == 0.0
    assert rl.acquire(a, "create", rates) > 0
    assert rl.acquire(a, "update", rates) == 0.0  # update has its own window...
    assert rl.acquire(a, "request", rates) == 0.0
    assert 0 < rl.acquire(a, "update", rates) <= 60 + margin(60)  # ...but the shared request window is full


def test_accounts_do_not_share(rl: RateLimiter) -> None:
    rates = (RateLimit("create", 1, 60),)
    a, b = acct(), acct()
    assert rl.acquire(a, "create", rates) == 0.0
    assert rl.acquire(a, "create", rates) > 0
    assert rl.acquire(b, "create", rates) == 0.0


def test_second_instance_sees_the_same_budget(ns: str) -> None:
    first = RateLimiter(URL, ns, pace=False)
    second = RateLimiter(redis.Redis.from_url(URL), ns, pace=False)  # another "worker", given a client
    a, rates = acct(), (RateLimit("update", 4, 60),)
    assert [first.acquire(a, "update", rates) for _ in range(3)] == [0.0] * 3
    assert second.acquire(a, "update", rates) == 0.0
    assert second.acquire(a, "update", rates) > 0
    assert first.acquire(a, "update", rates) > 0
    assert second.stats(a, rates[0]).remaining == 0


def test_wait_is_the_time_until_the_oldest_grant_leaves(rl: RateLimiter, clock: Clock) -> None:
    a, rates = acct(), (RateLimit("create", 2, 30),)
    rl.acquire(a, "create", rates)
    clock.advance(0.3)
    rl.acquire(a, "create", rates)
    wait = rl.acquire(a, "create", rates)
    assert wait == pytest.approx(30 + margin(30) - 0.3)  # the first grant, 0.3 s older, frees first
    assert rl.stats(a, rates[0]) == (pytest.approx(clock.now + wait), 0)


def test_time_scale_shrinks_windows(ns: str, clock: Clock) -> None:
    rl = RateLimiter(URL, ns, time_scale=0.1, pace=False, clock=clock)
    a, rates = acct(), (RateLimit("create", 10, 30),)  # dev.to: 10 per 30 s -> 10 per 3 s
    assert all(rl.acquire(a, "create", rates) == 0.0 for _ in range(10))
    assert rl.acquire(a, "create", rates) == pytest.approx(3.0 + margin(3))
    assert rl.seconds(300) == 30 and rl.seconds(1) == pytest.approx(0.1)  # a 1 s window shrinks too


def test_every_key_expires_and_clear_removes_them(rl: RateLimiter, ns: str) -> None:
    a = acct()
    rates = (RateLimit("create", 2, 5), RateLimit("request", 9, 7))
    rl.acquire(a, "create", rates)
    rl.observe(a, {"RateLimit-Limit": "100", "RateLimit-Remaining": "3", "RateLimit-Reset": "6"}, 200)
    rl.penalize(a, 4)
    client = redis.Redis.from_url(URL)
    keys = list(client.scan_iter(match=f"{ns}:*"))
    assert len(keys) == 5  # 2 windows, pause, pace, next
    assert all(0 < client.pttl(k) <= 7000 + margin(7) * 1000 for k in keys)
    assert rl.clear(a) == 5
    assert rl.acquire(a, "create", rates) == 0.0


def test_keys_live_under_our_own_prefix_and_layout(rl: RateLimiter, ns: str) -> None:
    a = acct()
    rates = (RateLimit("write-points:create", 30, 3600, cost=3), RateLimit("request", 9, 7))
    rl.acquire(a, "create", rates)
    names = sorted(k.decode() for k in redis.Redis.from_url(URL).scan_iter(match=f"{ns}:*"))
    tag = names[0].split(":")[len(ns.split(":"))]
    assert tag.startswith("{") and tag.endswith("}") and a not in "".join(names)  # the account is hashed
    assert names == [f"{ns}:{tag}:w:request:7", f"{ns}:{tag}:w:write-points:3600"]


def test_throttle_before_charges_a_cost(rl: RateLimiter) -> None:
    rates = (RateLimit("write-points:create", 10, 3600, cost=3),)  # Bluesky: a create is 3 points
    t = Throttle(rl, acct(), rates)
    t.before("create", cost=2)  # a thread of two posts: 6 points
    assert rl.stats(t.account, rates[0]).remaining == 4
    t.before("create")
    with pytest.raises(RateLimited):
        t.before("create")


# --- several windows at once -----------------------------------------------------


def test_refusal_by_one_window_leaks_no_slot_in_another(rl: RateLimiter) -> None:
    a = acct()
    rates = (RateLimit("create", 5, 60), RateLimit("request", 3, 60))
    for _ in range(3):
        assert rl.acquire(a, "update", rates) == 0.0  # fills only the request window
    assert rl.acquire(a, "create", rates) > 0  # refused by request...
    assert rl.stats(a, rates[0]).remaining == 5  # ...and create was not charged


def test_refusal_by_the_kind_window_leaks_no_request_slot(rl: RateLimiter) -> None:
    a = acct()
    rates = (RateLimit("create", 2, 60), RateLimit("request", 5, 60))
    for _ in range(2):
        assert rl.acquire(a, "create", rates) == 0.0
    for _ in range(4):
        assert rl.acquire(a, "create", rates) > 0
    granted = sum(rl.acquire(a, "request", rates) == 0.0 for _ in range(6))
    assert granted == 3  # 5 - the 2 creates: the 4 refusals took nothing


def test_shared_budget_with_costs_bluesky_write_points(rl: RateLimiter) -> None:
    a = acct()
    rates = (  # PLATFORMS.md: 5,000 points per hour, create 3, update 2, delete 1 (scaled to 10)
        RateLimit("write-points:create", 10, 3600, cost=3),
        RateLimit("write-points:update", 10, 3600, cost=2),
        RateLimit("write-points:delete", 10, 3600, cost=1),
    )
    assert [rl.acquire(a, "create", rates) for _ in range(3)] == [0.0] * 3  # 9 points
    assert rl.acquire(a, "create", rates) > 0
    assert rl.acquire(a, "update", rates) > 0
    assert rl.acquire(a, "delete", rates) == 0.0  # the 10th point
    assert rl.stats(a, rates[0]).remaining == 0
    assert rl.acquire(acct(), "create", rates, cost=3) == 0.0  # 3 posts of a thread: 9 points
    with pytest.raises(ValueError, match="costs 12"):
        rl.acquire(a, "create", rates, cost=4)


def test_large_costs_take_exactly_their_units(rl: RateLimiter) -> None:
    a, rates = acct(), (RateLimit("write-points:create", 3000, 60),)
    assert rl.acquire(a, "create", rates, cost=1500) == 0.0
    assert rl.stats(a, rates[0]).remaining == 1500
    assert rl.acquire(a, "create", rates, cost=1500) == 0.0
    assert rl.acquire(a, "create", rates, cost=1) > 0


GOAL = 24  # grants the three processes make together before they stop (three windows' worth)


def _hammer(ns: str, account: str, ready: Any, granted: Any, out: multiprocessing.Queue) -> None:
    limiter = RateLimiter(URL, ns, pace=False)
    rates = (RateLimit("create", 5, 1), RateLimit("request", 8, 1))
    grants: list[tuple[str, float, float]] = []
    ready.wait(timeout=120)  # every process imported and connected: start together
    deadline = time.monotonic() + 120  # a failsafe only: the loop ends on the goal
    while granted.value < GOAL and time.monotonic() < deadline:
        for kind in ("create", "update"):
            before = time.time()
            if limiter.acquire(account, kind, rates) == 0.0:
                grants.append((kind, before, time.time()))
                with granted.get_lock():
                    granted.value += 1
    out.put(grants)


def test_three_processes_never_exceed_any_window() -> None:
    ns, account = f"test:rl:{uuid.uuid4().hex[:10]}", acct()
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    ready, granted = ctx.Barrier(4), ctx.Value("i", 0)
    procs = [ctx.Process(target=_hammer, args=(ns, account, ready, granted, out)) for _ in range(3)]
    try:
        for p in procs:
            p.start()
        ready.wait(timeout=120)
        started = time.time()
        grants = [g for _ in procs for g in out.get(timeout=180)]
        elapsed = time.time() - started
        for p in procs:
            p.join(timeout=30)
    finally:
        client = redis.Redis.from_url(URL)
        keys = list(client.scan_iter(match=f"{ns}:*"))
        if keys:
            client.delete(*keys)
    assert len(grants) >= GOAL  # the budget was really used, not refused throughout

    def most_in_a_window(stamps: list[tuple[float, float]]) -> int:
        # Redis stamps a grant between `before` and `after` (same clock on one machine):
        # count the grants surely inside [t, t + 1 s), for t at every grant's `before`
        return max(sum(1 for b, a in stamps if b >= t and a < t + 1.0) for t, _ in stamps)

    creates = [(b, a) for kind, b, a in grants if kind == "create"]
    assert most_in_a_window(creates) <= 5
    assert most_in_a_window([(b, a) for _, b, a in grants]) <= 8
    assert len(grants) <= 8 * math.ceil(elapsed) + 8  # however long it took, never above the windows


# --- headers ---------------------------------------------------------------------------


def _iso(seconds_ahead: float, now: float = Clock().now) -> str:
    when = datetime.fromtimestamp(now, UTC) + timedelta(seconds=seconds_ahead)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


NO_RATES: tuple[RateLimit, ...] = ()


@pytest.mark.parametrize(
    ("headers", "status", "low", "high"),
    [
        ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "ISO+3"}, 200, 2.0, 3.1),
        ({"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": "EPOCH+5",
          "ratelimit-policy": "5000;w=3600"}, 200, 3.9, 5.1),
        ({"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"}, 200, 6.5, 7.0),
        ({"RateLimit": '"default";r=0;t=4', "RateLimit-Policy": '"default";q=100;w=60'}, 200, 3.5, 4.0),
        ({"RateLimit": "limit=100, remaining=0, reset=6"}, 200, 5.5, 6.0),
        ({"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "EPOCH+8"},
         200, 6.9, 8.1),
        ({"Retry-After": "9"}, 429, 8.5, 9.0),
        ({"Retry-After": "DATE+6"}, 429, 4.5, 6.1),
        ({"X-RateLimit-Remaining": "12", "Retry-After": "5"}, 429, 4.5, 5.0),
    ],
    ids=["mastodon-iso", "bluesky-epoch", "ietf-delta", "ietf-structured", "ietf-old", "x", "retry-secs",
         "retry-date", "429-retry-wins"],
)
def test_headers_pause_the_account_before_a_refusal(
    rl: RateLimiter, clock: Clock, headers: dict[str, str], status: int, low: float, high: float
) -> None:
    now = clock.now
    subst = {
        "ISO+3": _iso(3, now), "EPOCH+5": str(int(now) + 5), "EPOCH+8": str(int(now) + 8),
        "DATE+6": email.utils.formatdate(now + 6, usegmt=True),
    }
    headers = {k: subst.get(v, v) for k, v in headers.items()}
    a = acct()
    rl.observe(a, headers, status)
    wait = rl.acquire(a, "request", NO_RATES)
    assert low < wait <= high
    other = RateLimiter(URL, rl.namespace, pace=False, clock=clock)  # another worker sees the pause
    assert other.acquire(a, "create", (RateLimit("create", 9, 60),)) > low


def test_plenty_remaining_or_garbage_does_not_pause(rl: RateLimiter) -> None:
    a = acct()
    plenty = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "250", "X-RateLimit-Reset": _iso(60)}
    assert rl.observe(a, plenty, 200) == 0
    bad = {"X-RateLimit-Remaining": "lots", "X-RateLimit-Reset": "soon", "Retry-After": "never",
           "RateLimit": ";;r=;t"}
    assert rl.observe(a, bad, 200) == 0
    assert rl.acquire(a, "create", NO_RATES) == 0.0


def test_a_bare_429_pauses_for_the_default(ns: str) -> None:
    rl = RateLimiter(URL, ns, time_scale=0.1, pace=False)
    a = acct()
    assert rl.observe(a, {}, 429) == pytest.approx(DEFAULT_PAUSE * 0.1)
    assert DEFAULT_PAUSE * 0.1 - 0.5 < rl.acquire(a, "create", NO_RATES) <= DEFAULT_PAUSE * 0.1


def test_hostile_retry_after_is_capped(rl: RateLimiter) -> None:
    a = acct()
    rl.observe(a, {"Retry-After": str(10**12)}, 429)
    assert MAX_PAUSE - 5 < rl.acquire(a, "create", NO_RATES) <= MAX_PAUSE


def test_penalize_never_shortens_a_longer_pause(rl: RateLimiter) -> None:
    a = acct()
    rl.penalize(a, 10)
    rl.penalize(a, 1)
    assert 9.5 < rl.acquire(a, "update", NO_RATES) <= 10
    rl.penalize(a, 20)
    assert 19.5 < rl.acquire(a, "update", NO_RATES) <= 20


def test_low_remaining_spaces_the_calls_left(rl: RateLimiter, clock: Clock) -> None:
    a = acct()
    # 4 left of 100 for the next 2 s: one call every 0.5 s
    rl.observe(a, {"RateLimit-Limit": "100", "RateLimit-Remaining": "4", "RateLimit-Reset": "2"}, 200)
    first = rl.acquire(a, "create", NO_RATES)
    assert first == pytest.approx(0.5)
    clock.advance(0.3)
    assert rl.acquire(a, "create", NO_RATES) == pytest.approx(0.2)
    clock.advance(0.2)
    assert rl.acquire(a, "create", NO_RATES) == 0.0
    assert rl.acquire(a, "create", NO_RATES) == pytest.approx(0.5)  # the grant pushed the next slot on
    # a fresh response with room again stops the spacing
    rl.observe(a, {"RateLimit-Limit": "100", "RateLimit-Remaining": "80", "RateLimit-Reset": "2"}, 200)
    assert rl.acquire(a, "create", NO_RATES) == 0.0
    assert rl.acquire(a, "create", NO_RATES) == 0.0


def test_a_kind_bucket_pauses_only_that_kind(rl: RateLimiter) -> None:
    a = acct()
    # Mastodon media: 30 per 30 min, its own bucket; statuses go on meanwhile
    rl.observe(a, {"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": _iso(20)}, 200,
               kind="media")
    assert 18 < rl.acquire(a, "media", NO_RATES) <= 20.1
    assert rl.acquire(a, "create", NO_RATES) == 0.0
    rl.penalize(a, 5)  # an account-wide pause holds up every kind
    assert 4 < rl.acquire(a, "create", NO_RATES) <= 5


def test_a_429_with_only_a_reset_waits_for_that_reset(rl: RateLimiter) -> None:
    a = acct()
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "4"}
    pause = rl.observe(a, headers, 429)
    assert pause == pytest.approx(4.0, abs=0.05)
    assert 3.5 < rl.acquire(a, "create", NO_RATES) <= 4.0


def test_read_headers_families() -> None:
    now = 1_800_000_000.0
    assert read_headers({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "7",
                         "X-RateLimit-Reset": "2027-01-15T08:00:30Z"}, now) == [(300, 7, 30.0)]
    assert read_headers({"RateLimit-Remaining": "2", "RateLimit-Reset": "1800000042",
                         "RateLimit-Policy": "5000;w=3600"}, now) == [(5000, 2, 42.0)]
    assert read_headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"}, now) == [(None, 0, 1.5)]
    assert read_headers({"Content-Type": "text/html"}, now) == []


def test_require_raises_a_picklable_rate_limited(rl: RateLimiter) -> None:
    a, rates = acct(), (RateLimit("create", 1, 30),)
    rl.require(a, "create", rates)
    with pytest.raises(RateLimited) as info:
        rl.require(a, "create", rates)
    assert 0 < info.value.retry_after <= 30 + margin(30)
    assert pickle.loads(pickle.dumps(info.value)).retry_after == info.value.retry_after


def test_redis_down_is_transient_and_hides_the_password() -> None:
    rl = RateLimiter("redis://:hunter2@127.0.0.1:1/0", "test:rl:down")
    assert "hunter2" not in repr(rl)
    with pytest.raises(Transient) as info:
        rl.acquire("devto:x:y", "create", (RateLimit("create", 1, 1),))
    assert "hunter2" not in str(info.value)
    with pytest.raises(Transient):
        rl.penalize("devto:x:y", 3)


# --- config overrides and account keys ------------------------------------------------

DEVTO = (RateLimit("create", 10, 30), RateLimit("update", 30, 30))
MASTODON = (RateLimit("request", 300, 300), RateLimit("media", 30, 1800))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5/30s", (5, 30)), ("100/5m", (100, 300)), ("7/1h", (7, 3600)), ("5 per 30 seconds", (5, 30)),
     ("2/s", (2, 1)), ("3 per minute", (3, 60)), ("1/1.5m", (1, 90)), ("9 / 2 HOURS", (9, 7200))],
)
def test_parse_rate(text: str, expected: tuple[int, int]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "5", "five/30s", "0/30s", "5/0.5s", "5/30 fortnights", "-1/1s"])
def test_parse_rate_refuses(text: str) -> None:
    with pytest.raises(RateSpecError):
        parse_rate(text)


def test_config_can_lower_and_the_limiter_obeys(rl: RateLimiter) -> None:
    rates = effective_rates(DEVTO, {"create": "2/30s", "request": "100/5m"})
    assert RateLimit("create", 2, 30) in rates and RateLimit("update", 30, 30) in rates
    assert RateLimit("request", 100, 300) in rates
    a = acct()
    assert rl.acquire(a, "create", rates) == rl.acquire(a, "create", rates) == 0.0
    assert rl.acquire(a, "create", rates) > 0
    assert effective_rates(MASTODON, {"request": "1/1s"})[0] == RateLimit("request", 1, 1)  # 300 per 300 s at most
    assert effective_rates(DEVTO, None) == DEVTO


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"create": "20/30s"}, "above the platform's documented 10/30s"),
        ({"create": "6/15s"}, "could allow 12 per 30s"),  # two bursts fit in one 30 s span
        ({"request": "301/5m"}, "documented 300/300s"),
        ({"creat": "5/30s"}, "unknown kind"),
        ({"create": 5}, "not a rate"),
        ({"update": "lots"}, "rate_limits.update"),
    ],
)
def test_config_cannot_raise(overrides: dict[str, object], message: str) -> None:
    declared = DEVTO + MASTODON
    with pytest.raises(ValueError, match=message):
        effective_rates(declared, overrides)


def test_config_lowers_a_shared_budget_but_not_below_one_call() -> None:
    bsky = (RateLimit("write-points:create", 5000, 3600, cost=3),
            RateLimit("write-points:delete", 5000, 3600, cost=1))
    lowered = effective_rates(bsky, {"write-points": "300/1h"})
    assert {(r.kind, r.amount, r.cost) for r in lowered} == {
        ("write-points:create", 300, 3), ("write-points:delete", 300, 1)}
    with pytest.raises(RateSpecError, match="below the cost of one create"):
        effective_rates(bsky, {"write-points": "2/1h"}, where="targets.bsky.rate_limits")


def test_account_key_never_holds_the_token() -> None:
    token = "s3cr3t-token-value"
    key = account_key("mastodon", "https://Mastodon.Social/", Secret(token))
    assert token not in key and key.startswith("mastodon:https://mastodon.social:")
    assert key == account_key("mastodon", "https://mastodon.social", token)
    assert key != account_key("mastodon", "https://mastodon.social", "another-token")
    assert account_key("mastodon", "https://mastodon.social", None).endswith(":-")
    wp = account_key("wordpress", "https://EXAMPLE.org/Blog/", "t")
    assert wp.startswith("wordpress:https://example.org/Blog:")


def test_bad_construction_is_refused() -> None:
    with pytest.raises(ValueError, match="namespace"):
        RateLimiter(URL, "a{b}")
    with pytest.raises(ValueError, match="time_scale"):
        RateLimiter(URL, "ok", time_scale=0)
