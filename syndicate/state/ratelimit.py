"""Per-account rate limits shared by every worker and machine, kept in Redis.

Each connector declares its platform's documented windows (`Limits.rates`, see
../shared/PLATFORMS.md §g); the config may lower them (`effective_rates`).
Before each platform call a task asks `RateLimiter.acquire`, which never
blocks: it takes a slot in every applicable window, or returns how long to wait
so that the task is re-scheduled instead of sleeping in its worker slot
(`require` raises `Throttled(retry_after)` for that). After each call,
`observe` reads the platform's own rate-limit headers and slows the account down
before it is refused.

Algorithm: a sliding log per (account, budget, window) in a Redis sorted set,
one member per grant scored by its time. It is exact: no span of a window's
length ever holds more than `amount` units, so a platform's fixed or moving
window is never overrun. A member is "<units so far>:<units>" (a running total,
zero-padded),
so the units in a window are two lookups however costly each grant was. One Lua
script, on the Redis server's clock (TIME), checks the pacing queue, the pauses
and every applicable window and takes all of them or none, so across any
number of workers nothing is ever overrun. We own the key layout, every key
under `namespace` and expiring when idle:

    {ns}:{tag}:w:{budget}:{seconds}       the log of one window
    {ns}:{tag}:{kind|*}:pause|pace|next   header-learnt pause and spacing (account, one kind)
    {ns}:{tag}:{kind}:slots|tail          the pacing queue of one kind

`tag` is a hash of the account in braces (Redis Cluster: one node per account).
Windows sharing one budget at different costs (Bluesky: 5,000 write points per
hour, create 3, update 2, delete 1) are declared as kind "<budget>:<kind>", e.g.
`RateLimit("write-points:create", 5000, 3600, cost=3)`. Kind "request" applies
to every call. Tests may inject `clock` (seconds, a float); production uses TIME.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import redis

from syndicate.errors import Throttled, Transient
from syndicate.state.limits import RateLimit, parse_retry_after
from syndicate.state.ratequota import (
    OPERATION_KINDS,
    REQUEST,
    Quota,
    RateSpecError,
    applies_to,
    budget_of,
    effective_rates,
    header_value,
    parse_rate,
    read_headers,
)
from syndicate.state.ratescripts import ACQUIRE, OBSERVE, STATS

__all__ = [
    "DEFAULT_PAUSE", "MAX_PAUSE", "OPERATION_KINDS", "REQUEST", "Quota", "RateLimiter", "RateSpecError",
    "Throttle", "WindowStats", "account_key", "applies_to", "budget_of", "effective_rates", "margin",
    "parse_rate", "read_headers",
]

LOW_FRACTION = 0.1  # pace once remaining <= 10% of the limit
MAX_GAP = 1.0  # ...but never more than a second apart (header times: real seconds)
DEFAULT_PAUSE = 60.0  # a 429 (or remaining 0) that says nothing about when to come back
MAX_PAUSE = 86_400.0  # never believe a header asking for more than a day (Bluesky's longest window)

def margin(window: float) -> float:
    """How long after its window a slot frees: 2% of it, at least 100 ms, at most 2 s. A request reaches
    the platform some time after its grant, and an earlier one may arrive later still; one that arrives
    early finds the platform's window still full. (250 ms made a 1-a-second limit 25% slower and still
    let a rare 429 through in bench_backfill's scaled windows: 100 ms it is, and a 429 is honoured.)"""
    return min(2.0, max(0.1, window * 0.02))


class WindowStats(NamedTuple):
    """One window of one account: when its oldest grant leaves (clock seconds), units left."""

    reset_time: float
    remaining: int


def account_key(target_type: str, base_url: str, secret: Any = None) -> str:
    """One key per target account: type, base URL and a short hash of the token (never the token)."""
    value = secret.reveal() if hasattr(secret, "reveal") else secret
    digest = hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:12] if value else "-"
    url = urlsplit(base_url.strip())
    where = base_url.strip()
    if url.netloc:  # scheme and host are case-insensitive, the path is not
        where = f"{url.scheme.lower()}://{url.netloc.lower()}{url.path.rstrip('/')}"
    return f"{target_type}:{where}:{digest}"


