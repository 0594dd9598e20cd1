"""Per-account rate limits shared by every worker and machine, kept in Redis.

Each connector declares its platform's documented windows (`Limits.rates`, see
../shared/PLATFORMS.md §g); the config may lower them (`effective_rates`).
Before each platform call a task asks `RateLimiter.acquire`, which never
blocks: it takes a slot in every applicable window, or returns how long to wait
so that the task is re-scheduled instead of sleeping in its worker slot
(`require` raises `RateLimited(retry_after)` for that). After each call,
`observe` reads the platform's own rate-limit headers and slows the account down
before it is refused.

Algorithm: the moving window of the `limits` package (one timestamp per unit in
a Redis list, newest first), chosen over its sliding-window *counter* because it
is exact: no span of a window's length ever holds more than `amount` grants, so
a platform's fixed or moving window is never overrun; the cost is one list entry
per unit (at most `amount` per window). `limits` takes one window per call, so
taking several windows at once is a small Lua script over the same key layout
(the library's `MovingWindowRateLimiter` reads the very same keys in `stats`).
Guarantee: the script runs atomically in Redis, on the Redis server's clock,
so across any number of workers a call takes every applicable window or none,
and no window is ever overrun. All of an account's keys share one hash tag
(Redis Cluster safe).

Windows sharing one budget at different costs (Bluesky: 5,000 write points per
hour, create 3, update 2, delete 1) are declared as kind "<budget>:<kind>", e.g.
`RateLimit("write-points:create", 5000, 3600, cost=3)`. Kind "request" applies
to every call.
"""
from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import redis
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats

from syndicate.contract import RateLimit, Throttled, Transient, parse_retry_after

REQUEST = "request"
OPERATION_KINDS = frozenset({"create", "update", "delete", "request", "media"})
LOW_FRACTION = 0.1  # pace once remaining <= 10% of the limit
DEFAULT_PAUSE = 60.0  # a 429 (or remaining 0) that says nothing about when to come back
MAX_PAUSE = 86_400.0  # never believe a header asking for more than a day (Bluesky's longest window)
_MIN_WAIT = 0.001

# Pause and pacing live in two scopes: the whole account, and one kind (a
# platform bucket of its own, e.g. Mastodon media). KEYS: pause, pace, next for
# the account, the same for the kind, then one list per window; ARGV: limit,
# window seconds, units for each window. Returns "0" when every window was
# taken, else the seconds to wait (a string: Redis truncates Lua numbers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
local gaps = {}
for s = 0, 3, 3 do
  local paused = tonumber(redis.call('GET', KEYS[s + 1]) or '0')
  if paused > now then wait = math.max(wait, paused - now) end
  gaps[s] = tonumber(redis.call('GET', KEYS[s + 2]) or '0')
  if gaps[s] > 0 then
    local nxt = tonumber(redis.call('GET', KEYS[s + 3]) or '0')
    if nxt > now then wait = math.max(wait, nxt - now) end
  end
end
for i = 7, #KEYS do
  local j = (i - 7) * 3
  local entry = redis.call('LINDEX', KEYS[i], tonumber(ARGV[j + 1]) - tonumber(ARGV[j + 3]))
  if entry then
    local free_at = tonumber(entry) + tonumber(ARGV[j + 2])
    if free_at >= now then wait = math.max(wait, free_at - now, 0.001) end
  end
end
if wait > 0 then return string.format('%.6f', wait) end
local stamp = string.format('%.6f', now)
for i = 7, #KEYS do
  local j = (i - 7) * 3
  local limit, units = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 3])
  local batch = {}
  for k = 1, math.min(units, 1000) do batch[k] = stamp end
  for k = 1, units, 1000 do
    redis.call('LPUSH', KEYS[i], unpack(batch, 1, math.min(1000, units - k + 1)))
  end
  redis.call('LTRIM', KEYS[i], 0, limit - 1)
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[j + 2]) * 1000))
end
for s = 0, 3, 3 do
  if gaps[s] > 0 then
    local ttl = redis.call('PTTL', KEYS[s + 2])
    if ttl > 0 then redis.call('SET', KEYS[s + 3], string.format('%.6f', now + gaps[s]), 'PX', ttl) end
  end