@lru_cache(maxsize=4096)
def _tag(account: str) -> str:
    # a Redis Cluster hash tag: every key of one account lands on one node
    return "{" + hashlib.sha256(account.encode("utf-8")).hexdigest()[:16] + "}"


class _Window(NamedTuple):
    name: str  # "{budget}:{seconds}"
    amount: int
    seconds: float  # the scaled window plus its margin
    units: int


class RateLimiter:
    """Per-account windows in Redis, shared by every worker. Never blocks."""

    calm_rides_along = True  # `observe(defer_calm=True)`: the next `acquire` lifts the spacing

    def __init__(
        self, redis_url: str | redis.Redis, namespace: str = "syndicate:rl", *, time_scale: float = 1.0,
        pace: bool = True, clock: Callable[[], float] | None = None,
    ) -> None:
        if not namespace or any(c in namespace for c in "{}*?[] "):
            raise ValueError(f"rate limiter namespace {namespace!r}: non-empty, without {{}}*?[] or spaces")
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        self._client = redis.Redis.from_url(redis_url) if isinstance(redis_url, str) else redis_url
        self.namespace = namespace
        self.time_scale = time_scale
        self.pace = pace  # spread grants and queue waiters; False: the bare windows
        self.clock = clock  # None: the Redis server's clock
        self._acquire = self._client.register_script(ACQUIRE)
        self._observe = self._client.register_script(OBSERVE)
        self._stats = self._client.register_script(STATS)
        self._plans: dict[tuple[tuple[RateLimit, ...], str, int], tuple[list[_Window], float, float]] = {}
        self._calm: set[tuple[str, str | None]] = set()  # (account, kind): plenty left, told in the next acquire

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"RateLimiter(namespace={self.namespace!r}, time_scale={self.time_scale})"

    def seconds(self, seconds: float) -> float:
        """A declared window length after `time_scale` (at least 1 ms): a scaled 1-per-second window
        shrinks with the others, so a scaled backfill paces Telegram and Slack as the platform would."""
        return max(0.001, round(seconds * self.time_scale, 6))

    def _now(self) -> str:
        return "" if self.clock is None else f"{self.clock():.6f}"

    def _plan(self, rates: Sequence[RateLimit], kind: str, cost: int) -> tuple[list[_Window], float, float]:
        """The windows a call of `kind` is charged to, its spacing and burst; once per (rates, kind, cost)."""
        key = (tuple(rates), kind, cost)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        if cost < 1:
            raise ValueError(f"cost must be at least 1, got {cost}")
        windows: dict[str, _Window] = {}
        for rate in key[0]:
            if rate.kind != REQUEST and applies_to(rate) != kind:
                continue
            units = rate.cost * cost
            if units > rate.amount:
                raise ValueError(f"a {kind} costs {units}, more than the window "
                                 f"{rate.kind} {rate.amount}/{rate.seconds}s holds")
            length = self.seconds(rate.seconds)
            name = f"{budget_of(rate)}:{length:g}"
            # a slot frees a little after the window: requests reach the platform with some
            # jitter, and one that arrives early would find the platform's window still full
            if name not in windows or windows[name].units < units:
                windows[name] = _Window(name, rate.amount, length + margin(length), units)
        spacing, count = 0.0, math.inf
        for w in windows.values():
            spacing = max(spacing, w.seconds * w.units / w.amount)
            # a quiet account may take its smallest window but one at once (a backfill then runs at the
            # platform's own rule: bench_backfill), the rest one spacing apart, each waiter its own slot
            count = min(count, max(0, w.amount // w.units - 1))
        burst = spacing * count  # in the slowest window's spacing: a short window caps the count, not the time
        if len(self._plans) >= 1024:
            self._plans.clear()
        plan = self._plans[key] = (list(windows.values()), spacing, 0.0 if math.isinf(burst) else burst)
        return plan

    def _scope(self, account: str, kind: str | None) -> list[str]:
        base = f"{self.namespace}:{_tag(account)}:{kind or '*'}:"
        return [base + "pause", base + "pace", base + "next"]

    def acquire(self, account: str, kind: str, rates: Sequence[RateLimit], cost: int = 1) -> float:
        """Take a slot in every window for `kind` (and "request"), or none: 0.0, or seconds to wait."""
        windows, spacing, burst = self._plan(rates, kind, cost)
        kind_scope = self._scope(account, kind)
        queue = [kind_scope[0][: -len("pause")] + "slots", kind_scope[0][: -len("pause")] + "tail"]
        keys = self._scope(account, None) + kind_scope + queue
        prefix = f"{self.namespace}:{_tag(account)}:w:"
        paced = spacing if self.pace else 0.0
        calm = 0
        if self._calm:  # what `observe(..., defer_calm=True)` left: rides along in this one call
            for bit, scope in ((1, (account, None)), (2, (account, kind))):
                if scope in self._calm:
                    self._calm.discard(scope)
                    calm |= bit
        args: list[str | int] = [self._now(), f"{paced:.6f}", f"{burst:.6f}", ":" + os.urandom(4).hex(), calm]
        for w in windows:
            keys.append(prefix + w.name)
            args += (w.amount, f"{w.seconds:.6f}", w.units)
        try:
            return float(self._acquire(keys=keys, args=args))
        except redis.RedisError as exc:
            raise Transient(f"rate limiter: Redis unavailable ({type(exc).__name__})") from None

    def require(self, account: str, kind: str, rates: Sequence[RateLimit], cost: int = 1) -> None:
        """`acquire`, raising `Throttled(retry_after)` when the task must come back later."""
        wait = self.acquire(account, kind, rates, cost)
        if wait > 0:
            raise Throttled(f"rate limit ({kind}): next slot in {wait:.1f}s", wait)

    def observe(self, account: str, headers: Mapping[str, str], status: int, kind: str | None = None, *,
                defer_calm: bool = False) -> float:
        """Slow the account down from a response's rate-limit headers; returns the pause set (s).

        Remaining 0, or a 429, pauses until the reset (or Retry-After, else
        DEFAULT_PAUSE); remaining at or below 10% of the limit spaces the calls
        left evenly until the reset, at most MAX_GAP apart; plenty remaining stops the spacing. Give
        `kind` when the platform keeps a separate bucket for it (Mastodon media)
        so that it does not hold up other calls. Header times are not scaled.

        `defer_calm` (the `Throttle`, after each call): a response that only says "plenty left" costs
        no round trip of its own; the spacing it lifts is lifted by this process's next `acquire` of the
        account, in that same script call (the only reader of the spacing is `acquire`). A pause or a
        spacing always goes out at once: every worker must slow down now.
        """
        now = time.time() if self.clock is None else self.clock()
        pause = gap = until_reset = 0.0
        resets: list[float] = []
        calm = False
        for quota in read_headers(headers, now):
            if quota.reset is not None:
                resets.append(quota.reset)
            if quota.remaining is None:
                continue
            if quota.remaining <= 0:
                pause = max(pause, quota.reset if quota.reset is not None else DEFAULT_PAUSE * self.time_scale)
            elif quota.reset and quota.remaining <= max(1.0, (quota.limit or 0) * LOW_FRACTION):
                # the calls left go one gap apart (workers reading the same stale header do not race for
                # the last one), at most MAX_GAP: spread over a long window, the last posts of a backfill
                # would wait for nothing
                gap = max(gap, min(quota.reset / quota.remaining, MAX_GAP))
                until_reset = max(until_reset, quota.reset)
            else:
                calm = True
        retry = parse_retry_after(header_value(headers, "retry-after"), now)
        if retry is not None:
            pause = max(pause, retry)
        elif status == 429 and pause <= 0:
            pause = max(resets) if resets and max(resets) > 0 else DEFAULT_PAUSE * self.time_scale
        pause, gap, until_reset = min(pause, MAX_PAUSE), min(gap, MAX_PAUSE), min(until_reset, MAX_PAUSE)
        if pause > 0 or gap > 0:
            self._calm.discard((account, kind))
            self._set(account, kind, pause, gap, until_reset, calm and gap <= 0)
        elif calm and defer_calm and self.calm_rides_along:
            self._calm.add((account, kind))
        elif calm:
            self._set(account, kind, pause, gap, until_reset, True)
        return pause

    def landed(self, account: str) -> None:
        """This thread's last granted call for `account` was answered or failed. Redis keeps the grant's
        time and its margin (`margin`); the embedded limiter dates the grant again (`SqlRateLimiter`)."""

    def penalize(self, account: str, seconds: float, kind: str | None = None) -> None:
        """Pause the account (or one kind) for `seconds`, e.g. after a 429 with Retry-After."""
        if seconds > 0:
            self._set(account, kind, min(float(seconds), MAX_PAUSE), 0.0, 0.0, False)

    def _set(self, account: str, kind: str | None, pause: float, gap: float, reset: float, calm: bool) -> None:
        args = [self._now(), f"{pause:.6f}", f"{gap:.6f}", f"{reset:.6f}", "1" if calm else "0"]
        try:
            self._observe(keys=self._scope(account, kind), args=args)
        except redis.RedisError as exc:
            raise Transient(f"rate limiter: Redis unavailable ({type(exc).__name__})") from None

    def stats(self, account: str, rate: RateLimit) -> WindowStats:
        """When one window's oldest grant leaves and how many units it has left."""
        length = self.seconds(rate.seconds)
        window = length + margin(length)
        key = f"{self.namespace}:{_tag(account)}:w:{budget_of(rate)}:{length:g}"
        used, oldest = self._stats(keys=[key], args=[self._now(), f"{window:.6f}"])
        reset = float(oldest) + window if oldest else (time.time() if self.clock is None else self.clock())
        return WindowStats(reset, rate.amount - int(used))

    def lift(self, account: str) -> None:
        """Forget the pauses the platform's headers set (`push --now`); the windows stay."""
        try:
            self._client.delete(*self._scope(account, None), *self._scope(account, "media"))
        except redis.RedisError as exc:
            raise Transient(f"rate limiter: Redis unavailable ({type(exc).__name__})") from None

    def clear(self, account: str) -> int:
        """Forget an account's windows, pauses and pacing (SCANs the database: admin use)."""
        names = list(self._client.scan_iter(match=f"{self.namespace}:{_tag(account)}:*", count=1000))
        deleted: Any = self._client.delete(*names) if names else 0  # redis-py's stubs type this for async too
        return int(deleted)


class Throttle:
    """One target account's view of the shared limiter, called by `Connector.send` around each call.

    `before` takes a slot or raises `Throttled(wait)`, so a task that must
    wait gives its worker slot back instead of sleeping in it; `after` lets the
    platform's rate-limit headers slow the account down before it is refused.
    """

    def __init__(self, limiter: RateLimiter, account: str, rates: Sequence[RateLimit]) -> None:
        self.limiter = limiter
        self.account = account
        self.rates = tuple(rates)

    def before(self, kind: str, cost: int = 1) -> None:
        """Take a slot for one call of `kind` (`cost`: how many calls it stands for, e.g. a batch)."""
        self.limiter.require(self.account, kind, self.rates, cost)

    def lift(self) -> None:
        """Forget the pauses the platform's headers set (`push --now`)."""
        self.limiter.lift(self.account)

    def landed(self) -> None:
        self.limiter.landed(self.account)

    def after(self, response: Any, kind: str) -> None:
        self.limiter.observe(self.account, response.headers, response.status_code,
                             kind="media" if kind == "media" else None, defer_calm=True)