end
return '0'
"""

# Pacing on top of the exact windows, so that grants are spread `spacing`
# apart instead of coming in bursts (jitter on the way to the platform turns a
# burst at a window's edge into a 429), and so that waiting callers are queued
# instead of all waking at once.
# KEYS: the scope's reserved slots (a sorted set of times) and its tail (the
# next free slot). ARGV[1]: the spacing.
# _PACE returns "0" when the caller may try the windows now (it consumed a slot
# that came due, or the queue is empty), else the wait until the slot reserved
# for it; ARGV[2] is the burst allowed on a quiet account (half a window's
# amount, as seconds of tail). _RESERVE (ARGV[1]: the wait the windows gave) queues a caller the
# windows refused, at the later of that wait and the tail.
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local spacing, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now + 0.005), 'LIMIT', 0, 1)
if due[1] then
  redis.call('ZREM', KEYS[1], due[1])
  return '0'
end
local tail = tonumber(redis.call('GET', KEYS[2]) or '0')
local ttl = math.ceil(spacing * 1000) + 60000
if tail <= now + burst then
  redis.call('SET', KEYS[2], string.format('%.6f', math.max(tail, now) + spacing), 'PX', ttl + math.ceil(burst * 1000))
  return '0'
end
local slot = tail - burst
redis.call('ZADD', KEYS[1], slot, string.format('%.6f', slot))
redis.call('SET', KEYS[2], string.format('%.6f', tail + spacing), 'PX', math.ceil((tail - now) * 1000) + ttl)
redis.call('PEXPIRE', KEYS[1], math.ceil((tail - now) * 1000) + ttl)
return string.format('%.6f', slot - now)
"""

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local spacing, burst = tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = tonumber(ARGV[1])
if wait < spacing then
  -- a moment early for the window (its slot came, the window frees a little later):
  -- it keeps its place, in a slot of its own just after
  local slot = now + wait
  redis.call('ZADD', KEYS[1], slot, string.format('%.6f', slot))
  redis.call('PEXPIRE', KEYS[1], math.ceil(wait * 1000) + 60000)
  return string.format('%.6f', wait)
end
local tail = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(tail - burst, now + wait)
local ttl = math.ceil((slot - now + spacing + burst) * 1000) + 60000
redis.call('ZADD', KEYS[1], slot, string.format('%.6f', slot))
redis.call('SET', KEYS[2], string.format('%.6f', math.max(tail, slot) + spacing), 'PX', ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return string.format('%.6f', slot - now)
"""

# KEYS: pause, pace, next of one scope; ARGV: pause seconds (0: none), gap
# seconds (0: none), seconds until the platform's reset, "1" to stop pacing.
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause, gap, reset, calm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
if pause > 0 and now + pause > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.6f', now + pause), 'PX', math.ceil(pause * 1000))
end
if gap > 0 then
  local ttl = math.ceil(reset * 1000)
  redis.call('SET', KEYS[2], string.format('%.6f', gap), 'PX', ttl)
  if now + gap > tonumber(redis.call('GET', KEYS[3]) or '0') then
    redis.call('SET', KEYS[3], string.format('%.6f', now + gap), 'PX', ttl)
  end
elseif calm == '1' then
  redis.call('DEL', KEYS[2], KEYS[3])
end
return 1
"""


def margin(window: float) -> float:
    """How long after its window a slot frees: 1% of it, at least 50 ms, at most 1 s."""
    return min(1.0, max(0.05, window * 0.01))


class RateSpecError(ValueError):
    """A `rate_limits` override that cannot be used; the message says which and why."""


# --- account keys -------------------------------------------------------------


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


# --- config overrides ---------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPEC = re.compile(
    r"^\s*(\d+)\s*(?:/|per\b)\s*(\d+(?:\.\d+)?)?\s*"
    r"(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$",
    re.IGNORECASE,
)
_SPEC_HELP = 'use "N/30s", "N/5m", "N/1h", "N/1d" or "N per 30 seconds"'


def parse_rate(text: str) -> tuple[int, int]:
    """`"10/30s"`, `"300/5m"`, `"5 per 30 seconds"` → (amount, seconds)."""
    match = _SPEC.match(text) if isinstance(text, str) else None
    if not match:
        raise RateSpecError(f"{text!r} is not a rate ({_SPEC_HELP})")
    amount = int(match.group(1))
    seconds = float(match.group(2) or 1) * _UNITS[match.group(3)[0].lower()]
    if amount < 1:
        raise RateSpecError(f"{text!r}: the amount must be at least 1")
    if seconds < 1 or seconds != int(seconds):
        raise RateSpecError(f"{text!r}: the window must be a whole number of seconds, at least 1")
    return amount, int(seconds)


def budget_of(rate: RateLimit) -> str:
    """The budget a window draws from: "write-points" for kind "write-points:create"."""
    return rate.kind.split(":", 1)[0]


def applies_to(rate: RateLimit) -> str:
    """The call kind a window is charged for: "create" for kind "write-points:create"."""
    return rate.kind.rsplit(":", 1)[-1]


def _fmt(amount: int, seconds: int) -> str:
    return f"{amount}/{seconds}s"


def effective_rates(
    declared: Sequence[RateLimit], config_overrides: Mapping[str, Any] | None, where: str = "rate_limits"
) -> tuple[RateLimit, ...]:
    """The declared windows, lowered by the config (`{create = "5/30s"}`); raising is refused.

    An override replaces every declared window of that kind (or budget). It must
    never allow more than a declared window in any span of that window's length.
    """
    if not config_overrides:
        return tuple(declared)
    if not isinstance(config_overrides, Mapping):
        raise RateSpecError(f"{where}: expected a table like {{ create = \"5/30s\" }}")
    rates = list(declared)
    for name, spec in config_overrides.items():
        try:
            amount, seconds = parse_rate(spec)
        except RateSpecError as exc:
            raise RateSpecError(f"{where}.{name}: {exc}") from None
        hits = [i for i, r in enumerate(rates) if r.kind == name or budget_of(r) == name]
        if not hits:
            if name not in OPERATION_KINDS:
                known = sorted(OPERATION_KINDS | {budget_of(r) for r in declared})
                raise RateSpecError(f"{where}.{name}: unknown kind (known: {', '.join(known)})")
            rates.append(RateLimit(name, amount, seconds))
            continue
        for i in hits:
            old = rates[i]
            # the most a moving window of (amount, seconds) admits in a span of old.seconds
            most = amount * math.ceil(old.seconds / seconds)
            if most > old.amount:
                raise RateSpecError(
                    f"{where}.{name}: {spec!r} could allow {most} per {old.seconds}s, above the "
                    f"platform's documented {_fmt(old.amount, old.seconds)}; overrides may only lower it"
                )
            if old.cost > amount:
                raise RateSpecError(
                    f"{where}.{name}: {spec!r} is below the cost of one {applies_to(old)} ({old.cost})"
                )
            rates[i] = replace(old, amount=amount, seconds=seconds)
    return tuple(dict.fromkeys(rates))


# --- headers --------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*$")
_PARAM = re.compile(r"(?:^|[;,\s])(r|t|q|limit|remaining|reset)\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_LEADING = re.compile(r"^\s*(\d+)\s*(?:;|$)")
_FAMILIES = ("x-ratelimit-", "x-rate-limit-", "ratelimit-")


class Quota(NamedTuple):
    """What one family of rate-limit headers says: limit, remaining, seconds to reset."""

    limit: int | None
    remaining: int | None
    reset: float | None


def _reset_delta(raw: str | None, now: float) -> float | None:
    """Seconds until a reset given as delta seconds, epoch seconds or an ISO 8601 time."""
    if not raw:
        return None
    match = _NUMBER.match(raw)
    if match:
        number = float(match.group(1))
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    try:
        when = datetime.fromisoformat(raw.strip())  # Mastodon: 2026-11-28T17:00:00.000Z
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def _int(raw: str | None) -> int | None:
    match = _NUMBER.match(raw) if raw else None
    return int(float(match.group(1))) if match else None


def _params(value: str) -> dict[str, str]:
    return {k.lower(): v for k, v in _PARAM.findall(value)}


def _policy_limit(policy: str | None) -> int | None:
    """The quota of `RateLimit-Policy`: `5000;w=3600` (Bluesky) or `"default";q=100;w=60` (IETF)."""
    if not policy:
        return None
    lead = _LEADING.match(policy)
    return _int(lead.group(1) if lead else _params(policy).get("q"))


def read_headers(headers: Mapping[str, str], now: float | None = None) -> list[Quota]:
    """Every quota a response states, one per header family present.

    X-RateLimit-* (Mastodon, Discord), x-rate-limit-* (X), RateLimit-*
    (Bluesky, IETF draft) and the IETF draft's single `RateLimit` header.
    """
    now = time.time() if now is None else now
    h = {k.lower(): v for k, v in headers.items() if k[:1] in "xXrR"}
    found = []
    for prefix in _FAMILIES:
        limit, remaining = _int(h.get(prefix + "limit")), _int(h.get(prefix + "remaining"))
        reset = _reset_delta(h.get(prefix + "reset-after"), now)  # Discord: seconds
        if reset is None:
            reset = _reset_delta(h.get(prefix + "reset"), now)
        if limit is None and prefix == "ratelimit-":
            limit = _policy_limit(h.get("ratelimit-policy"))
        if remaining is not None or reset is not None:
            found.append(Quota(limit, remaining, reset))
    if "ratelimit" in h:
        params = _params(h["ratelimit"])
        remaining = _int(params.get("r") or params.get("remaining"))
        reset = _reset_delta(params.get("t") or params.get("reset"), now)
        limit = _int(params.get("limit")) or _policy_limit(h.get("ratelimit-policy"))
        if remaining is not None or reset is not None:
            found.append(Quota(limit, remaining, reset))
    return found


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                return val
    return value


# --- the limiter ----------------------------------------------------------------

_Plan = list[tuple[RateLimitItemPerSecond, str, int]]  # (window, budget, units)


class RateLimiter:
    """Per-account windows in Redis, shared by every worker. Never blocks."""

    def __init__(
        self, redis_url: str | redis.Redis, namespace: str = "syndicate:rl", *, time_scale: float = 1.0,
        pace: bool = True,
    ) -> None:
        if not namespace or any(c in namespace for c in "{}*?[] "):
            raise ValueError(f"rate limiter namespace {namespace!r}: non-empty, without {{}}*?[] or spaces")
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        if isinstance(redis_url, str):
            self._storage = RedisStorage(redis_url, key_prefix=namespace)
        else:
            pool = redis_url.connection_pool
            self._storage = RedisStorage("redis://", connection_pool=pool, key_prefix=namespace)
        self._client = self._storage.get_connection()
        self._moving = MovingWindowRateLimiter(self._storage)
        self.namespace = namespace
        self.time_scale = time_scale
        self.pace = pace  # spread grants and queue waiters (see _PACE); False: the bare windows
        self._acquire = self._client.register_script(_ACQUIRE)
        self._observe = self._client.register_script(_OBSERVE)
        self._reserve = self._client.register_script(_RESERVE)
        self._pace = self._client.register_script(_PACE)
        self._plans: dict[tuple[tuple[RateLimit, ...], str, int], _Plan] = {}

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"RateLimiter(namespace={self.namespace!r}, time_scale={self.time_scale})"

    def seconds(self, seconds: float) -> int:
        """A declared window length after `time_scale` (whole seconds, at least 1)."""
        return max(1, math.ceil(seconds * self.time_scale - 1e-9))

    def _plan(self, rates: Sequence[RateLimit], kind: str, cost: int) -> _Plan:
        """The windows a call of `kind` is charged to, worked out once per (rates, kind, cost)."""
        key = (tuple(rates), kind, cost)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        if cost < 1:
            raise ValueError(f"cost must be at least 1, got {cost}")
        windows: dict[str, tuple[RateLimitItemPerSecond, str, int]] = {}
        for rate in key[0]:
            if rate.kind != REQUEST and applies_to(rate) != kind:
                continue
            units = rate.cost * cost
            if units > rate.amount:
                window = f"{rate.kind} {_fmt(rate.amount, rate.seconds)}"
                raise ValueError(f"a {kind} costs {units}, more than the window {window} holds")
            item = RateLimitItemPerSecond(rate.amount, self.seconds(rate.seconds))
            name = item.key_for(budget_of(rate))
            if name not in windows or windows[name][2] < units:
                windows[name] = (item, budget_of(rate), units)
        if len(self._plans) >= 1024:
            self._plans.clear()
        plan = self._plans[key] = list(windows.values())
        return plan

    def _scope(self, account: str, kind: str | None) -> list[str]:
        base = f"{self.namespace}:{_tag(account)}:{kind or '*'}:"
        return [base + "pause", base + "pace", base + "next"]

    def acquire(self, account: str, kind: str, rates: Sequence[RateLimit], cost: int = 1) -> float:
        """Take a slot in every window for `kind` (and "request"), or none: 0.0, or seconds to wait."""
        keys = self._scope(account, None) + self._scope(account, kind)
        args: list[int] = []
        tag = _tag(account)
        spacing, burst = 0.0, float("inf")
        for item, budget, units in self._plan(rates, kind, cost):
            keys.append(self._storage.prefixed_key(item.key_for(tag, budget)))
            # a slot frees a little after the window: requests reach the platform with some
            # jitter, and one that arrives early would find the platform's window still full
            window = item.get_expiry() + margin(item.get_expiry())
            args += (item.amount, window, units)
            spacing = max(spacing, window * units / item.amount)
            burst = min(burst, window * units * max(0, item.amount // (2 * units) - 1) / item.amount)
        try:
            queue = [self._scope(account, kind)[0] + ":slots", self._scope(account, kind)[0] + ":tail"]
            if spacing > 0 and self.pace:
                # paced, not bursty: a caller takes a slot that has come due, or the next
                # free one if none is waiting, else queues for its own future slot
                wait = float(self._pace(keys=queue, args=[f"{spacing:.6f}", f"{burst:.6f}"]))
                if wait > 0:
                    return wait
            wait = float(self._acquire(keys=keys, args=args))
            if wait > 0 and spacing > 0 and self.pace:
                # the windows are full (a pause, or grants from before): queue for a slot after them
                wait = float(self._reserve(keys=queue, args=[f"{wait:.6f}", f"{spacing:.6f}", f"{burst:.6f}"]))
            return wait
        except redis.RedisError as exc:
            raise Transient(f"rate limiter: Redis unavailable ({type(exc).__name__})") from None

    def require(self, account: str, kind: str, rates: Sequence[RateLimit], cost: int = 1) -> None:
        """`acquire`, raising `RateLimited(retry_after)` when the task must come back later."""
        wait = self.acquire(account, kind, rates, cost)
        if wait > 0:
            raise Throttled(f"rate limit ({kind}): next slot in {wait:.1f}s", wait)

    def observe(self, account: str, headers: Mapping[str, str], status: int, kind: str | None = None) -> float:
        """Slow the account down from a response's rate-limit headers; returns the pause set (s).

        Remaining 0, or a 429, pauses until the reset (or Retry-After, else
        DEFAULT_PAUSE); remaining at or below 10% of the limit spaces the calls
        left evenly until the reset; plenty remaining stops the spacing. Give
        `kind` when the platform keeps a separate bucket for it (Mastodon media)
        so that it does not hold up other calls. Header times are not scaled.
        """
        now = time.time()
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
                gap, until_reset = max(gap, quota.reset / quota.remaining), max(until_reset, quota.reset)
            else:
                calm = True
        retry = parse_retry_after(_header(headers, "retry-after"), now)
        if retry is not None:
            pause = max(pause, retry)
        elif status == 429 and pause <= 0:
            pause = max(resets) if resets and max(resets) > 0 else DEFAULT_PAUSE * self.time_scale
        pause, gap, until_reset = min(pause, MAX_PAUSE), min(gap, MAX_PAUSE), min(until_reset, MAX_PAUSE)
        if pause > 0 or gap > 0 or calm:
            self._set(account, kind, pause, gap, until_reset, calm and gap <= 0)
        return pause

    def penalize(self, account: str, seconds: float, kind: str | None = None) -> None:
        """Pause the account (or one kind) for `seconds`, e.g. after a 429 with Retry-After."""
        if seconds > 0:
            self._set(account, kind, min(float(seconds), MAX_PAUSE), 0.0, 0.0, False)

    def _set(self, account: str, kind: str | None, pause: float, gap: float, reset: float, calm: bool) -> None:
        args = [f"{pause:.6f}", f"{gap:.6f}", f"{reset:.6f}", "1" if calm else "0"]
        try:
            self._observe(keys=self._scope(account, kind), args=args)
        except redis.RedisError as exc:
            raise Transient(f"rate limiter: Redis unavailable ({type(exc).__name__})") from None

    def stats(self, account: str, rate: RateLimit) -> WindowStats:
        """(reset time, remaining) of one window, read by the `limits` library (on this host's clock)."""
        item = RateLimitItemPerSecond(rate.amount, self.seconds(rate.seconds))
        return self._moving.get_window_stats(item, _tag(account), budget_of(rate))

    def clear(self, account: str) -> int:
        """Forget an account's windows, pauses and pacing (SCANs the database: admin use)."""
        names = list(self._client.scan_iter(match=f"{self.namespace}:*{_tag(account)}*", count=1000))
        return int(self._client.delete(*names)) if names else 0


class Throttle:
    """One target account's view of the shared limiter, called by `Connector.send` around each call.

    `before` takes a slot or raises `RateLimited(wait)`, so a task that must
    wait gives its worker slot back instead of sleeping in it; `after` lets the
    platform's rate-limit headers slow the account down before it is refused.
    """

    def __init__(self, limiter: RateLimiter, account: str, rates: Sequence[RateLimit]) -> None:
        self.limiter = limiter
        self.account = account
        self.rates = tuple(rates)

    def before(self, kind: str) -> None:
        self.limiter.require(self.account, kind, self.rates)

    def after(self, response: Any, kind: str) -> None:
        self.limiter.observe(self.account, response.headers, response.status_code,
                             kind="media" if kind == "media" else None)
